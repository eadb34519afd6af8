"""``deconvviz occlusion``: the occlusion sensitivity map (Zeiler & Fergus Fig. 7) as a PNG panel and .npy."""

from __future__ import annotations

import sys

from ..session.recipes import OcclusionRecipe as RECIPE


def run(r: RECIPE) -> int:
    from ..api import occlusion_map, parse_target
    from ..engine.deconv import project
    from ..figures.occlusion import occlusion_panel
    from ..figures.png import save_panel
    from ..npy import save_npy
    from ..session.pictures import frame_panel

    model = r.load_model()
    picture, frame = r.read_input()
    x = model.preprocess(picture.image)
    target = parse_target(model, r.target)
    approx = r.approximation()
    result = occlusion_map(model, x, patch=r.patch, stride=r.stride, fill=r.fill, target=target,
                           layer=r.layer, progress=_progress if sys.stderr.isatty() else None,
                           approximate=approx or False)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    projection = project(model.net, x, result.layer, result.channel)
    panel = occlusion_panel(model, x, result, projection, image_name=r.image, command=r.shell())
    save_panel(frame_panel(panel, frame), r.out)
    if r.npy:
        save_npy(r.npy, result.prob)
    i, j = divmod(int(result.prob.argmin()), result.prob.shape[1])
    print(f"p({model.class_name(result.target)}) = {result.base_prob:.3f} unoccluded; lowest {result.prob.min():.3f} "
          f"with the square at ({i * result.stride}, {j * result.stride}) [{result.method}"
          + (f", approximate: {approx.describe()}]" if approx else ", exact]"))
    print(f"wrote {r.out}" + (f" and {r.npy}" if r.npy else ""))
    return 0


def _progress(done: int, total: int) -> None:
    print(f"\roccluding: {done}/{total} positions", end="", file=sys.stderr, flush=True)
