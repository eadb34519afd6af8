"""How a sliding-window op moves a changed box: its geometry, read from a module or a call's arguments.

A :class:`Window` (convolution, max or average pooling) recomputes the outputs that can see the box; a
:class:`Shift` (constant padding) only moves the box. The readers return None where the op's outputs
depend on the border in a way a window cannot reproduce (circular padding, ``ceil_mode`` averages, ...):
the caller then recomputes the whole layer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class Window:
    """A sliding window: kernel, stride, padding, dilation (each (rows, columns)), the value the padding
    holds, and ``fn(window)``: the op on an already padded window (B, C, h, w), returning its outputs.

    ``padded(x, extra)`` (convolutions only, else None) is the op on an unpadded input with ``extra``
    (rows, columns) more zero padding on each side than its own: a zero padding before it folds into it.
    """

    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    pad_value: float
    fn: Callable[[torch.Tensor], torch.Tensor]
    padded: Callable[[torch.Tensor, tuple[int, int]], torch.Tensor] | None = None


@dataclass(frozen=True)
class Shift:
    """Constant padding by (top, left, bottom, right) with ``value``: the box moves by (top, left); the
    border it adds never changes."""

    top: int
    left: int
    bottom: int = 0
    right: int = 0
    value: float = 0.0

    @property
    def even_zeros(self) -> bool:
        """Return whether it pads with zeros, as much on each side as on the opposite one."""
        return self.value == 0 and self.top == self.bottom and self.left == self.right


Geometry = Window | Shift


def pair(v) -> tuple[int, int]:
    """Return v as (rows, columns): a number twice, or a 1- or 2-sequence."""
    if isinstance(v, (tuple, list)):
        return (int(v[0]), int(v[1])) if len(v) == 2 else (int(v[0]), int(v[0]))
    return int(v), int(v)


def bind(args, kwargs, names, defaults) -> dict:
    """Return a call's arguments by name: ``defaults`` overridden by positional ``args`` and ``kwargs``."""
    bound = dict(defaults)
    bound.update(zip(names, args))
    bound.update(kwargs)
    return bound


CONV_ARGS = ["input", "weight", "bias", "stride", "padding", "dilation", "groups"]
CONV_DEFAULTS = dict(bias=None, stride=1, padding=0, dilation=1, groups=1)


def conv_padding(padding, kernel, dilation) -> tuple[int, int] | None:
    """Return a convolution's padding as (rows, columns) ('valid'/'same' resolved), or None for uneven 'same'."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0)
        k, d = pair(kernel), pair(dilation)
        total = [d[i] * (k[i] - 1) for i in range(2)]
        if any(t % 2 for t in total):
            return None  # 'same' with uneven padding: whole-layer recompute
        return (total[0] // 2, total[1] // 2)
    return pair(padding)


def conv_module(m: nn.Conv2d, fused) -> Window | None:
    """Return a Conv2d module's Window (with ``fused`` (weight, bias) when given), or None."""
    if m.padding_mode != "zeros" or m.padding == "same" and any(s != 1 for s in m.stride):
        return None
    pad = conv_padding(m.padding, m.kernel_size, m.dilation)
    if pad is None:
        return None
    weight, bias = fused or (m.weight, m.bias)
    stride, dilation, groups = m.stride, m.dilation, m.groups
    return _conv_window(pair(m.kernel_size), pair(stride), pad, pair(dilation), groups, weight, bias)


def conv_call(args, kwargs, fused) -> Window | None:
    """Return an ``F.conv2d`` call's Window, or None."""
    a = bind(args, kwargs, CONV_ARGS, CONV_DEFAULTS)
    if isinstance(a["padding"], str):
        pad = conv_padding(a["padding"], tuple(a["weight"].shape[2:]), pair(a["dilation"]))
        if pad is None or (a["padding"] == "same" and pair(a["stride"]) != (1, 1)):
            return None
    else:
        pad = pair(a["padding"])
    weight, bias = fused or (a["weight"], a["bias"])
    s, d, g = pair(a["stride"]), pair(a["dilation"]), a["groups"]
    return _conv_window(tuple(weight.shape[2:]), s, pad, d, g, weight, bias)


def _conv_window(kernel, stride, padding, dilation, groups, weight, bias) -> Window:
    def padded(x, extra):
        return F.conv2d(x, weight, bias, stride, (padding[0] + extra[0], padding[1] + extra[1]), dilation, groups)

    return Window(kernel, stride, padding, dilation, 0.0,
                  lambda w: F.conv2d(w, weight, bias, stride, 0, dilation, groups), padded)


def max_pool(kernel, stride, padding, dilation, return_indices) -> Window | None:
    """Return a max pooling's Window (``ceil_mode`` needs nothing: the window is cut to real outputs)."""
    if return_indices:
        return None
    k, s, p, d = pair(kernel), pair(stride or kernel), pair(padding), pair(dilation)
    return Window(k, s, p, d, -math.inf, lambda w: F.max_pool2d(w, k, s, 0, d))


def max_pool_module(m: nn.MaxPool2d, fused=None) -> Window | None:
    return max_pool(m.kernel_size, m.stride, m.padding, m.dilation, m.return_indices)


def max_pool_call(args, kwargs, fused=None) -> Window | None:
    a = bind(args, kwargs, ["input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"],
             dict(stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False))
    return max_pool(a["kernel_size"], a["stride"], a["padding"], a["dilation"], a["return_indices"])


def avg_pool(kernel, stride, padding, ceil_mode, count_include_pad, divisor_override) -> Window | None:
    """Return an average pooling's Window, or None where its divisors depend on the border."""
    k, s, p = pair(kernel), pair(stride or kernel), pair(padding)
    if ceil_mode or divisor_override or (not count_include_pad and any(p)):
        return None
    return Window(k, s, p, (1, 1), 0.0, lambda w: F.avg_pool2d(w, k, s, 0))


def avg_pool_module(m: nn.AvgPool2d, fused=None) -> Window | None:
    return avg_pool(m.kernel_size, m.stride, m.padding, m.ceil_mode, m.count_include_pad, m.divisor_override)


def avg_pool_call(args, kwargs, fused=None) -> Window | None:
    a = bind(args, kwargs, ["input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                            "divisor_override"],
             dict(stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None))
    return avg_pool(a["kernel_size"], a["stride"], a["padding"], a["ceil_mode"], a["count_include_pad"],
                    a["divisor_override"])


def shift(padding, value=0.0) -> Shift | None:
    """Return constant padding's Shift from (left, right, top, bottom) or one number; None for cropping."""
    if isinstance(padding, int):
        padding = (padding,) * 4
    left, right, top, bottom = padding
    if min(padding) < 0:
        return None
    return Shift(top, left, bottom, right, float(value))


def pad_module(m: nn.ZeroPad2d | nn.ConstantPad2d, fused=None) -> Shift | None:
    return shift(m.padding, m.value)


def pad_call(args, kwargs, fused=None) -> Shift | None:
    a = bind(args, kwargs, ["input", "pad", "mode", "value"], dict(mode="constant", value=None))
    if a["mode"] != "constant" or len(a["pad"]) != 4:
        return None
    return shift(tuple(a["pad"]), a["value"] or 0.0)
