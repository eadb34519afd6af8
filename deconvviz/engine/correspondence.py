"""Correspondence analysis (the paper's Sec. 5 / Table 1): does masking the same part in several images
change a layer's features in the same way?

With x_i and x~_i the layer's feature vectors of image i and of image i with the part occluded,
eps_i = x_i - x~_i and Delta = sum over i != j of Hamming(sign(eps_i), sign(eps_j)). The paper reports
it normalised, the "mean feature sign change": Delta / (n (n - 1) D) for n images and D features, the
fraction of features whose change has a different sign in two images, on average over pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..errors import DeconvvizError
from .probe import probe
from .receptive_field import Box


def sign_change(eps: torch.Tensor) -> tuple[int, float]:
    """Return (Delta, mean feature sign change) for the changes eps (n, D) of n images."""
    n, d = eps.shape
    if n < 2:
        raise DeconvvizError("correspondence needs at least two images")
    signs = torch.sign(eps).to(torch.int8)
    delta = 0
    for i in range(n):
        delta += int((signs[i:i + 1] != signs).sum())  # the i == i term is 0
    return delta, delta / (n * (n - 1) * d)


def occlude(x: torch.Tensor, box: Box, fill: float | torch.Tensor = 0.0) -> torch.Tensor:
    """Return a copy of ``x`` (1, C, H, W) with ``box`` set to ``fill`` (default 0: the mean pixel)."""
    out = x.clone()
    out[..., box.top:box.bottom, box.left:box.right] = fill
    return out


def features(net: nn.Module, x: torch.Tensor, layers: list[str]) -> dict[str, torch.Tensor]:
    """Return each layer's output for the batch ``x``, flattened to (N, D) float64."""
    result = probe(net, x, keep=layers)
    missing = [name for name in layers if name not in result.activations]
    if missing:
        raise DeconvvizError(f"layer(s) {', '.join(missing)} not found (`deconvviz layers` lists the names)")
    return {name: result.activations[name].flatten(1).double() for name in layers}


def part_delta(net: nn.Module, x: torch.Tensor, boxes: list[Box], layers: list[str],
               originals: dict[str, torch.Tensor] | None = None) -> dict[str, tuple[int, float]]:
    """Return per layer (Delta, mean feature sign change) for images ``x`` (n, C, H, W), image i masked at
    ``boxes[i]``. ``originals`` are the unmasked features from :func:`features` (computed when None)."""
    if len(boxes) != len(x):
        raise DeconvvizError(f"need one box per image: {len(x)} images, {len(boxes)} boxes")
    originals = originals if originals is not None else features(net, x, layers)
    masked = torch.cat([occlude(x[i:i + 1], b) for i, b in enumerate(boxes)])
    changed = features(net, masked, layers)
    return {name: sign_change(originals[name] - changed[name]) for name in layers}


def random_boxes(rng: np.random.Generator, height: int, width: int, sizes: list[tuple[int, int]]) -> list[Box]:
    """Return one box per (height, width) in ``sizes``, placed uniformly at random inside the image."""
    boxes = []
    for h, w in sizes:
        top = int(rng.integers(0, height - h + 1))
        left = int(rng.integers(0, width - w + 1))
        boxes.append(Box(top, left, top + h, left + w))
    return boxes


@dataclass(frozen=True)
class CorrespondenceRow:
    """One row of Table 1: a part (or random boxes of a part's sizes) at one layer.

    ``value`` is the mean feature sign change (for random boxes: the mean over draws, ``std`` their
    standard deviation; 0 for a part) and ``delta`` the unnormalised Delta (the mean for random boxes).
    """

    part: str
    layer: str
    value: float
    std: float
    delta: float
    draws: int


def correspondence(net: nn.Module, x: torch.Tensor, parts: dict[str, list[Box]], layers: list[str],
                   random_draws: int = 0, seed: int = 0) -> list[CorrespondenceRow]:
    """Return the rows of Table 1 for images ``x`` (n, C, H, W): each part, then (with ``random_draws``)
    random boxes of each part's sizes, per layer."""
    originals = features(net, x, layers)
    rows = []
    for part, boxes in parts.items():
        result = part_delta(net, x, boxes, layers, originals)
        rows += [CorrespondenceRow(part, name, result[name][1], 0.0, float(result[name][0]), 1) for name in layers]
    if random_draws > 0:
        rng = np.random.default_rng(seed)
        h, w = x.shape[-2:]
        for part, boxes in parts.items():
            draws = [part_delta(net, x, random_boxes(rng, h, w, [(b.height, b.width) for b in boxes]), layers,
                                originals) for _ in range(random_draws)]
            for name in layers:
                values = np.array([d[name][1] for d in draws])
                deltas = np.array([d[name][0] for d in draws], float)
                rows.append(CorrespondenceRow(f"random ({part} size)", name, float(values.mean()),
                                              float(values.std()), float(deltas.mean()), random_draws))
    return rows
