"""``deconvviz actmax``: the input a channel or a class score likes most (feature visualisation, or plain
gradient ascent on the pixels with ``--method pixel``)."""

from __future__ import annotations

from ..session.recipes import ActmaxRecipe as RECIPE


def run(r: RECIPE) -> int:
    from ..figures.png import save_panel
    from ._args import progress_printer

    target = r.target()
    model = r.load_model()
    start, ascent = r.compute(model, progress_printer("steps"))
    save_panel(r.panel(model, start, ascent, r.shell()), r.out)
    print(f"{target.describe()}: {ascent.values[0]:.4g} -> {ascent.values[-1]:.4g}; wrote {r.out}")
    return 0
