"""``deconvviz evolution``: how chosen features form during training (Fig. 4)."""

from __future__ import annotations

from ..session.recipes import EvolutionRecipe as RECIPE


def run(r: RECIPE) -> int:
    from pathlib import Path

    from ..analyses.evolution import feature_evolution
    from ..data.sources import open_images
    from ..figures.evolution import evolution_panel
    from ..figures.png import save_panel
    from ._args import progress_printer

    source = open_images(r.data, r.limit)
    evolution = feature_evolution(r.history, source, r.layer, list(r.channels), r.batch_size, r.device,
                                  progress_printer("snapshots"))
    command = r.shell()
    save_panel(evolution_panel(evolution, command), r.out)
    written = [r.out]
    if r.patches:
        out = Path(r.out)
        path = out.with_name(out.stem + "-patches" + out.suffix)
        save_panel(evolution_panel(evolution, command, patches=True), path)
        written.append(str(path))
    print("wrote " + " and ".join(written))
    return 0
