"""The paper's filter renormalisation: after each update, conv filters with RMS above a radius are scaled to it."""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def renormalise_filters(net: nn.Module, radius: float = 0.1) -> None:
    """Scale, in place, every conv filter of ``net`` whose RMS exceeds ``radius`` down to RMS ``radius``.

    A filter is one output channel's weights (in_channels/groups x kh x kw); biases are left alone.
    """
    for module in net.modules():
        if isinstance(module, nn.Conv2d):
            weight = module.weight
            rms = weight.pow(2).mean(dim=tuple(range(1, weight.dim())), keepdim=True).sqrt()
            weight.mul_((radius / rms.clamp_min(1e-12)).clamp(max=1.0))


@torch.no_grad()
def filter_rms(net: nn.Module) -> dict[str, torch.Tensor]:
    """Return each conv layer's per-filter RMS, keyed by module name (a 1-D tensor per layer)."""
    return {
        name: m.weight.pow(2).mean(dim=tuple(range(1, m.weight.dim()))).sqrt()
        for name, m in net.named_modules()
        if isinstance(m, nn.Conv2d)
    }
