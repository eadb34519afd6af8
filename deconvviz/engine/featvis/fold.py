"""Batch normalisation folded into the convolution before it, and a convolution's own symmetric zero padding
module into its padding, for the length of a feature visualisation.

In eval mode a BatchNorm2d is a per-channel affine map; right after a convolution it can be folded into that
convolution's weights and bias, which removes its forward and backward from every step (on efficientnet-lite0 up
to ``_blocks.10`` in channels-last memory they were 31 % of a step, measured). The pairs are found by one probe
pass (a convolution whose output goes straight into a batch norm and into no other module). TensorFlow-style
"same" convolutions (efficientnet's) pad with a ZeroPad2d child before convolving unpadded: where that padding
is symmetric, the convolution pads itself instead (no separate pad, copy and their backward). The folded network
is checked against the plain one on the probe: any difference beyond float rounding and nothing is folded. The
network's own tensors and attributes are given back on leaving.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from ..layers import capture, resolve_layer, run_until
from .fuse import conv_output_users, fuse

TOLERANCE = 1e-4  # relative to the output's largest value: float rounding, not another network


def _identity(x):
    return x


def conv_bn_pairs(net: nn.Module, probe) -> list[tuple[nn.Conv2d, nn.BatchNorm2d]]:
    """Return the (convolution, batch norm) pairs of ``net`` whose convolution's output only feeds that batch
    norm (in eval mode, with running statistics), as seen while ``probe()`` runs the network."""
    pairs, seen = [], set()
    for conv, users in conv_output_users(net, probe):
        bn = users[0] if users else None
        if len(users) == 1 and isinstance(bn, nn.BatchNorm2d) and not bn.training and bn.running_mean is not None \
                and bn.running_var is not None and id(conv) not in seen and bn.num_features == conv.out_channels:
            pairs.append((conv, bn))
            seen.add(id(conv))
    return pairs


def _sides(padding) -> tuple[int, int, int, int]:
    """Return a ZeroPad2d's (left, right, top, bottom)."""
    return tuple(padding) if isinstance(padding, (tuple, list)) else (padding,) * 4


def symmetric_pads(net: nn.Module) -> list[tuple[nn.Conv2d, nn.ZeroPad2d]]:
    """Return the convolutions (unpadded, zero padding mode) with one ZeroPad2d child padding left as right and
    top as bottom, with that child."""
    found = []
    for conv in net.modules():
        if not isinstance(conv, nn.Conv2d) or conv.padding_mode != "zeros" or tuple(conv.padding) != (0, 0):
            continue
        pads = [c for c in conv.children() if isinstance(c, nn.ZeroPad2d)]
        if len(pads) == 1:
            left, right, top, bottom = _sides(pads[0].padding)
            if left == right and top == bottom and left + top > 0:
                found.append((conv, pads[0]))
    return found


@contextlib.contextmanager
def folded(net: nn.Module, layer: str | None, example: torch.Tensor, fused: bool = False):
    """Run the block with ``net``'s convolution + batch-norm pairs folded (see the module docstring), up to
    ``layer`` (None: the whole network); ``example`` (1, C, H, W) is the probe's input. With ``fused`` (CPU) the
    convolutions then run with their activations and asymmetric paddings as :mod:`.fuse` says. Yields the number
    of batch norms folded (0 when the check failed or there were none)."""
    target = resolve_layer(net, layer)[0] if layer is not None else None

    def run() -> torch.Tensor:
        with torch.no_grad():
            if layer is None:
                return net(example)
            with capture(net, layer) as box:
                return run_until(net, example, box, layer).clone()

    reference = run()
    pairs = [(c, b) for c, b in conv_bn_pairs(net, run) if c is not target]
    undo = []
    try:
        for conv, pad in symmetric_pads(net):
            left, right, top, bottom = _sides(pad.padding)
            old, conv.padding, pad.forward = conv.padding, (top, left), _identity
            undo.append(lambda conv=conv, pad=pad, old=old: (setattr(conv, "padding", old),
                                                             pad.__dict__.pop("forward", None)))
        for conv, bn in pairs:
            with torch.no_grad():
                scale = bn.running_var.add(bn.eps).rsqrt()
                if bn.weight is not None:
                    scale = scale * bn.weight
                shift = -bn.running_mean * scale + (bn.bias if bn.bias is not None else 0)
                weight = conv.weight.data
                conv.weight.data = weight * scale.view(-1, 1, 1, 1).to(weight)
                if conv.bias is not None:
                    bias = conv.bias.data
                    conv.bias.data = bias * scale + shift
                    undo.append(lambda conv=conv, weight=weight, bias=bias: (setattr(conv.weight, "data", weight),
                                                                             setattr(conv.bias, "data", bias)))
                else:  # a bias for the run (inside the convolution: a separate add cost as much as the norm)
                    conv.bias = nn.Parameter(shift.to(weight.dtype), requires_grad=False)
                    undo.append(lambda conv=conv, weight=weight: (setattr(conv.weight, "data", weight),
                                                                  setattr(conv, "bias", None)))
            bn.forward = _identity
            undo.append(lambda bn=bn: bn.__dict__.pop("forward", None))
        if fused:
            keep = {id(target)} | {id(c) for c, b in pairs if b is target}
            undo += fuse(net, run, {id(b) for _, b in pairs}, keep)
        if undo:
            check = run()
            scale = reference.abs().max().clamp(min=1e-12)
            if check.shape != reference.shape or (check - reference).abs().max() > TOLERANCE * scale:
                for fn in reversed(undo):
                    fn()
                undo, pairs = [], []
        yield len(pairs)
    finally:
        for fn in reversed(undo):
            fn()
