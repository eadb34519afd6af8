"""Integrated gradients (Sundararajan et al. 2017): (x - x') times the mean gradient along the straight
path from a baseline x' to x.

The integral is the midpoint Riemann sum over ``steps`` points, alpha = (k + 1/2) / steps (Captum's
``IntegratedGradients`` with ``method="riemann_middle"``), the path's points run in batches. By
completeness the attributions sum to F(x) - F(x') up to the sum's error, which shrinks as 1/steps^2 on a
smooth network.

Baselines (:func:`baseline`): ``zero``, the black image (every pixel 0, normalised as the model's input
is); ``mean``, the data set's mean pixel (normalised: 0 for a model that subtracts that mean); ``blur``,
the image blurred by a Gaussian of ``sigma`` pixels (Kapishnikov et al. 2019's blur baseline).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import DeconvvizError
from .attribution import AttributionTarget, forward

BASELINES = ("zero", "mean", "blur")
MAX_STEPS = 10_000


def baseline(x: torch.Tensor, kind: str, mean=None, std=None, sigma: float | None = None) -> torch.Tensor:
    """Return the baseline (1, C, H, W) of ``kind`` for the model input ``x``; ``mean``/``std`` are the
    model's per-channel normalisation on [0, 1] pixels (None: the input is not normalised)."""
    channels = x.shape[1]
    m = torch.as_tensor(mean if mean is not None else [0.0] * channels, dtype=x.dtype, device=x.device)
    s = torch.as_tensor(std if std is not None else [1.0] * channels, dtype=x.dtype, device=x.device)
    if kind == "zero":
        return ((0.0 - m) / s).view(1, -1, 1, 1).expand_as(x).clone()
    if kind == "mean":
        return torch.zeros_like(x) if mean is not None else x.mean((2, 3), keepdim=True).expand_as(x).clone()
    if kind == "blur":
        return blur(x, sigma if sigma is not None else max(x.shape[2:]) / 16)
    raise DeconvvizError(f"unknown baseline {kind!r}; valid: {', '.join(BASELINES)}")


def blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Return ``x`` blurred by a separable Gaussian of ``sigma`` pixels (reflected at the borders)."""
    if not sigma > 0:
        raise DeconvvizError(f"the blur's sigma must be > 0 pixels, got {sigma}")
    radius = min(int(math.ceil(3 * sigma)), min(x.shape[2:]) - 1)
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    kernel = torch.exp(-t.pow(2) / (2 * sigma * sigma))
    kernel = kernel / kernel.sum()
    c = x.shape[1]
    out = F.pad(x, (radius, radius, 0, 0), mode="reflect")
    out = F.conv2d(out, kernel.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    out = F.pad(out, (0, 0, radius, radius), mode="reflect")
    return F.conv2d(out, kernel.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def integrated_gradients(net: nn.Module, x: torch.Tensor, target: AttributionTarget, base: torch.Tensor,
                         steps: int = 32, batch: int = 16) -> torch.Tensor:
    """Return the integrated gradients (B, C, H, W) of each input of ``x`` (B, C, H, W) from ``base``
    (broadcastable to ``x``), with ``steps`` points of the path run ``batch`` at a time."""
    if not 1 <= steps <= MAX_STEPS:
        raise DeconvvizError(f"integrated gradients' steps must be 1..{MAX_STEPS}, got {steps}")
    base = base.detach().expand_as(x)
    alphas = torch.linspace(1 / (2 * steps), 1 - 1 / (2 * steps), steps, dtype=x.dtype, device=x.device)
    out = []
    for xi, bi in zip(x.detach(), base):
        total = torch.zeros_like(xi)
        for start in range(0, steps, batch):
            a = alphas[start:start + batch].view(-1, 1, 1, 1)
            points = (bi + a * (xi - bi)).requires_grad_(True)
            with torch.enable_grad():
                values, _ = forward(net, points, target)
                (grads,) = torch.autograd.grad(values.sum(), points)
            total += grads.sum(0)
        out.append((xi - bi) * total / steps)
    return torch.stack(out)
