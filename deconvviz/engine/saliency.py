"""Gradient saliency (Simonyan et al. 2014): |d score_c / d image|, the maximum over colour channels.

The true gradient by plain autograd, with no rule replaced at the rectifiers (compare the deconvnet).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..errors import DeconvvizError


@dataclass(frozen=True)
class Saliency:
    """``map`` (H, W) float32 >= 0 for class ``target``, whose pre-softmax score on the image is ``score``."""

    map: torch.Tensor
    target: int
    score: float
    probability: float


def saliency(net: nn.Module, x: torch.Tensor, target: int | None = None) -> Saliency:
    """Return the Saliency of class ``target`` (default: the top class) for one input ``x`` (1, C, H, W)."""
    if x.dim() != 4 or x.shape[0] != 1:
        raise DeconvvizError(f"expected one image (1, C, H, W), got {tuple(x.shape)}")
    x = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        scores = net(x)
        if scores.dim() != 2:
            raise DeconvvizError(f"the model's output has shape {tuple(scores.shape[1:])}, not class scores")
        if target is None:
            target = int(scores[0].argmax())
        if not 0 <= target < scores.shape[1]:
            raise DeconvvizError(f"class {target} out of range: valid 0..{scores.shape[1] - 1}")
        (grad,) = torch.autograd.grad(scores[0, target], x)
    prob = float(torch.softmax(scores.detach()[0].double(), 0)[target])
    return Saliency(grad[0].abs().amax(0).detach(), target, float(scores.detach()[0, target]), prob)
