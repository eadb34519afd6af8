"""Run a model once and record what every module produced, and every max-pool's switches.

Forward hooks are registered for one call and removed in ``finally``. A module called several times in one
forward (an activation module reused at several call sites) is recorded once per call: the first call under
its ``named_modules()`` name, later calls as ``name#1``, ``name#2``, ...
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from .layout import Layout, layout_for


@dataclass(frozen=True)
class LayerRecord:
    """One row of the layer tree: a module call's name, type, output shape (batch dim dropped) and parameters.

    ``layout`` says how the output reads as feature maps (:mod:`.layout`: maps, channels-last or tokens).
    """

    name: str
    type_name: str
    output_shape: tuple[int, ...]
    n_params: int
    depth: int
    layout: Layout | None = None

    def __post_init__(self):
        if self.layout is None:
            object.__setattr__(self, "layout", layout_for(self.output_shape))

    @property
    def map_shape(self) -> tuple[int, int, int] | None:
        """Return (channels, height, width) of the output read as maps, else None."""
        return self.layout.map_shape

    @property
    def channels(self) -> int | None:
        """Return the channel count of the output read as maps, else None."""
        return self.map_shape[0] if self.map_shape else None

    @property
    def spatial(self) -> bool:
        """Return whether the output reads as a stack of 2-D feature maps (see :mod:`.layout`)."""
        return self.layout.spatial


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


def call_name(name: str, call: int) -> str:
    """Return the layer name of a module's ``call``-th call (0-based) in one forward."""
    return name if call == 0 else f"{name}#{call}"


def split_call_name(layer: str) -> tuple[str, int]:
    """Return (module name, call index) for a layer name made by :func:`call_name`."""
    if "#" in layer:
        name, call = layer.rsplit("#", 1)
        if call.isdigit():
            return name, int(call)
    return layer, 0


def first_tensor(output) -> torch.Tensor | None:
    """Return a module's output tensor (the first element of a tuple/list output), or None if it has none."""
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return output[0]
    return None


@torch.no_grad()
def probe(net: nn.Module, x: torch.Tensor, keep: Iterable[str] | None = None) -> ProbeResult:
    """Return a ProbeResult for ``net(x)``, keeping the outputs of the layers named in ``keep`` (all if None).

    Outputs are cloned when recorded, so later in-place operations (``out += identity``, in-place ReLU)
    cannot change them. The model's output is exactly what ``net(x)`` returns without the probe.
    """
    keep = None if keep is None else set(keep)
    calls: dict[str, int] = defaultdict(int)
    result = ProbeResult(output=torch.empty(0), records=[])
    names = {module: name for name, module in net.named_modules() if name}
    handles = []

    def hook(module, inputs, output):
        base = names[module]
        layer = call_name(base, calls[base])
        calls[base] += 1
        tensor = first_tensor(output)
        if tensor is None:
            return
        result.records.append(LayerRecord(
            name=layer,
            type_name=type(module).__name__,
            output_shape=tuple(tensor.shape[1:]),
            n_params=sum(p.numel() for p in module.parameters()),
            depth=base.count(".") + 1,
            layout=layout_for(tuple(tensor.shape[1:]), module),
        ))
        if keep is None or layer in keep:
            result.activations[layer] = tensor.detach().clone()
            if isinstance(module, nn.MaxPool2d) and isinstance(inputs[0], torch.Tensor):
                result.switches[layer] = _switches(module, inputs[0])

    try:
        for module in names:
            handles.append(module.register_forward_hook(hook))
        result.output = net(x)
    finally:
        for h in handles:
            h.remove()
    return result


def _switches(pool: nn.MaxPool2d, x: torch.Tensor) -> torch.Tensor:
    """Return the flat index (into each input map) of the maximum of every pooling window."""
    _, idx = F.max_pool2d(x, pool.kernel_size, pool.stride, pool.padding, pool.dilation,
                          ceil_mode=pool.ceil_mode, return_indices=True)
    return idx
