"""``deconvviz attribute``: one attribution method's map (Grad-CAM, integrated gradients, ...) over the image."""

from __future__ import annotations

from ..session.recipes import AttributeRecipe as RECIPE


def run(r: RECIPE) -> int:
    from ..figures.attribution import ZERO_MAP
    from ..figures.png import save_panel
    from ..npy import save_npy
    from ..session.recipes import describe_target

    model = r.load_model()
    picture, frame = r.read_input()
    x = model.preprocess(picture.image)
    result = r.compute(model, x)
    save_panel(r.panel(model, x, result, frame, r.shell()), r.out)
    if r.npy:
        save_npy(r.npy, result.map)
    where = f" at {result.layer}" if result.layer else ""
    zero = "" if result.map.any() else f"; {ZERO_MAP}"
    print(f"{r.method} of {describe_target(model, result.target)}{where}{zero}; wrote {r.out}"
          + (f" and {r.npy}" if r.npy else ""))
    return 0
