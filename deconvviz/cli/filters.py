"""``deconvviz filters``: first-layer filters as a grid; two snapshots or two models side by side (Fig. 6)."""

from __future__ import annotations

from ..session.recipes import FiltersRecipe as RECIPE


def run(r: RECIPE) -> int:
    from ..errors import DeconvvizError
    from ..figures.filters import filters_panel
    from ..figures.png import save_panel
    from ..models import load_model

    if r.compare_weights and not r.compare_model:
        raise DeconvvizError("--compare-weights needs --compare-model")
    model = r.load_model()
    other = None
    if r.compare:
        other = load_model(model.name, r.compare, r.device)
    elif r.compare_model:
        other = load_model(r.compare_model, r.compare_weights, r.device)
    save_panel(filters_panel(model, other, r.shell()), r.out)
    print(f"wrote {r.out}")
    return 0
