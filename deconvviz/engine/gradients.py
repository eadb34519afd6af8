"""Gradient attributions of a target with respect to the input: the gradient (saliency) and the three rules
of :mod:`.rules` (deconvnet, guided backprop, backprop), for a batch of inputs at once.

Each sample's target is differentiated on its own (the samples of a batch are independent in eval mode),
with a unit seed: the map is d target / d x under the rule (compare :func:`.deconv.project`, which seeds a
projection with the activation's value: the same picture, scaled).
"""

from __future__ import annotations

import torch
from torch import nn

from .attribution import AttributionTarget, forward
from .rules import uniform_rules

RULES = ("deconvnet", "guided", "backprop")


def input_gradients(net: nn.Module, xs: torch.Tensor, target: AttributionTarget, rule: str | None = None) -> torch.Tensor:
    """Return d target / d x (B, C, H, W) for each sample of ``xs``, under ``rule`` (one of :data:`RULES`)
    at the rectifiers, or the true gradient for ``rule=None``."""
    xs = xs.detach().clone().requires_grad_(True)
    # the fused rules of the sanity test's batches (a third faster than backward_rules' on EfficientNet-Lite0);
    # the true gradient through them too, for batch normalisation's cheaper backward
    with torch.enable_grad():
        with uniform_rules(rule or "gradient", xs.device):
            values, _ = forward(net, xs, target)
        (grads,) = torch.autograd.grad(values.sum(), xs)
    return grads.detach()
