"""``deconvviz correspondence``: Table 1, how consistently a masked part changes a layer's features."""

from __future__ import annotations

from ..session.recipes import CorrespondenceRecipe as RECIPE


def run(r: RECIPE) -> int:
    from ..analyses.correspondence import correspondence_rows, correspondence_table, load_inputs, read_parts
    from ..figures.parts import parts_panel
    from ..figures.png import save_panel
    from ..tables import format_table, write_csv

    model = r.load_model()
    height, width = model.preprocessing.size
    images = list(r.images)
    parts = read_parts(r.parts, images, height, width)
    layers = None if r.layers is None else list(r.layers)
    pictures = r.read_inputs()
    rows = correspondence_table(model, pictures, parts, layers, r.random, r.seed)
    header, table = correspondence_rows(rows)
    print(format_table(header, table))
    if r.csv:
        write_csv(r.csv, header, table)
    if r.out:
        x = load_inputs(model, pictures)
        save_panel(parts_panel(model, x, [p.name for p in pictures], parts, r.shell()), r.out)
    written = [p for p in (r.csv, r.out) if p]
    if written:
        print("wrote " + " and ".join(written))
    return 0
