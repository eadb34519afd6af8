"""The paper's Fig. 4: rows = channels, columns = epochs, each cell the projection of the channel's
strongest activation over the data set at that snapshot, cropped to its receptive field."""

from __future__ import annotations

import numpy as np

from ..analyses.evolution import Evolution
from .labels import labelled_grid, pad_to_width
from .png import Panel
from .projections import _square, crop
from .render import projection_rgb


def evolution_cells(evolution: Evolution, size: int = 80, patches: bool = False) -> list[list[np.ndarray]]:
    """Return the grid's cells (RGB ``size`` x ``size``): projections, or with ``patches`` the image patches."""
    rows = []
    for c in range(len(evolution.channels)):
        cells = []
        for s in range(len(evolution.epochs)):
            box = evolution.boxes[c][s]
            rgb = projection_rgb(evolution.projections[c, s]) if not patches else evolution.pixels[c, s]
            cells.append(_square(crop(rgb, box), size))
        rows.append(cells)
    return rows


def evolution_panel(evolution: Evolution, command: str = "", size: int = 80, patches: bool = False) -> Panel:
    """Return the Panel of the evolution grid, epochs as columns, channels as rows."""
    pixels = pad_to_width(labelled_grid(evolution_cells(evolution, size, patches),
                                        [f"ch {c}" for c in evolution.channels],
                                        [f"epoch {e}" for e in evolution.epochs]), 480)
    caption = (f"{evolution.model_name} · {evolution.layer} · strongest activation per epoch over "
               f"{evolution.data}" + (" · image patches" if patches else ""))
    facts = {"model": evolution.model_name, "layer": evolution.layer,
             "channels": ",".join(map(str, evolution.channels)), "epochs": ",".join(map(str, evolution.epochs)),
             "data": evolution.data, "command": command}
    return Panel(pixels, caption, facts)
