"""What every attribution method shares: the target it explains and one forward pass that taps layers.

A target is a class's pre-softmax score, a layer's channel (the sum of its map: the whole feature map) or
one neuron (a channel at a map position; a token layer's patch token, a channels-last layer's (row, col),
read through :mod:`.layout`). :func:`forward` runs a batch and returns each sample's target value with the
outputs of the layers it was asked to tap (Grad-CAM's layer), all in one pass; the hooks live for that call
only and are removed in ``finally``, error or not.
"""

from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import DeconvvizError
from .layers import resolve_layer
from .layout import layout_for, no_maps_error
from .probe import first_tensor


@dataclass(frozen=True)
class AttributionTarget:
    """What is explained: with no ``layer``, the score of ``class_index`` (None: the top class); with a
    ``layer``, its ``channel`` summed over the map, or at ``position`` (row, col) a single neuron."""

    class_index: int | None = None
    layer: str | None = None
    channel: int | None = None
    position: tuple[int, int] | None = None

    def describe(self) -> str:
        """Return e.g. "class 967", "_blocks.10 channel 3" or "_blocks.10 channel 3 at (4, 5)"."""
        if self.layer is None:
            return f"class {self.class_index}" if self.class_index is not None else "the top class"
        where = f" at {tuple(self.position)}" if self.position is not None else ""
        return f"{self.layer} channel {self.channel}{where}"


class _Stop(Exception):
    """Raised from the target layer's hook: the rest of the network is not needed."""


@contextlib.contextmanager
def tapped(net: nn.Module, layers: dict[str, str], graph_from: str | None = None, on_tap=None):
    """Yield a dict that, during the forward run inside the block, gets ``box[key]`` = the output of layer
    ``layers[key]`` (a ``name`` or ``name#call``) and ``box[key + ":layout"]`` its Layout.

    The network continues on a copy of a tapped output, so a later in-place operation (an in-place ReLU
    after a convolution) cannot change the tensor whose gradient is asked for. With ``graph_from`` (a key),
    that tap's output is a new leaf that asks for gradients and autograd is switched on from there: run the
    block's forward under ``torch.no_grad()`` and nothing before the layer is recorded. ``on_tap(key)`` is
    called as each tap fires. Every hook is removed on leaving the block, error or not.
    """
    box: dict = {}
    handles = []
    try:
        for key, layer in layers.items():
            module, wanted = resolve_layer(net, layer)
            calls = [0]

            def hook(mod, _inputs, output, key=key, wanted=wanted, calls=calls, layer=layer):
                call = calls[0]
                calls[0] += 1
                if call != wanted:
                    return None
                tensor = first_tensor(output)
                if tensor is None:
                    raise DeconvvizError(f"layer {layer!r} outputs no tensor ({type(output).__name__})")
                leaf = key == graph_from
                if leaf:
                    torch.set_grad_enabled(True)  # the caller's no_grad() restores the mode on leaving
                    tensor = tensor.detach().requires_grad_(True)
                box[key] = tensor
                box[key + ":layout"] = layout_for(tuple(tensor.shape[1:]), mod)
                if on_tap is not None:
                    on_tap(key)
                if key == "target" and "stop" in box:
                    raise _Stop
                if isinstance(output, torch.Tensor):
                    return tensor.clone()
                if leaf:  # a (tensor, ...) output: the network goes on from the leaf
                    return type(output)([tensor.clone(), *output[1:]]) if type(output) in (tuple, list) else None
                return None

            handles.append(module.register_forward_hook(hook))
        yield box
    finally:
        for handle in handles:
            handle.remove()


def class_scores(out) -> torch.Tensor:
    """Return the network's output as class scores (B, K), or DeconvvizError when it is not that."""
    out = first_tensor(out) if not isinstance(out, torch.Tensor) else out
    if out is None or out.dim() != 2:
        shape = tuple(out.shape[1:]) if out is not None else "no tensor"
        raise DeconvvizError(f"the model's output has shape {shape}, not class scores")
    return out


