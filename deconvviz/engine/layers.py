"""Finding a layer by name and capturing its output during a forward pass."""

from __future__ import annotations

import contextlib
import difflib

import torch
from torch import nn

from ..errors import DeconvvizError
from .layout import layout_for
from .probe import first_tensor, split_call_name


class _StopForward(Exception):
    """Raised from a hook to skip the rest of the network once the wanted output is captured."""


def resolve_layer(net: nn.Module, layer: str) -> tuple[nn.Module, int]:
    """Return (module, call index) for a layer name, or raise DeconvvizError naming close valid names."""
    name, call = split_call_name(layer)
    modules = dict(net.named_modules())
    if not name or name not in modules:
        valid = [n for n in modules if n]
        close = difflib.get_close_matches(name, valid, n=5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise DeconvvizError(
            f"unknown layer {layer!r}{hint} (valid: {', '.join(valid[:12])}{', ...' if len(valid) > 12 else ''}; "
            f"`deconvviz layers` lists them all)"
        )
    return modules[name], call


@contextlib.contextmanager
def capture(net: nn.Module, layer: str, stop: bool = True):
    """Yield a dict whose ``"output"`` is set to ``layer``'s output during the forward run inside the block,
    and ``"layout"`` to its :class:`~.layout.Layout` (how it reads as feature maps).

    With ``stop``, the forward pass ends right after that output (the rest of the network is skipped);
    run the forward through :func:`run_until`. Without it the output is a copy: the rest of the pass may
    change the layer's tensor in place (an in-place ReLU after a convolution). The hook is removed on
    leaving the block, error or not.
    """
    module, wanted_call = resolve_layer(net, layer)
    box: dict = {"calls": 0}

    def note_batch(_net, inputs):
        if inputs and isinstance(inputs[0], torch.Tensor):
            box["batch"] = inputs[0].shape[0]

    def hook(_module, _inputs, output):
        call = box["calls"]
        box["calls"] += 1
        if call == wanted_call:
            box["output"] = first_tensor(output)
            if box["output"] is None:
                raise DeconvvizError(f"layer {layer!r} outputs no tensor ({type(output).__name__})")
            out_batch = box["output"].shape[0]
            box["layout"] = layout_for(tuple(box["output"].shape[1:]), module,
                                       batched=out_batch == box.get("batch", out_batch))
            if stop:
                raise _StopForward
            box["output"] = box["output"].clone()

    handles = [net.register_forward_pre_hook(note_batch), module.register_forward_hook(hook)]
    try:
        yield box
    finally:
        for handle in handles:
            handle.remove()


def run_until(net: nn.Module, x: torch.Tensor, box: dict, layer: str) -> torch.Tensor:
    """Run ``net(x)`` inside a :func:`capture` block and return the captured output of ``layer``."""
    try:
        net(x)
    except _StopForward:
        pass
    if "output" not in box:
        raise DeconvvizError(f"layer {layer!r} was not called during the forward pass (it has {box['calls']} calls)")
    return box["output"]
