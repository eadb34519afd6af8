"""``deconvviz project``: project a layer's activation(s) back to pixel space and write a PNG."""

from __future__ import annotations

from ..session.recipes import ProjectRecipe as RECIPE


def run(r: RECIPE) -> int:
    from ..engine.deconv import project
    from ..figures.png import save_panel
    from ..figures.projections import projection_panel
    from ..npy import save_npy
    from ..session.pictures import frame_panel

    model = r.load_model()
    picture, frame = r.read_input()
    x = model.preprocess(picture.image)
    result = project(model.net, x, r.layer, r.channel, r.position, r.mode, r.map, r.top_k)
    save_panel(frame_panel(projection_panel(model, x, result, image_name=r.image, command=r.shell()), frame), r.out)
    if r.npy:
        save_npy(r.npy, result.images[0].cpu().numpy())
    print(f"wrote {r.out}" + (f" and {r.npy}" if r.npy else ""))
    return 0
