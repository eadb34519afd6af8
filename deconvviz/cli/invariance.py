"""``deconvviz invariance``: feature distance and p(true class) under translation, scaling or rotation (Fig. 5)."""

from __future__ import annotations

from ..session.recipes import InvarianceRecipe as RECIPE


def run(r: RECIPE) -> int:
    from ..analyses.invariance import invariance_curves, invariance_rows
    from ..figures.invariance import invariance_panel
    from ..figures.png import save_panel
    from ..tables import format_table, write_csv

    model = r.load_model()
    pictures = r.read_inputs()
    result = invariance_curves(model, pictures, r.transform, None if r.amounts is None else list(r.amounts),
                               None if r.layers is None else list(r.layers),
                               None if r.true_class is None else list(r.true_class))
    first = model.preprocess(pictures[0].image)
    header, rows = invariance_rows(result, model)
    save_panel(invariance_panel(model, result, first, r.shell()), r.out)
    if r.csv:
        write_csv(r.csv, header, rows)
    print(format_table(header, rows))
    print(f"wrote {r.out}" + (f" and {r.csv}" if r.csv else ""))
    return 0
