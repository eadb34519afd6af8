"""Deletion and insertion curves (Petsiuk et al., "RISE", BMVC 2018, section 4.1): is a map faithful?

A map ranks the input's pixels by importance. *Deletion* greys out the pixels most important first and
records p(class) against the fraction removed: a faithful map makes it fall fast (a small area under the
curve). *Insertion* starts from the grey image and reveals the pixels most important first: a faithful
map makes p rise fast (a large area). Grey is the model's mean pixel, 0 in normalised input units, as for
occlusion. A random order of the pixels is the baseline either curve should beat.

All positions along a curve are independent forward passes, so they run in batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

from ..errors import DeconvvizError
from ._control import Cancelled


class FaithfulnessCancelled(Cancelled):
    """The caller's ``cancel()`` returned True before the curves were finished (an engine ``Cancelled``, so the
    app's runner answers "cancelled", not "failed")."""


@dataclass(frozen=True)
class Curves:
    """p(target) at each fraction of pixels deleted (``deletion``) and inserted (``insertion``), float64,
    with the area under each curve over fractions 0..1 (trapezoid rule)."""

    fractions: np.ndarray
    deletion: np.ndarray
    insertion: np.ndarray

    @property
    def deletion_auc(self) -> float:
        """Return the area under the deletion curve (lower is more faithful)."""
        return auc(self.fractions, self.deletion)

    @property
    def insertion_auc(self) -> float:
        """Return the area under the insertion curve (higher is more faithful)."""
        return auc(self.fractions, self.insertion)


def auc(fractions: np.ndarray, values: np.ndarray) -> float:
    """Return the trapezoid-rule area under ``values`` over ``fractions``."""
    f, v = np.asarray(fractions, np.float64), np.asarray(values, np.float64)
    return float(((v[1:] + v[:-1]) * np.diff(f)).sum() / 2)


def pixel_order(importance: np.ndarray) -> np.ndarray:
    """Return the flat pixel indices of an (H, W) map, most important first; ties in index order."""
    flat = np.asarray(importance, np.float64).ravel()
    if not np.isfinite(flat).all():
        raise DeconvvizError("the importance map has values that are not finite")
    return np.argsort(-flat, kind="stable")


def pixel_counts(pixels: int, steps: int) -> np.ndarray:
    """Return how many pixels are changed at each of the ``steps + 1`` points of a curve (0 .. all)."""
    if steps < 1:
        raise DeconvvizError(f"a curve needs at least 1 step, got {steps}")
    return np.round(np.linspace(0, pixels, steps + 1)).astype(np.int64)


def probabilities(net: nn.Module, x: torch.Tensor, order: np.ndarray, counts: np.ndarray, target: int,
                  insertion: bool, fill: torch.Tensor | None = None, batch: int = 16,
                  cancel: Callable[[], bool] | None = None) -> np.ndarray:
    """Return p(target) (float64, one per count) with the first ``counts[i]`` pixels of ``order`` greyed out
    (deletion) or, from the grey image, revealed (insertion); forward passes in batches of ``batch``."""
    _, channels, height, width = x.shape
    grey = torch.zeros(channels, 1, 1, device=x.device) if fill is None else fill.reshape(channels, 1, 1)
    grey_image = grey.expand(1, channels, height, width)
    # rank[p] = the step at which pixel p changes: a pixel is changed when its rank is below the count.
    rank = np.empty(height * width, np.int64)
    rank[order] = np.arange(order.size)
    rank_t = torch.from_numpy(rank.reshape(1, 1, height, width)).to(x.device)
    out = []
    with torch.no_grad():
        for start in range(0, len(counts), batch):
            if cancel is not None and cancel():
                raise FaithfulnessCancelled("faithfulness curves cancelled")
            chunk = torch.as_tensor(counts[start:start + batch], device=x.device).view(-1, 1, 1, 1)
            changed = rank_t < chunk  # (B, 1, H, W)
            if insertion:
                xs = torch.where(changed, x, grey_image)
            else:
                xs = torch.where(changed, grey_image, x)
            if xs.device.type == "cpu":  # oneDNN's channels-last kernels are faster (as for occlusion)
                xs = xs.contiguous(memory_format=torch.channels_last)
            scores = net(xs)
            out.append(torch.softmax(scores.double(), 1)[:, target].cpu().numpy())
    return np.concatenate(out)


def curves(net: nn.Module, x: torch.Tensor, importance: np.ndarray, target: int, steps: int = 50,
           fill: torch.Tensor | None = None, batch: int = 16, cancel=None) -> Curves:
    """Return the deletion and insertion Curves of an (H, W) importance map for one input (1, C, H, W)."""
    height, width = x.shape[2:]
    if tuple(np.shape(importance)) != (height, width):
        raise DeconvvizError(f"the map is {np.shape(importance)}, the input {height}x{width}")
    order = pixel_order(importance)
    counts = pixel_counts(height * width, steps)
    fractions = counts / (height * width)
    return Curves(fractions,
                  probabilities(net, x, order, counts, target, False, fill, batch, cancel),
                  probabilities(net, x, order, counts, target, True, fill, batch, cancel))


def random_curves(net: nn.Module, x: torch.Tensor, target: int, steps: int = 50, orders: int = 3, seed: int = 0,
                  fill: torch.Tensor | None = None, batch: int = 16, cancel=None, progress=None) -> Curves:
    """Return the mean deletion and insertion Curves over ``orders`` random pixel orders (numpy seed ``seed``);
    ``progress()`` (no arguments) is called after each order."""
    height, width = x.shape[2:]
    rng = np.random.default_rng(seed)
    counts = pixel_counts(height * width, steps)
    dele, ins = [], []
    for _ in range(max(1, orders)):
        order = rng.permutation(height * width)
        dele.append(probabilities(net, x, order, counts, target, False, fill, batch, cancel))
        ins.append(probabilities(net, x, order, counts, target, True, fill, batch, cancel))
        if progress is not None:
            progress()
    return Curves(counts / (height * width), np.mean(dele, 0), np.mean(ins, 0))


def occlusion_importance(drop: np.ndarray, patch: int, stride: int, height: int, width: int) -> np.ndarray:
    """Return an occlusion map (ny, nx) of p drops as a per-pixel map (H, W): each pixel gets the mean drop
    of the squares that cover it; a pixel no square covers gets the smallest drop (ranked last)."""
    total = np.zeros((height, width), np.float64)
    count = np.zeros((height, width), np.int64)
    ny, nx = drop.shape
    for i in range(ny):
        for j in range(nx):
            total[i * stride:i * stride + patch, j * stride:j * stride + patch] += drop[i, j]
            count[i * stride:i * stride + patch, j * stride:j * stride + patch] += 1
    covered = count > 0
    out = np.full((height, width), float(drop.min()) if drop.size else 0.0)
    out[covered] = total[covered] / count[covered]
    return out.astype(np.float32)
