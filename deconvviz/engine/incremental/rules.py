"""One incremental rule per kind of op, and the registry that finds a node's rule by its op.

A rule turns a node's arguments (a :class:`~.delta.Delta` where the argument depends on the occluded
input, the cached value elsewhere) into the node's Delta. The registry is keyed by the op itself: the
module's type for ``call_module``, the function for ``call_function``, the method's name for
``call_method`` (``torch.fx`` records methods by name).
"""

from __future__ import annotations

import inspect
import math
import operator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np
import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import nn

from . import boxes, geometry
from .delta import Delta

if TYPE_CHECKING:
    from .net import IncrementalNet


@dataclass(frozen=True)
class RunOptions:
    """One incremental run: the batch size and the projective-field threshold ``field``.

    ``field`` (0, 1] caps, at every window op, the recomputed box to that fraction of the layer's height
    and width (Krypton's projective-field threshold); outputs outside the cap keep their unoccluded
    values. 1 caps nothing: the run is exact. ``overwrite``: the node may write its result into its first
    argument's tensor, which nothing else reads (:func:`runs_in_place`).
    """

    batch: int
    field: float = 1.0
    overwrite: bool = False


def _maps(value) -> bool:
    t = value.patch if isinstance(value, Delta) else value
    return isinstance(t, torch.Tensor) and t.dim() == 4


def _has_delta(values) -> bool:
    return any(isinstance(v, Delta) for v in values)


class Rule:
    """The default rule: the node's op on the materialised batch (every sample recomputed everywhere)."""

    def supports(self, node: fx.Node) -> bool:
        """Return whether this rule knows the node (some ops are only known for some arguments)."""
        return True

    def __call__(self, net: IncrementalNet, node: fx.Node, args, kwargs, run: RunOptions):
        """Return the node's value for this run: a Delta for a tensor, a plain value otherwise."""
        return net.generic(node, args, kwargs, run.batch)


class Whole(Rule):
    """Ops after the maps stop being spatial, or that mix positions globally: run on the whole batch."""


class Pointwise(Rule):
    """Ops on each position on its own (across channels at most): the box is kept."""

    def __call__(self, net, node, args, kwargs, run):
        d = args[0]
        if isinstance(d, Delta) and not _has_delta(list(args[1:]) + list(kwargs.values())):
            out = net.call(node, (d.patch,) + tuple(args[1:]), kwargs, inplace=run.overwrite)
            return Delta(out) if d.full else Delta(out, d.top, d.left)
        return net.generic(node, args, kwargs, run.batch)


class Shape(Rule):
    """``x.shape``, ``x.size()``, ``x.dim()``: the cached answer with this run's batch size."""

    def supports(self, node):
        return node.op != "call_function" or node.args[1] == "shape"

    def __call__(self, net, node, args, kwargs, run):
        base = net.base[node]
        if isinstance(base, (torch.Size, tuple)) and len(base) > 0:
            rest = (run.batch,) + tuple(base[1:])
            return torch.Size(rest) if isinstance(base, torch.Size) else type(base)(rest)
        if node.target == "size" and (node.args[1:] == (0,) or node.kwargs.get("dim") == 0):
            return run.batch
        return base


