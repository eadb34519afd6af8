"""Convolutions run as one oneDNN primitive with the activation after them, and a depthwise convolution's
TensorFlow-style asymmetric "same" padding moved into its kernel, for the length of a feature visualisation on the
CPU (after :mod:`.fold` has folded the batch norms).

Measured on efficientnet-lite0 at 224 px, batches of 8, one core: a 16 -> 96 1x1 convolution then its ReLU6 took
13.6 ms, the fused primitive 6.8 ms (the clamp's pass over 38 MiB gone); the stride-2 3x3 depthwise convolution
after a (0, 1, 0, 1) zero pad took 10.8 ms forward and 10.5 ms backward with the pad, copy and slice, 5.9 and 6.2
ms as a 4x4 kernel whose first row and column are zero with padding 1 (the same sums; no padded copy).

The backward is the convolution's own input gradient (``aten::convolution_backward``) after the activation's
(from the output: ReLU6's derivative is 1 exactly where its output lies strictly between its bounds).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

ACT_TAG = "_deconvviz_activated"  # set on a fused convolution's output: the activation module that is done


def activation_of(module: nn.Module) -> tuple[str, list[float]] | None:
    """Return oneDNN's post-op (name, scalars) computing ``module`` (ReLU, ReLU6, Hardtanh), or None."""
    if type(module) is nn.ReLU:
        return "relu", []
    if type(module) in (nn.ReLU6, nn.Hardtanh):
        return "hardtanh", [float(module.min_val), float(module.max_val)]
    return None


def available() -> bool:
    """Return whether oneDNN's fused convolution is there (a CPU build with mkldnn)."""
    return torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_convolution_pointwise")


class _ConvAct(torch.autograd.Function):
    """y = act(conv(x)) in one oneDNN primitive; the gradient for ``x`` only (the weights are constant)."""

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups, attr, scalars):
        y = torch.ops.mkldnn._convolution_pointwise(x, weight, bias, padding, stride, dilation, groups, attr,
                                                    scalars, None)
        ctx.save_for_backward(x, y)
        ctx.conv = (weight, stride, padding, dilation, groups, attr, scalars)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        weight, stride, padding, dilation, groups, attr, scalars = ctx.conv
        if attr == "relu":
            grad = torch.ops.aten.threshold_backward(grad, y, 0)
        elif attr == "hardtanh":
            grad = torch.ops.aten.hardtanh_backward(grad, y, *scalars)
        dx = torch.ops.aten.convolution_backward(grad, x, weight, None, list(stride), list(padding), list(dilation),
                                                 False, [0, 0], groups, [True, False, False])[0]
        return dx, None, None, None, None, None, None, None, None


def _pad_child(conv: nn.Conv2d) -> tuple[bool, nn.Module | None]:
    """Return (usable, the convolution's padding child or None): usable when it has no child, or one ZeroPad2d or
    one identity (efficientnet's Conv2dStaticSamePadding holds a ZeroPad2d, or its own ``Identity`` class for a
    1x1 kernel)."""
    children = list(conv.children())
    if not children:
        return True, None
    if len(children) == 1 and (isinstance(children[0], nn.ZeroPad2d) or _hands_back(children[0])):
        return True, children[0]
    return False, None


def _hands_back(module: nn.Module) -> bool:
    """Return whether ``module`` has no parameters and returns its input itself: an identity, whichever class."""
    if any(True for _ in module.parameters()):
        return False
    probe = torch.zeros(1, 1, 1, 1)
    try:
        return module(probe) is probe
    except Exception:  # a module that cannot take the probe is not an identity
        return False


def _into_kernel(conv: nn.Conv2d, pad: nn.Module | None):
    """Return (weight, padding) computing ``pad`` then ``conv`` with the padding in the kernel, for a depthwise
    convolution whose pad is one more after than before on each side ((l, l + 1, t, t + 1), or symmetric on one),
    else None. A zero first row (column) and padding l + 1 sum the same products as padding (l, l + 1)."""
    if not isinstance(pad, nn.ZeroPad2d) or "forward" in pad.__dict__ or tuple(conv.padding) != (0, 0) \
            or tuple(conv.dilation) != (1, 1) or not conv.groups == conv.in_channels == conv.out_channels:
        return None
    p = pad.padding
    left, right, top, bottom = tuple(p) if isinstance(p, (tuple, list)) else (p,) * 4
    if right - left not in (0, 1) or bottom - top not in (0, 1) or (right - left) + (bottom - top) == 0:
        return None
    weight = F.pad(conv.weight.detach(), (right - left, 0, bottom - top, 0))
    return weight.contiguous(memory_format=torch.channels_last) \
        if conv.weight.is_contiguous(memory_format=torch.channels_last) else weight, (bottom, right)


