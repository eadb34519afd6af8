"""Run a model once and record what every module produced, and every max-pool's switches.

The forward pass is :func:`deconvviz.models.layers.record_calls` (hooks for one call, removed in ``finally``;
a module called several times is recorded once per call, as ``name``, ``name#1``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import torch
import torch.nn.functional as F
from torch import nn

# the layer tree's pieces live with the models (a LoadedModel lists its layers); re-exported for the engine
from ..models.layers import LayerRecord, call_name, first_tensor, record_calls, split_call_name

__all__ = ["LayerRecord", "ProbeResult", "call_name", "first_tensor", "probe", "split_call_name"]


@dataclass
class ProbeResult:
    """The model's output and, per recorded layer name, its output and (for max-pools) its switches."""

    output: torch.Tensor
    records: list[LayerRecord]
    activations: dict[str, torch.Tensor] = field(default_factory=dict)
    switches: dict[str, torch.Tensor] = field(default_factory=dict)

    def record(self, name: str) -> LayerRecord:
        """Return the LayerRecord called ``name`` (KeyError if absent)."""
        for r in self.records:
            if r.name == name:
                return r
        raise KeyError(name)


@torch.no_grad()
def probe(net: nn.Module, x: torch.Tensor, keep: Iterable[str] | None = None, switches: bool = False) -> ProbeResult:
    """Return a ProbeResult for ``net(x)``, keeping the outputs of the layers named in ``keep`` (all if None)
    and, with ``switches``, the switches of the kept max-pools (the deconvnet itself does not need them: it
    gets them from autograd).

    Outputs are cloned when recorded, so later in-place operations (``out += identity``, in-place ReLU)
    cannot change them. The model's output is exactly what ``net(x)`` returns without the probe.
    """
    keep = None if keep is None else set(keep)
    activations: dict[str, torch.Tensor] = {}
    pool_switches: dict[str, torch.Tensor] = {}

    def keep_output(module, layer, inputs, tensor):
        if keep is None or layer in keep:
            activations[layer] = tensor.detach().clone()
            if switches and isinstance(module, nn.MaxPool2d) and isinstance(inputs[0], torch.Tensor):
                pool_switches[layer] = _switches(module, inputs[0])

    output, records = record_calls(net, x, keep_output)
    return ProbeResult(output, records, activations, pool_switches)


def _switches(pool: nn.MaxPool2d, x: torch.Tensor) -> torch.Tensor:
    """Return the flat index (into each input map) of the maximum of every pooling window."""
    _, idx = F.max_pool2d(x, pool.kernel_size, pool.stride, pool.padding, pool.dilation,
                          ceil_mode=pool.ceil_mode, return_indices=True)
    return idx
