"""``deconvviz sanity``: the model-parameter randomisation test (Adebayo et al. 2018) as a PNG and CSV."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import DeconvvizError
from ..session.recipes import SanityRecipe as RECIPE


def check(r: RECIPE) -> None:
    """Raise DeconvvizError for a contradictory recipe (before anything is loaded or written)."""
    if (r.layer is None) != (r.channel is None):
        raise DeconvvizError("--layer and --channel go together")
    if r.position is not None and r.layer is None:
        raise DeconvvizError("--position needs --layer and --channel")
    if Path(r.csv).resolve() == Path(r.out).resolve():
        raise DeconvvizError("--csv and --out name the same file")


def run(r: RECIPE) -> int:
    from ..analyses.sanity import sanity_rows, verdicts
    from ..figures.png import save_panel
    from ..tables import write_csv
    from ._args import progress_printer

    check(r)
    model = r.load_model()
    picture, frame = r.read_input()
    x = model.preprocess(picture.image)
    result = r.compute(model, x, progress=progress_printer("randomised layers"))
    header, rows = sanity_rows(result)
    panel = r.panel(model, x, result, frame, r.shell())
    write_both(lambda: save_panel(panel, r.out), lambda: write_csv(r.csv, header, rows), r.out)
    for line in verdicts(result):
        print(line)
    if result.skipped:
        print(f"not re-initialised (no reset_parameters): {', '.join(result.skipped)}", file=sys.stderr)
    print(f"wrote {r.out} and {r.csv}")
    return 0


def write_both(first, second, first_path: str) -> None:
    """Write two files (``first()``, then ``second()``); when the second fails, remove the first: all or nothing."""
    first()
    try:
        second()
    except BaseException:
        Path(first_path).unlink(missing_ok=True)
        raise
