"""A copy of a network for plain forward passes on the CPU: channels-last weights, batch norms folded in.

Playback answers each frame with plain forward passes: the frame's own pass to the layer (its maps and the
strongest position of its channel), its probabilities on the frames without panes, and the frame with the
square in place. On the CPU, oneDNN's convolutions run faster on channels-last weights: EfficientNet-Lite0's
forward pass took 20-22 ms of CPU time against 29 ms (2 shared AVX-512 cores, one thread; bench/video.py
measures the whole frame). Given an example input, each batch norm (eval mode, running statistics) that
reads a convolution's output is folded into that convolution's weights and bias, and the norm itself
becomes an identity (EfficientNet-Lite0's 49 batch norms cost 3.3 ms of a 27 ms pass), and a symmetric zero
padding module read by one convolution becomes that convolution's own padding (its 17 paddings, each a
padded copy of the input, cost another 3.3 ms; the 12 symmetric ones go).

The copy is checked on the example before it is used: every module's output along the pass (the folded
convolutions' own aside, which now include their norm) must equal the network's to float32 rounding
(1e-4 of each output's largest value); where one differs, the copy is made again without folding. The answers
agree to float32 rounding (on EfficientNet-Lite0's logits, of 10-20: 4.8e-7 for channels-last alone, 7.4e-6
folded). The copy is never the live model: hooks and incremental occlusion keep running on the model as
loaded, and the stills' projections too; playback's projection of a crop runs on the copy, checked against
the model's on the first frame (:mod:`deconvviz.analyses.frames`)."""

from __future__ import annotations

import copy
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

MAX_PARAMETERS = 100_000_000
"""Networks larger than this are not copied (the copy would double their memory); they run as loaded."""

TOLERANCE = 1e-4
"""The largest difference allowed between a module's output in the copy and in the network, as a share of the
output's largest value."""


def fast_copy(net: nn.Module, device: str | torch.device, example: torch.Tensor | None = None) -> nn.Module:
    """Return a channels-last copy of ``net`` for plain forward passes on a CPU ``device`` (with ``example``,
    an input, its batch norms folded where the check on it passes: module docstring); ``net`` itself on
    another device, for a network over :data:`MAX_PARAMETERS` or one that cannot be copied. The copy's
    ``folded`` attribute names the modules whose own outputs are not the network's (the convolutions that
    now include their batch norm, the paddings now done by their convolution): read such a layer from the
    network itself."""
    if torch.device(device).type != "cpu" or sum(p.numel() for p in net.parameters()) > MAX_PARAMETERS:
        return net
    try:
        plain = copy.deepcopy(net).to(memory_format=torch.channels_last).eval()
    except Exception:  # a user's model that does not deep-copy runs as loaded
        return net
    plain.folded = frozenset()
    if example is None:
        return plain
    for folds in ((fold_batchnorms, fold_paddings), (fold_batchnorms,)):
        try:
            folded = copy.deepcopy(plain)
            folded.folded = frozenset(name for fold in folds for name in fold(folded, example))
            if folded.folded and same_outputs(net, folded, example, skip=folded.folded):
                return folded
        except Exception:  # a network the fold or the check cannot run: fewer folds, or channels-last alone
            pass
    return plain


def conv_norm_pairs(net: nn.Module, example: torch.Tensor) -> list[tuple[str, str]]:
    """Return (convolution, batch norm) module names where, in one pass on ``example``, the norm (eval mode,
    running statistics) read the convolution's output tensor itself and each was called once."""
    calls: dict[str, int] = {}
    made: dict[int, str] = {}  # id of a convolution's output -> its module's name
    kept: list = []  # the outputs, alive while ids are compared
    pairs: list[tuple[str, str]] = []
    handles = []

    def hook(name, module):
        def record(_module, inputs, output):
            calls[name] = calls.get(name, 0) + 1
            if isinstance(module, nn.Conv2d) and isinstance(output, torch.Tensor):
                made[id(output)] = name
                kept.append(output)
            elif isinstance(module, nn.BatchNorm2d) and inputs and id(inputs[0]) in made:
                pairs.append((made[id(inputs[0])], name))
        return record

    for name, module in net.named_modules():
        if isinstance(module, (nn.Conv2d, nn.BatchNorm2d)):
            handles.append(module.register_forward_hook(hook(name, module)))
    try:
        with torch.inference_mode():
            net(example)
    finally:
        for h in handles:
            h.remove()
    modules = dict(net.named_modules())
    return [(c, b) for c, b in pairs if calls[c] == 1 and calls[b] == 1 and _foldable(modules[b])]


def _foldable(norm: nn.BatchNorm2d) -> bool:
    return not norm.training and norm.running_mean is not None and norm.running_var is not None


