"""Feature visualisations as a figure: a grid of the pictures, each titled with its channel (or class)."""

from __future__ import annotations

import math

import numpy as np
import torch

from ..engine.featvis import CLASS, FeatureVis
from ..models import LoadedModel
from .labels import pad_to_width, with_title
from .png import Panel, tile


def picture_rgb(image: torch.Tensor) -> np.ndarray:
    """Return one picture (3, H, W) in [0, 1] as uint8 RGB pixels (H, W, 3)."""
    return np.ascontiguousarray((image.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy())


def tile_titles(result: FeatureVis) -> list[str]:
    """Return each picture's title: its channel (or class), with the diversity copy when there are several."""
    titles, seen = [], {}
    copies = len(result.targets) // max(1, len(set(result.targets)))
    for t in result.targets:
        k = seen.get(t, 0)
        seen[t] = k + 1
        prefix = "class " if result.objective.kind == CLASS else "ch "
        titles.append(f"{prefix}{t}" + (f" #{k}" if copies > 1 else ""))
    return titles


def featvis_panel(model: LoadedModel, result: FeatureVis, command: str = "", columns: int | None = None) -> Panel:
    """Return the Panel: the pictures in a grid (``columns`` default: about square, the diversity copies of a
    target on one row), each titled, captioned with model, layer, objective and steps."""
    n = len(result.targets)
    copies = len(result.targets) // max(1, len(set(result.targets)))
    if columns is None:
        columns = copies if copies > 1 else None
    where = "" if result.objective.kind == CLASS else f" {result.layer} ·"
    steps = int(result.steps_done.max()) if n else 0
    caption = (f"{model.label} ·{where} feature vis ({result.objective.describe()}) · {steps} steps · "
               f"{result.size} px" + (" · cancelled" if result.cancelled else ""))
    facts = {"model": model.name, "weights": model.weights, "layer": result.layer or "",
             "channels": ",".join(map(str, result.targets)), "objective": result.objective.describe(),
             "steps": str(steps), "size": str(result.size), "seed": str(result.seed), "command": command}
    return pictures_panel([picture_rgb(im) for im in result.images], tile_titles(result), caption, facts, columns)


def pictures_panel(pictures: list[np.ndarray | None], titles: list[str], caption: str, facts: dict[str, str],
                   columns: int | None = None) -> Panel:
    """Return the Panel of RGB ``pictures`` (S, S, 3) uint8 in a grid (``columns`` default: about square), each
    below its title; a None picture (not computed) is a light grey tile."""
    n = len(pictures)
    if columns is None:
        columns = min(n, max(1, math.ceil(math.sqrt(n))))
    side = next((p.shape[:2] for p in pictures if p is not None), (16, 16))
    blank = np.full((*side, 3), 224, np.uint8)
    tiles = [with_title(blank if p is None else p, title) for p, title in zip(pictures, titles)]
    width = max(t.shape[1] for t in tiles)
    tiles = [pad_to_width(t, width) for t in tiles]
    return Panel(pad_to_width(tile(tiles, columns), 360), caption, facts)
