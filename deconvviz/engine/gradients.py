"""Gradient attributions of a target with respect to the input: the gradient (saliency) and the three rules
of :mod:`.rules` (deconvnet, guided backprop, backprop), for a batch of inputs at once.

Each sample's target is differentiated on its own (the samples of a batch are independent in eval mode),
with a unit seed: the map is d target / d x under the rule (compare :func:`.deconv.project`, which seeds a
projection with the activation's value: the same picture, scaled).
"""

from __future__ import annotations

import contextlib
import weakref

import torch
from torch import nn

from .attribution import AttributionTarget, forward
from .rules import uniform_rules

RULES = ("deconvnet", "guided", "backprop")


def input_gradients(net: nn.Module, xs: torch.Tensor, target: AttributionTarget, rule: str | None = None) -> torch.Tensor:
    """Return d target / d x (B, C, H, W) for each sample of ``xs``, under ``rule`` (one of :data:`RULES`)
    at the rectifiers, or the true gradient for ``rule=None``."""
    xs = xs.detach().clone().requires_grad_(True)
    key = (tuple((name, type(m)) for name, m in net.named_modules()), tuple(xs.shape[1:]), xs.dtype, xs.device,
           target.layer)
    plain = rule is None or (rule == "backprop" and key in _NO_LRN.get(net, ()))
    # the fused rules of the sanity test's batches (a third faster than backward_rules' on EfficientNet-Lite0);
    # the gradient, and backprop where no normalisation is met, without them: PyTorch's own backward alone
    rules = contextlib.nullcontext() if plain else uniform_rules(rule, xs.device)
    with torch.enable_grad():
        with rules:
            values, _ = forward(net, xs, target)
        (grads,) = torch.autograd.grad(values.sum(), xs)
    if rule == "backprop" and not plain and rules.ruled == 0:
        _NO_LRN.setdefault(net, set()).add(key)
    return grads.detach()


# net -> the (modules, input shape and type, target layer) keys under which its forward met no local response
# normalisation:
# there backprop's rule is the gradient, which PyTorch's backward computes without the rules' Python per call
# (5% of a pass on EfficientNet-Lite0 once the process has run batches of 16)
_NO_LRN: "weakref.WeakKeyDictionary[nn.Module, set]" = weakref.WeakKeyDictionary()