def conv_output_users(net: nn.Module, probe) -> list[tuple[nn.Conv2d, list[nn.Module]]]:
    """Return, for each convolution output made while ``probe()`` runs ``net``, (the convolution, the modules
    that read that very tensor, in call order; empty: none)."""
    outputs: dict[int, tuple[torch.Tensor, nn.Module]] = {}
    uses: dict[int, list[nn.Module]] = {}

    def after_conv(module, _inputs, output):
        if isinstance(output, torch.Tensor):
            outputs[id(output)] = (output, module)

    def before_any(module, inputs):
        for t in inputs:
            if isinstance(t, torch.Tensor) and id(t) in outputs and outputs[id(t)][0] is t:
                uses.setdefault(id(t), []).append(module)

    handles = [m.register_forward_hook(after_conv) for m in net.modules() if isinstance(m, nn.Conv2d)]
    handles += [m.register_forward_pre_hook(before_any) for m in net.modules()]
    try:
        probe()
    finally:
        for h in handles:
            h.remove()
    return [(conv, uses.get(key, [])) for key, (_, conv) in outputs.items()]


def conv_act_pairs(net: nn.Module, probe, folded_norms: set[int]) -> dict[int, nn.Module]:
    """Return {id(convolution): activation module} for the convolutions whose output (after batch norms folded
    away, ``folded_norms`` their ids) goes into exactly one ReLU/ReLU6/Hardtanh module and no other module, as seen
    while ``probe()`` runs the network."""
    found: dict[int, nn.Module | None] = {}  # None: a call of it goes elsewhere
    for conv, users in conv_output_users(net, probe):
        rest = [u for u in users if id(u) not in folded_norms]
        act = rest[0] if len(rest) == 1 and activation_of(rest[0]) is not None else None
        found[id(conv)] = act if found.get(id(conv), act) is act else None
    return {k: a for k, a in found.items() if a is not None}


def fuse(net: nn.Module, probe, folded_norms: set[int], keep: set[int]) -> list:
    """Patch ``net``'s convolutions (not those in ``keep``, by id) to run fused with their activation and, for
    depthwise ones, with their asymmetric padding in the kernel; return the undo callables (in order)."""
    if not available():
        return []
    acts = conv_act_pairs(net, probe, folded_norms)
    undo = []
    patched_acts = {}
    for conv in net.modules():
        if not isinstance(conv, nn.Conv2d) or id(conv) in keep or conv.padding_mode != "zeros" \
                or isinstance(conv.padding, str) or conv.weight.dtype != torch.float32:
            continue
        usable, pad = _pad_child(conv)
        if not usable:
            continue
        act = acts.get(id(conv))
        inside = _into_kernel(conv, pad)
        if act is None and inside is None:
            continue
        attr, scalars = activation_of(act) if act is not None else ("none", [])
        weight, padding = inside if inside is not None else (None, tuple(conv.padding))
        before = None if inside is not None else pad

        def forward(x, conv=conv, before=before, weight=weight, padding=padding, attr=attr, scalars=scalars,
                    act=act):
            if before is not None:
                x = before(x)
            y = _ConvAct.apply(x, conv.weight if weight is None else weight, conv.bias, tuple(conv.stride),
                               padding, tuple(conv.dilation), conv.groups, attr, scalars)
            if act is not None:
                setattr(y, ACT_TAG, act)
            return y

        conv.forward = forward
        undo.append(lambda conv=conv: conv.__dict__.pop("forward", None))
        if act is not None and id(act) not in patched_acts:
            patched_acts[id(act)] = act
            own = act.forward

            def passing(x, *args, act=act, own=own, **kwargs):
                return x if getattr(x, ACT_TAG, None) is act else own(x, *args, **kwargs)

            act.forward = passing
            undo.append(lambda act=act: act.__dict__.pop("forward", None))
    return undo
