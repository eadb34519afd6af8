"""``deconvviz faithfulness``: deletion and insertion curves (Petsiuk et al. 2018) of the occlusion and saliency maps."""

from __future__ import annotations

from pathlib import Path

from ..errors import DeconvvizError
from ..session.recipes import FaithfulnessRecipe as RECIPE


def check(r: RECIPE) -> None:
    """Raise DeconvvizError for an invalid recipe (before anything is loaded or written)."""
    if not 1 <= r.steps <= 10_000:
        raise DeconvvizError(f"--steps must be 1..10000, got {r.steps}")
    if not 1 <= r.random <= 100:
        raise DeconvvizError(f"--random must be 1..100, got {r.random}")
    if Path(r.csv).resolve() == Path(r.out).resolve():
        raise DeconvvizError("--csv and --out name the same file")


def run(r: RECIPE) -> int:
    from ..analyses.faithfulness import faithfulness_rows
    from ..figures.png import save_panel
    from ..tables import format_table, write_csv
    from .sanity import write_both

    check(r)
    model = r.load_model()
    picture, frame = r.read_input()
    x = model.preprocess(picture.image)
    result = r.compute(model, x)
    header, rows = faithfulness_rows(result)
    panel = r.panel(model, x, result, frame, r.shell())
    write_both(lambda: save_panel(panel, r.out), lambda: write_csv(r.csv, header, rows), r.out)
    summary = [[name, c.deletion_auc, c.insertion_auc] for name, c in result.curves.items()]
    print(format_table(["map", "deletion AUC", "insertion AUC"], summary))
    print(f"wrote {r.out} and {r.csv}")
    return 0
