"""A network's layer tree: one forward pass that names every module call and records its output's shape.

Here, not in the engine, because a LoadedModel lists its own layers (``LoadedModel.layers``);
:func:`deconvviz.engine.probe.probe` runs the same pass and keeps the outputs too. A module called several
times in one forward (an activation module reused at several call sites) is recorded once per call: the
first call under its ``named_modules()`` name, later calls as ``name#1``, ``name#2``, ...
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Callable

import torch
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


# (module, layer name, the module's inputs, its output tensor): called for every recorded module call
Visit = Callable[[nn.Module, str, tuple, torch.Tensor], None]


def record_calls(net: nn.Module, x: torch.Tensor, visit: Visit | None = None) -> tuple[object, list[LayerRecord]]:
    """Return ``(net(x), records)``: the output, and a LayerRecord per module call with a tensor output, in
    the order the calls finish. ``visit`` is called at each of those calls. The hooks live for this call only.
    """
    calls: dict[str, int] = defaultdict(int)
    records: list[LayerRecord] = []
    names = {module: name for name, module in net.named_modules() if name}
    handles = []

    def hook(module, inputs, output):
        base = names[module]
        layer = call_name(base, calls[base])
        calls[base] += 1
        tensor = first_tensor(output)
        if tensor is None:
            return
        records.append(LayerRecord(
            name=layer,
            type_name=type(module).__name__,
            output_shape=tuple(tensor.shape[1:]),
            n_params=sum(p.numel() for p in module.parameters()),
            depth=base.count(".") + 1,
            layout=layout_for(tuple(tensor.shape[1:]), module, batched=tensor.shape[0] == x.shape[0]),
        ))
        if visit is not None:
            visit(module, layer, inputs, tensor)

    try:
        for module in names:
            handles.append(module.register_forward_hook(hook))
        output = net(x)
    finally:
        for h in handles:
            h.remove()
    return output, records
