"""``deconvviz featvis``: feature visualisation of a layer's channels (or of classes), a grid of pictures."""

from __future__ import annotations

from ..session.recipes import FeatvisRecipe as RECIPE


def run(r: RECIPE) -> int:
    from ..figures.png import save_panel
    from ..npy import save_npy
    from ._args import progress_printer

    model = r.load_model()
    result = r.compute(model, progress_printer("steps"))
    save_panel(r.panel(model, result, r.shell()), r.out)
    if r.npy:
        save_npy(r.npy, result.images.numpy())
    first, last = result.objectives[:, 0], result.objectives[:, int(result.steps_done.max()) - 1]
    print(f"{len(result.targets)} pictures, objective {float(first.mean()):.4g} -> {float(last.mean()):.4g} "
          f"(mean over pictures); wrote {r.out}" + (f" and {r.npy}" if r.npy else ""))
    return 0