class Sliding(Rule):
    """Convolutions, pooling and constant padding: the outputs that can see the box, from a window of the
    cached input with the new values pasted in (padding only moves the box). Where that window would cover
    most of the output, or the op's geometry is not a plain window, the whole layer is recomputed."""

    def __init__(self, read: Callable, module: bool):
        self.read, self.module = read, module

    def geometry(self, net: IncrementalNet, node: fx.Node, args, kwargs) -> geometry.Geometry | None:
        """Return the node's Window or Shift, or None."""
        fused = net.fused.get(node)
        if self.module:
            return self.read(net.modules[node.target], fused)
        return self.read(args, kwargs, fused)

    def __call__(self, net, node, args, kwargs, run):
        d = args[0]
        if isinstance(d, Delta) and _maps(d) and not _has_delta(list(args[1:]) + list(kwargs.values())):
            g = self.geometry(net, node, args, kwargs)
            if d.full:
                if isinstance(g, geometry.Shift) and node in net.lazy_pads:
                    return Delta(d.patch, pad=(g.top, g.left))
                if isinstance(g, geometry.Window) and d.pad is not None and g.padded is not None:
                    return Delta(g.padded(d.patch, d.pad))
            elif isinstance(g, geometry.Shift):
                return Delta(d.patch, d.top + g.top, d.left + g.left)
            elif g is not None:
                return self._window(net, node, d, g, args, kwargs, run)
        return net.generic(node, args, kwargs, run.batch)

    @staticmethod
    def _window(net, node, d: Delta, g: geometry.Window, args, kwargs, run: RunOptions) -> Delta:
        out_h, out_w = net.base[node].shape[2:]
        h, w = d.patch.shape[2:]
        k, s, p, dil = g.kernel, g.stride, g.padding, g.dilation
        lo_r, n_r = boxes.out_range(d.top, h, k[0], s[0], p[0], dil[0], out_h)
        lo_c, n_c = boxes.out_range(d.left, w, k[1], s[1], p[1], dil[1], out_w)
        if run.field < 1:
            lo_r, n_r = _cap(lo_r, n_r, run.field, out_h)
            lo_c, n_c = _cap(lo_c, n_c, run.field, out_w)
        if n_r * n_c >= net.full_fraction * out_h * out_w:
            return net.generic(node, args, kwargs, run.batch)
        span_r = (n_r - 1) * s[0] + (k[0] - 1) * dil[0] + 1
        span_c = (n_c - 1) * s[1] + (k[1] - 1) * dil[1] + 1
        padded = Sliding.padded_input(net, node, g)
        start_r = lo_r * s[0] - p[0]  # window's first input row (unpadded coordinates)
        start_c = lo_c * s[1] - p[1]
        window = boxes.paste(padded, p, d.patch, d.top, d.left, start_r, start_c, span_r, span_c)
        return Delta(g.fn(window), lo_r, lo_c)

    @staticmethod
    def padded_input(net, node: fx.Node, g: geometry.Window) -> torch.Tensor:
        """Return the node's cached input (H, W, C) padded on every side by as much as any window can reach
        past the border (built once per input and padding)."""
        base_in, base_out = net.base[node.args[0]], net.base[node]
        height, width = base_in.shape[2:]
        out_h, out_w = base_out.shape[2:]
        k, s, p, dil = g.kernel, g.stride, g.padding, g.dilation
        extra_r = max(p[0], (out_h - 1) * s[0] - p[0] + (k[0] - 1) * dil[0] + 1 - height)
        extra_c = max(p[1], (out_w - 1) * s[1] - p[1] + (k[1] - 1) * dil[1] + 1 - width)
        key = (node.args[0], p, extra_r, extra_c, g.pad_value)
        padded = net.cache.get(key)
        if padded is None:
            padded = F.pad(base_in, (p[1], extra_c, p[0], extra_r), value=g.pad_value)
            padded = padded[0].permute(1, 2, 0).contiguous()  # (H, W, C): window gathers read whole pixels
            net.cache[key] = padded
        return padded


