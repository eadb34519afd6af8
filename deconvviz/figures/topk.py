"""The paper's Fig. 2: per channel, the top-k projections beside the image patches under them."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch

from ..engine.deconv import project
from ..engine.receptive_field import receptive_fields
from ..engine.topk import TopKIndex
from ..models import LoadedModel
from .labels import labelled_grid
from .png import Panel, tile
from .projections import _square, crop
from .render import projection_rgb


def topk_crops(model: LoadedModel, index: TopKIndex, channel: int, load_input: Callable[[int], torch.Tensor],
               mode: str = "deconvnet") -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Return (projections, patches): for each of ``channel``'s top-k entries, the projection of that one
    activation and the input under it, both RGB uint8 cropped to the activation's receptive field.

    ``load_input(i)`` returns image i of the data set as the model's input (1, C, H, W).
    """
    entries = index.entries(channel)
    if not entries:
        return [], []
    x0 = load_input(entries[0][0])
    positions = sorted({(row, col) for _, row, col, _ in entries})
    boxes = dict(zip(positions, receptive_fields(model.net, tuple(x0.shape), index.layer, positions)))
    projections, patches = [], []
    for image, row, col, _value in entries:
        x = x0 if image == entries[0][0] else load_input(image)
        p = project(model.net, x, index.layer, channel, (row, col), mode)
        box = boxes[(row, col)]
        projections.append(crop(projection_rgb(p.images[0]), box))
        patches.append(crop(model.preprocessing.to_pixels(x), box))
    return projections, patches


def squares(crops: list[np.ndarray], size: int) -> list[np.ndarray]:
    """Return each crop padded to a square and scaled to ``size`` x ``size``."""
    return [_square(c, size) for c in crops]


def topk_block(projections: list[np.ndarray], patches: list[np.ndarray], gap: int = 2) -> np.ndarray:
    """Return the paper's layout for one channel: a square grid of projections beside one of patches."""
    columns = math.ceil(math.sqrt(len(projections)))
    left, right = tile(projections, columns, gap), tile(patches, columns, gap)
    spacer = np.full((left.shape[0], 3 * gap + 4, 3), 255, np.uint8)
    return np.concatenate([left, spacer, right], 1)


def topk_panel(model: LoadedModel, index: TopKIndex, channel: int,
               crops: tuple[list[np.ndarray], list[np.ndarray]], command: str = "", size: int = 96) -> Panel:
    """Return the Panel of one channel from its :func:`topk_crops`: projections (left), image patches (right)."""
    projections, patches = squares(crops[0], size), squares(crops[1], size)
    caption = (f"{model.label} · {index.layer} · channel {channel} · top-{len(projections)} of "
               f"{index.n_images} images · {index.meta.get('data', '')}")
    return Panel(topk_block(projections, patches), caption, _facts(model, index, command, channel=str(channel)))


def topk_overview(model: LoadedModel, index: TopKIndex, crops: dict[int, tuple[list, list]], command: str = "",
                  size: int = 48) -> Panel:
    """Return a Panel with one row per channel (``crops``: channel -> :func:`topk_crops`): its top-k
    projections, then its top-k patches."""
    channels = list(crops)
    rows = []
    for c in channels:
        projections, patches = squares(crops[c][0], size), squares(crops[c][1], size)
        rows.append(projections + [np.full_like(projections[0], 255)] + patches)
    k = max(len(r) for r in rows)
    rows = [r + [np.full_like(r[0], 255)] * (k - len(r)) for r in rows]
    n = (k - 1) // 2
    header = [f"#{j + 1}" for j in range(n)] + [""] + [f"#{j + 1}" for j in range(n)]
    pixels = labelled_grid(rows, [f"ch {c}" for c in channels], header, gap=2)
    caption = (f"{model.label} · {index.layer} · top-{index.k} projections | patches · {index.n_images} images · "
               f"{index.meta.get('data', '')}")
    return Panel(pixels, caption, _facts(model, index, command, channels=",".join(map(str, channels))))


def _facts(model, index, command, **extra) -> dict[str, str]:
    return {"model": model.name, "weights": model.weights, "layer": index.layer, "k": str(index.k),
            "data": str(index.meta.get("data", "")), "images": str(index.n_images), "command": command, **extra}