def fold_batchnorms(net: nn.Module, example: torch.Tensor) -> list[str]:
    """Fold, in place, each batch norm of :func:`conv_norm_pairs` into its convolution and put an identity in
    its place; return the folded convolutions' names."""
    modules = dict(net.named_modules())
    folded = []
    for conv_name, norm_name in conv_norm_pairs(net, example):
        conv, norm = modules[conv_name], modules[norm_name]
        with torch.no_grad():
            scale = torch.rsqrt(norm.running_var.double() + norm.eps)
            if norm.weight is not None:
                scale = scale * norm.weight.double()
            shift = -norm.running_mean.double() * scale
            if norm.bias is not None:
                shift = shift + norm.bias.double()
            bias = conv.bias.double() * scale if conv.bias is not None else torch.zeros_like(scale)
            weight = conv.weight.double() * scale.reshape(-1, *([1] * (conv.weight.dim() - 1)))
            conv.weight = nn.Parameter(weight.to(conv.weight.dtype).contiguous(memory_format=torch.channels_last),
                                       requires_grad=False)
            conv.bias = nn.Parameter((bias + shift).to(conv.weight.dtype), requires_grad=False)
        parent, _, child = norm_name.rpartition(".")
        setattr(modules[parent] if parent else net, child, nn.Identity())
        folded.append(conv_name)
    return folded


def fold_paddings(net: nn.Module, example: torch.Tensor) -> list[str]:
    """Hand, in place, each symmetric zero padding module whose output only a convolution (padding 0) read, in
    one pass on ``example``, to that convolution's own padding (oneDNN pads as it goes, without a padded
    copy of the input), and put an identity in its place; return the paddings' names."""
    calls: dict[str, int] = {}
    made: dict[int, str] = {}  # id of a padding's output -> its module's name
    kept: list = []
    weights = {id(m.weight): name for name, m in net.named_modules() if isinstance(m, nn.Conv2d)}
    pairs: dict[str, tuple[str, int]] = {}  # padding -> (convolution, how many convolutions read it)

    class Convolutions(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            if func is F.conv2d and args and id(args[0]) in made:
                pad = made[id(args[0])]
                padding = args[4] if len(args) > 4 else kwargs.get("padding", 0)
                zero = padding in (0, (0, 0), [0, 0], "valid")
                conv = weights.get(id(args[1])) if zero else None
                seen = pairs.get(pad, (conv, 0))
                pairs[pad] = (conv if seen[0] == conv else None, seen[1] + 1)
            return func(*args, **kwargs)

    def record(name):
        def hook(_module, _inputs, output):
            calls[name] = calls.get(name, 0) + 1
            made[id(output)] = name
            kept.append(output)
        return hook

    modules = dict(net.named_modules())
    handles = [m.register_forward_hook(record(name)) for name, m in modules.items()
               if type(m) in (nn.ZeroPad2d, nn.ConstantPad2d) and m.value == 0 and _symmetric(m.padding)]
    handles += [m.register_forward_hook(lambda m_, i, o, name=name: calls.__setitem__(name, calls.get(name, 0) + 1))
                for name, m in modules.items() if isinstance(m, nn.Conv2d)]
    try:
        with torch.inference_mode(), Convolutions():
            net(example)
    finally:
        for h in handles:
            h.remove()
    folded = []
    for pad, (conv, reads) in pairs.items():
        if conv is None or reads != 1 or calls.get(pad) != 1 or calls.get(conv) != 1:
            continue
        left, _, top, _ = modules[pad].padding
        modules[conv].padding = (top, left)
        parent, _, child = pad.rpartition(".")
        setattr(modules[parent] if parent else net, child, nn.Identity())
        folded.append(pad)
    return folded


def _symmetric(padding) -> bool:
    left, right, top, bottom = padding
    return left == right and top == bottom


def module_outputs(net: nn.Module, x: torch.Tensor, each: Callable[[str, torch.Tensor], None]) -> None:
    """Call ``each(name, output)`` for every call of a leaf module (one without children) in one pass on ``x``
    that outputs a tensor, in call order, then ``each("", the network's output)``. A container's output is
    made from its leaves' by the same code in both networks, so the leaves and the end say whether the two
    agree."""
    handles = [m.register_forward_hook(lambda _m, _i, o, name=name: each(name, o) if isinstance(o, torch.Tensor)
                                       else None)
               for name, m in net.named_modules() if name and next(m.children(), None) is None]
    try:
        with torch.inference_mode():
            each("", net(x))
    finally:
        for h in handles:
            h.remove()


def same_outputs(net: nn.Module, other: nn.Module, x: torch.Tensor, skip=frozenset()) -> bool:
    """Return whether every leaf module's output of ``other`` on ``x`` and its own (the modules named in ``skip``
    aside) equal ``net``'s to :data:`TOLERANCE`, in the same order; an identity standing for a folded norm is
    compared with the norm's output. Only ``net``'s outputs are kept; ``other``'s are compared as they come."""
    ours: list[tuple[str, torch.Tensor]] = []
    module_outputs(net, x, lambda name, t: ours.append((name, t.clone())) if name not in skip else None)
    seen = {"count": 0, "same": True}

    def compare(name: str, b: torch.Tensor) -> None:
        if name in skip or not seen["same"]:
            return
        i = seen["count"]
        seen["count"] += 1
        if i >= len(ours) or ours[i][0] != name or ours[i][1].shape != b.shape:
            seen["same"] = False
            return
        a = ours[i][1]
        if a.numel():
            scale = max(float(a.abs().max()), 1e-6)
            seen["same"] = float((a.float() - b.float()).abs().max()) <= TOLERANCE * scale
        ours[i] = (name, None)  # compared: its memory goes

    module_outputs(other, x, compare)
    return seen["same"] and seen["count"] == len(ours)