def _cap(lo: np.ndarray, n: int, field: float, n_out: int) -> tuple[np.ndarray, int]:
    """Return (lo, n) cut to at most ``field * n_out`` outputs around the range's centre (Krypton's threshold)."""
    most = max(1, math.ceil(field * n_out))
    if n <= most:
        return lo, n
    lo = np.minimum(np.maximum(lo + (n - most) // 2, 0), n_out - most)
    return lo.astype(np.int64, copy=False), most


class GlobalMean(Whole):
    """Global average pooling (adaptive average pooling to 1 x 1, a mean over both spatial axes): the cached
    mean plus the box's change over the map's area, in float64 (equal to the mean of the whole map up to
    float32 rounding; it reads the box, not the map: 0.3 ms less per live answer on EfficientNet-Lite0's
    1280 x 7 x 7 head). Other sizes and arguments: the whole batch."""

    def __call__(self, net, node, args, kwargs, run):
        d = args[0]
        rest = list(args[1:]) + list(kwargs.values())
        if not (isinstance(d, Delta) and not d.full and _maps(d) and not _has_delta(rest)
                and _global_mean(net, node, args, kwargs)):
            return net.generic(node, args, kwargs, run.batch)
        src = node.args[0]
        base_in, base_out = net.base[src], net.base[node]
        h, w = d.patch.shape[2:]
        if d.batch == 1:
            t, l = int(d.top[0]), int(d.left[0])
            # (H, W, C): the box's values per position are contiguous (strided reads over C cost a cache miss each)
            old = net.cached_hwc(src)[t:t + h, l:l + w].double().sum((0, 1)).unsqueeze(0)  # (1, C)
        else:
            key = ("summed area", src)
            table = net.cache.get(key)
            if table is None:  # (C, H + 1, W + 1): table[c, i, j] = the sum of rows < i and columns < j
                table = F.pad(base_in[0].double().cumsum(1).cumsum(2), (1, 0, 1, 0))
                net.cache[key] = table
            t = torch.as_tensor(d.top, device=table.device)
            l = torch.as_tensor(d.left, device=table.device)
            old = (table[:, t + h, l + w] - table[:, t, l + w] - table[:, t + h, l] + table[:, t, l]).T  # (B, C)
        change = (d.patch.double().sum((2, 3)) - old) / (base_in.shape[2] * base_in.shape[3])
        mean = base_out.double().reshape(1, -1) + change
        return Delta(mean.to(base_out.dtype).reshape((d.batch,) + tuple(base_out.shape[1:])))


def _global_mean(net, node, args, kwargs) -> bool:
    """Return whether the node averages its input's maps over both spatial axes into one value per channel."""
    if not node.args or not isinstance(node.args[0], fx.Node):
        return False
    base_in, base_out = net.base[node.args[0]], net.base[node]
    if not isinstance(base_out, torch.Tensor) or not isinstance(base_in, torch.Tensor) or base_in.dim() != 4 \
            or base_out.numel() != base_in.shape[1] or base_out.dtype != base_in.dtype:
        return False
    if node.op == "call_module":
        m = net.modules[node.target]
        return type(m) is nn.AdaptiveAvgPool2d and _one(m.output_size) and len(args) == 1 and not kwargs
    if node.op == "call_function" and node.target is F.adaptive_avg_pool2d:
        size = args[1] if len(args) > 1 else kwargs.get("output_size")
        return _one(size) and len(args) + len(kwargs) == 2
    if (node.op == "call_method" and node.target == "mean") \
            or (node.op == "call_function" and node.target is torch.mean):
        dims = args[1] if len(args) > 1 else kwargs.get("dim")
        dims = (dims,) if isinstance(dims, int) else dims
        return not set(kwargs) - {"dim", "keepdim"} and len(args) <= 3 and isinstance(dims, (tuple, list)) \
            and sorted(int(x) % 4 for x in dims) == [2, 3]
    return False


def _one(size) -> bool:
    return size == 1 or (isinstance(size, (tuple, list)) and list(size) in ([1], [1, 1]))


class Binary(Rule):
    """Sums and products of two maps (residual additions): the union of the boxes."""

    def __init__(self, op: Callable):
        self.op = op

    def __call__(self, net, node, args, kwargs, run):
        a, b = args[0], args[1]
        deltas = [v for v in (a, b) if isinstance(v, Delta)]
        if not deltas:
            return net.call(node, args, kwargs)  # arithmetic on sizes
        if kwargs or len(args) != 2 or any(v.full or not _maps(v) for v in deltas):
            return net.generic(node, args, kwargs, run.batch)
        out_shape = net.base[node].shape
        sources = []
        for value, src in zip((a, b), node.args[:2]):
            if isinstance(value, Delta):
                if tuple(net.base[src].shape) != tuple(out_shape):
                    return net.generic(node, args, kwargs, run.batch)
            elif isinstance(value, torch.Tensor) and value.dim() == 4 and value.shape[2:] != (1, 1) \
                    and value.shape[2:] != out_shape[2:]:
                return net.generic(node, args, kwargs, run.batch)
            sources.append((value, src))
        top, left, h, w = boxes.union([v.box for v in deltas], out_shape[2], out_shape[3])
        if net.full_fraction * out_shape[2] * out_shape[3] <= h * w:
            return net.generic(node, args, kwargs, run.batch)
        parts = []
        for value, src in sources:
            if isinstance(value, Delta):
                same = value.patch.shape[2:] == (h, w) and np.array_equal(value.top, top) \
                    and np.array_equal(value.left, left)
                parts.append(value.patch if same else
                             boxes.crop(net.cached_hwc(src), value.patch, value.top, value.left, top, left, h, w))
            elif isinstance(value, torch.Tensor) and value.dim() == 4 and value.shape[2:] != (1, 1):
                parts.append(boxes.crop(net.cached_hwc(src, value), None, None, None, top, left, h, w))
            else:
                parts.append(value)
        return Delta(self.op(parts[0], parts[1]), top, left)


class Cat(Rule):
    """Concatenation along channels: the union of the boxes, cached values around each."""

    def __call__(self, net, node, args, kwargs, run):
        tensors = args[0]
        dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
        deltas = [v for v in tensors if isinstance(v, Delta)]
        out_shape = net.base[node].shape
        if dim not in (1, -3) or any(v.full or not _maps(v) for v in deltas) or len(out_shape) != 4:
            return net.generic(node, args, kwargs, run.batch)
        top, left, h, w = boxes.union([v.box for v in deltas], out_shape[2], out_shape[3])
        parts = []
        for value, src in zip(tensors, node.args[0]):
            if isinstance(value, Delta):
                parts.append(boxes.crop(net.cached_hwc(src), value.patch, value.top, value.left, top, left, h, w))
            else:
                parts.append(boxes.crop(net.cached_hwc(src, value), None, None, None, top, left, h, w))
        return Delta(torch.cat(parts, 1), top, left)


_POINTWISE, _WHOLE, _SHAPE, _CAT, _MEAN = Pointwise(), Whole(), Shape(), Cat(), GlobalMean()

MODULE_RULES: dict[type, Rule] = {
    **{t: _POINTWISE for t in (
        nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU, nn.Mish,
        nn.Hardswish, nn.Hardsigmoid, nn.Hardtanh, nn.Sigmoid, nn.Tanh, nn.Softplus, nn.Identity,
        nn.BatchNorm2d, nn.LocalResponseNorm, nn.Dropout, nn.Dropout2d, nn.AlphaDropout)},
    nn.AdaptiveAvgPool2d: _MEAN,
    nn.Conv2d: Sliding(geometry.conv_module, module=True),
    nn.MaxPool2d: Sliding(geometry.max_pool_module, module=True),
    nn.AvgPool2d: Sliding(geometry.avg_pool_module, module=True),
    nn.ZeroPad2d: Sliding(geometry.pad_module, module=True),
    nn.ConstantPad2d: Sliding(geometry.pad_module, module=True),
    **{t: _WHOLE for t in (
        nn.Linear, nn.Flatten, nn.AdaptiveMaxPool2d, nn.Softmax, nn.LogSoftmax,
        nn.Upsample)},
}
"""The rule of each module type (exact type: a subclass may change what its forward does)."""

_BINARY_FUNCTIONS = (operator.add, operator.sub, operator.mul, operator.truediv, torch.add, torch.sub,
                     torch.mul, torch.div)
FUNCTION_RULES: dict[Callable, Rule] = {
    **{f: _POINTWISE for f in (
        F.relu, torch.relu, F.relu6, F.leaky_relu, F.elu, F.selu, F.celu, F.gelu, F.silu, F.mish, F.hardswish,
        F.hardsigmoid, F.hardtanh, torch.sigmoid, F.sigmoid, torch.tanh, F.tanh, F.softplus, F.dropout,
        F.dropout2d, torch.clamp, torch.clip, torch.exp, torch.abs, operator.neg, F.local_response_norm,
        F.batch_norm)},
    **{f: Binary(f) for f in _BINARY_FUNCTIONS},
    F.conv2d: Sliding(geometry.conv_call, module=False),
    torch.conv2d: Sliding(geometry.conv_call, module=False),
    F.max_pool2d: Sliding(geometry.max_pool_call, module=False),
    F.avg_pool2d: Sliding(geometry.avg_pool_call, module=False),
    F.pad: Sliding(geometry.pad_call, module=False),
    torch.cat: _CAT,
    getattr: _SHAPE,
    **{f: _WHOLE for f in (
        torch.flatten, F.linear, F.adaptive_max_pool2d, F.softmax, F.log_softmax,
        torch.softmax, torch.sum, F.interpolate, operator.getitem)},
    F.adaptive_avg_pool2d: _MEAN, torch.mean: _MEAN,
}

METHOD_RULES: dict[str, Rule] = {
    **{m: _POINTWISE for m in ("relu", "sigmoid", "tanh", "clamp", "clip", "exp", "abs", "neg", "contiguous",
                                "float", "to")},
    "add": Binary(operator.add), "sub": Binary(operator.sub), "mul": Binary(operator.mul),
    "div": Binary(operator.truediv),
    "size": _SHAPE, "dim": _SHAPE,
    "mean": _MEAN,
    **{m: _WHOLE for m in ("view", "reshape", "flatten", "sum", "amax", "squeeze", "unsqueeze", "permute",
                            "softmax", "log_softmax")},
}


INPLACE_FUNCTIONS = frozenset((F.relu, F.relu6, F.leaky_relu, F.elu, F.selu, F.celu, F.hardtanh, F.hardswish,
                               F.hardsigmoid, F.silu, F.mish, F.dropout, F.dropout2d))
"""Pointwise functions whose last argument is ``inplace``."""
INPLACE_METHODS = frozenset(("relu", "sigmoid", "tanh", "clamp", "clip", "exp", "abs", "neg"))
"""Pointwise methods with an in-place twin (the name with a trailing underscore)."""


def runs_in_place(node: fx.Node, modules: dict[str, nn.Module]) -> bool:
    """Return whether the node is a pointwise op that can write its result into its input: a module with
    an ``inplace`` switch, a function with an ``inplace`` argument or a method with an in-place twin (a
    fresh output would cost an allocation and its page faults: 3.3 ms against 0.2 ms for a ReLU6 over
    28 x 672 x 14 x 14)."""
    if not isinstance(rule_for(node, modules), Pointwise):
        return False
    if node.op == "call_module":
        return hasattr(modules[node.target], "inplace")
    if node.op == "call_function":  # (and not given ``inplace`` by position)
        return node.target in INPLACE_FUNCTIONS and len(node.args) < len(inspect.signature(node.target).parameters)
    return node.op == "call_method" and node.target in INPLACE_METHODS


def rule_for(node: fx.Node, modules: dict[str, nn.Module]) -> Rule | None:
    """Return the node's rule, or None when no rule knows its op."""
    if node.op == "call_module":
        rule = MODULE_RULES.get(type(modules[node.target]))
    elif node.op == "call_function":
        try:
            rule = FUNCTION_RULES.get(node.target)
        except TypeError:  # an unhashable target
            rule = None
    elif node.op == "call_method":
        rule = METHOD_RULES.get(node.target)
    else:
        rule = None
    return rule if rule is not None and rule.supports(node) else None