def resolve_class(net: nn.Module, x: torch.Tensor, target: AttributionTarget) -> AttributionTarget:
    """Return ``target`` with the top class of ``x`` filled in where a class target names none (one forward
    pass; none for a target that names its class or layer: :func:`forward` checks the class's range)."""
    if target.layer is not None:
        if target.channel is None:
            raise DeconvvizError(f"a target in layer {target.layer!r} needs a channel")
        return target
    if target.class_index is not None:
        return AttributionTarget(class_index=int(target.class_index))
    with torch.no_grad():
        scores = class_scores(net(x[:1]))
    return AttributionTarget(class_index=int(scores[0].argmax()))


_TOP: contextvars.ContextVar[dict | None] = contextvars.ContextVar("deconvviz top class", default=None)


@contextlib.contextmanager
def top_class_of_first_pass():
    """Yield a dict that, inside the block, gets ``"class"``: the top class of the first sample of the first
    forward pass that :func:`forward` runs for a class target naming no class; the later passes of the
    block explain that same class. For a method whose passes run on the input itself: the top class of the
    input, found without a forward pass of its own."""
    found: dict = {}
    token = _TOP.set(found)
    try:
        yield found
    finally:
        _TOP.reset(token)


def forward(net: nn.Module, xs: torch.Tensor, target: AttributionTarget, taps: dict[str, str] | None = None,
            graph_from: str | None = None, on_tap=None):
    """Return (values (B,), box): each sample's target value (differentiable) and the tapped outputs.

    ``target`` must be resolved (:func:`resolve_class`), or be a class target naming no class inside
    :func:`top_class_of_first_pass`. A layer target stops the forward pass at its layer. ``graph_from`` and
    ``on_tap``: as :func:`tapped`'s.
    """
    taps = dict(taps or {})
    if target.layer is not None:
        taps["target"] = target.layer
    with tapped(net, taps, graph_from, on_tap) as box:
        if target.layer is not None:
            box["stop"] = True
        try:
            out = net(xs)
        except _Stop:
            out = None
    missing = [taps[k] for k in taps if k not in box]
    if missing:
        raise DeconvvizError(f"layer {missing[0]!r} was not called during the forward pass"
                             + (" before the target layer" if target.layer is not None else ""))
    if target.layer is None:
        scores = class_scores(out)
        k = target.class_index
        if k is None:
            found = _TOP.get()
            if found is None:
                raise DeconvvizError("the target's class is not resolved (resolve_class)")
            k = found.setdefault("class", int(scores[0].detach().argmax()))
        if not 0 <= k < scores.shape[1]:
            raise DeconvvizError(f"class {k} out of range: valid 0..{scores.shape[1] - 1}")
        return scores[:, k], box
    return unit_value(box["target"], box["target:layout"], target), box


def unit_value(act: torch.Tensor, layout, target: AttributionTarget) -> torch.Tensor:
    """Return the (B,) value of ``target``'s channel (summed over its map) or neuron in a layer output."""
    if not layout.spatial:
        if act.dim() != 2:
            raise no_maps_error(target.layer, tuple(act.shape[1:]), "a channel target")
        if target.position is not None:
            raise DeconvvizError(f"layer {target.layer!r} has no map positions (output {tuple(act.shape[1:])})")
        maps = act
    else:
        maps = layout.maps(act)
    if not 0 <= target.channel < maps.shape[1]:
        raise DeconvvizError(f"channel {target.channel} out of range for layer {target.layer!r}: "
                             f"valid 0..{maps.shape[1] - 1}")
    unit = maps[:, target.channel]
    if target.position is None:
        return unit.reshape(unit.shape[0], -1).sum(1)
    row, col = target.position
    height, width = unit.shape[1:]
    if not (0 <= row < height and 0 <= col < width):
        raise DeconvvizError(f"position ({row}, {col}) outside layer {target.layer!r}'s {height}x{width} maps: "
                             f"valid rows 0..{height - 1}, cols 0..{width - 1}")
    return unit[:, row, col]


def check_input(x: torch.Tensor) -> None:
    """Raise DeconvvizError unless ``x`` is one image (1, C, H, W)."""
    if x.dim() != 4 or x.shape[0] != 1:
        raise DeconvvizError(f"expected one image (1, C, H, W), got {tuple(x.shape)}")
