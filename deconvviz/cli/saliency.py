"""``deconvviz saliency``: gradient saliency |d score / d image| of a class."""

from __future__ import annotations

from ..session.recipes import SaliencyRecipe as RECIPE


def run(r: RECIPE) -> int:
    from ..analyses.actmax import class_saliency
    from ..figures.png import save_panel
    from ..figures.saliency import saliency_panel
    from ..npy import save_npy
    from ..session.pictures import frame_panel

    model = r.load_model()
    picture, frame = r.read_input()
    x = model.preprocess(picture.image)
    s = class_saliency(model, x, r.target)
    save_panel(frame_panel(saliency_panel(model, x, s, r.image, r.shell()), frame), r.out)
    if r.npy:
        save_npy(r.npy, s.map.cpu().numpy())
    print(f"class {s.target} ({model.class_name(s.target)}), p = {s.probability:.3f}; wrote {r.out}"
          + (f" and {r.npy}" if r.npy else ""))
    return 0
