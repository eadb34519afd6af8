"""Exact incremental inference for occluded inputs (Nakandala et al., SIGMOD 2019), on any traceable graph.

The network is traced once with ``torch.fx`` and run once on the unoccluded image, keeping every node's
output. An occluded batch then travels through the graph as :class:`Delta` values: per sample, a box of
positions that may differ from the unoccluded output (the same size for every sample of the batch, its
corner per sample) and the new values inside it. Outside the box the value *is* the cached one. Each node
propagates the box by its geometry:

- convolutions and max/avg pooling (any kernel, stride, padding, dilation, groups, depthwise): the output
  window that can see the changed box, recomputed from a window of the cached input with the new values
  pasted in; where that window covers most of the output, the whole layer is recomputed instead;
- pointwise-in-space operations (ReLU, ReLU6, batch norm, local response norm, ...): the box is kept;
- constant padding: the box moves;
- sums and products of two maps (residual additions): the union of the boxes;
- everything after the maps stop being spatial (global pooling, flatten, linear): the whole tensor.

Operations it does not know raise :class:`Unsupported` when the graph is built, and the caller falls back
to batched full inference; so does a model ``torch.fx`` cannot trace.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass

import numpy as np
import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import nn


class Unsupported(Exception):
    """The graph holds an operation whose effect on a changed box is unknown (or it cannot be traced)."""


@dataclass
class Delta:
    """A batch of values that equal a node's cached value except inside one box per sample.

    ``patch`` is (B, C, h, w) for a 4-D node (``top``/``left`` numpy int64 arrays (B,) give each box's
    corner), or the whole batched tensor when ``full`` (then ``top``/``left`` are None).
    """

    patch: torch.Tensor
    top: np.ndarray | None = None
    left: np.ndarray | None = None

    @property
    def full(self) -> bool:
        """Return whether the patch is the whole tensor of every sample."""
        return self.top is None

    @property
    def batch(self) -> int:
        """Return the number of samples."""
        return self.patch.shape[0]


# Modules and functions that act on each spatial position on its own (across channels at most).
_POINTWISE_MODULES = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU, nn.Mish,
    nn.Hardswish, nn.Hardsigmoid, nn.Hardtanh, nn.Sigmoid, nn.Tanh, nn.Softplus, nn.Identity,
    nn.BatchNorm2d, nn.LocalResponseNorm, nn.Dropout, nn.Dropout2d, nn.AlphaDropout,
)
_POINTWISE_FUNCTIONS = {
    F.relu, torch.relu, F.relu6, F.leaky_relu, F.elu, F.selu, F.celu, F.gelu, F.silu, F.mish, F.hardswish,
    F.hardsigmoid, F.hardtanh, torch.sigmoid, F.sigmoid, torch.tanh, F.tanh, F.softplus, F.dropout,
    F.dropout2d, torch.clamp, torch.clip, torch.exp, torch.abs, operator.neg, F.local_response_norm,
    F.batch_norm,
}
_POINTWISE_METHODS = {"relu", "sigmoid", "tanh", "clamp", "clip", "exp", "abs", "neg", "contiguous",
                      "float", "to"}
_BINARY = {operator.add, operator.sub, operator.mul, operator.truediv, torch.add, torch.sub, torch.mul,
           torch.div}
_BINARY_METHODS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv}
# Whole-tensor operations that treat every sample on its own: run on the materialised batch.
_WHOLE_MODULES = (
    nn.Linear, nn.Flatten, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.Softmax, nn.LogSoftmax,
    nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.ZeroPad2d, nn.ConstantPad2d, nn.Upsample,
)
_WHOLE_FUNCTIONS = {
    torch.flatten, F.linear, F.adaptive_avg_pool2d, F.adaptive_max_pool2d, F.softmax, F.log_softmax,
    torch.softmax, torch.cat, torch.mean, torch.sum, F.conv2d, torch.conv2d, F.max_pool2d, F.avg_pool2d,
    F.pad, F.interpolate, operator.getitem,
}
_WHOLE_METHODS = {"view", "reshape", "flatten", "mean", "sum", "amax", "squeeze", "unsqueeze", "permute",
                  "softmax", "log_softmax"}
_SHAPE_METHODS = {"size", "dim"}
_FULL_FRACTION = 0.6  # recompute the whole layer when the changed window covers this much of it


def _maps(delta_or_tensor) -> bool:
    t = delta_or_tensor.patch if isinstance(delta_or_tensor, Delta) else delta_or_tensor
    return isinstance(t, torch.Tensor) and t.dim() == 4


def _pair(v) -> tuple[int, int]:
    if isinstance(v, (tuple, list)):
        return (int(v[0]), int(v[1])) if len(v) == 2 else (int(v[0]), int(v[0]))
    return int(v), int(v)


class IncrementalNet:
    """The network as a traced graph, the unoccluded input's value at every node, and incremental runs.

    ``run(delta)`` takes the input's change as a :class:`Delta` and returns the output batch (B, ...) and,
    for the node named ``tap``, its Delta. With ``fold_batchnorm``, an eval-mode batch norm that is a
    convolution's only reader is folded into the recomputed convolution's weights (the cached values stay
    the model's own; the difference is rounding, about 1e-7 relative). Raises :class:`Unsupported` at construction for graphs it cannot
    reason about (the caller then falls back to full inference).
    """

    def __init__(self, net: nn.Module, x: torch.Tensor, full_fraction: float = _FULL_FRACTION,
                 fold_batchnorm: bool = True):
        self.net = net
        self.full_fraction = full_fraction
        try:
            self.gm = fx.symbolic_trace(net)
        except Exception as exc:  # any tracing failure means: not for us
            raise Unsupported(f"torch.fx cannot trace {type(net).__name__}: {type(exc).__name__}: {exc}") from None
        self.modules = dict(self.gm.named_modules())
        self.nodes = list(self.gm.graph.nodes)
        self._check_graph()
        self.base: dict[fx.Node, object] = {}
        self._padded: dict = {}
        self.fused: dict[fx.Node, tuple] = {}
        self.folded: set[fx.Node] = set()
        with torch.no_grad():
            self._run_base(x)
            if fold_batchnorm:
                self._fold_batchnorm()

    # ---- building -------------------------------------------------------------------------------------
    def _check_graph(self) -> None:
        placeholders = [n for n in self.nodes if n.op == "placeholder"]
        if len(placeholders) != 1:
            raise Unsupported(f"the model takes {len(placeholders)} inputs; occlusion needs exactly one")
        self.input = placeholders[0]
        # Which nodes depend on the input: only those can change under occlusion and need a rule.
        self.varies = {self.input}
        for node in self.nodes:
            if any(a in self.varies for a in node.all_input_nodes):
                self.varies.add(node)
        for node in self.nodes:
            if node.op in ("placeholder", "get_attr", "output") or node not in self.varies:
                continue
            kind = self._kind(node)
            if kind is None:
                raise Unsupported(f"no incremental rule for {node.op} {node.target!r} ({node.name})")
            if node.op == "call_module" and getattr(self.modules[node.target], "inplace", False):
                # Run out of place: equal to the model's semantics only if nothing else reads the input after.
                later = [u for u in node.args[0].users if u is not node] if isinstance(node.args[0], fx.Node) else []
                if any(self.nodes.index(u) > self.nodes.index(node) for u in later):
                    raise Unsupported(f"in-place {node.target} overwrites a value read later")
            if node.op == "call_function" and node.kwargs.get("inplace"):
                raise Unsupported(f"in-place call {node.target} ({node.name})")

    def _kind(self, node: fx.Node) -> str | None:
        if node.op == "call_module":
            m = self.modules[node.target]
            if type(m) in _POINTWISE_MODULES:
                return "pointwise"
            if type(m) in (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.ZeroPad2d, nn.ConstantPad2d):
                return "window"
            if type(m) in _WHOLE_MODULES:
                return "whole"
            return None
        if node.op == "call_function":
            t = node.target
            if t in _POINTWISE_FUNCTIONS:
                return "pointwise"
            if t in _BINARY:
                return "binary"
            if t in (F.conv2d, torch.conv2d, F.max_pool2d, F.avg_pool2d, F.pad):
                return "window"
            if t is torch.cat:
                return "cat"
            if t is getattr:
                return "shape" if node.args[1] in ("shape",) else None
            if t in _WHOLE_FUNCTIONS:
                return "whole"
            return None
        if node.op == "call_method":
            t = node.target
            if t in _SHAPE_METHODS:
                return "shape"
            if t in _POINTWISE_METHODS:
                return "pointwise"
            if t in _BINARY_METHODS:
                return "binary"
            if t in _WHOLE_METHODS:
                return "whole"
        return None

    def _fold_batchnorm(self) -> None:
        for node in self.nodes:
            if node.op != "call_module" or type(self.modules[node.target]) is not nn.BatchNorm2d:
                continue
            bn, src = self.modules[node.target], node.args[0]
            if bn.training or bn.running_mean is None or not isinstance(src, fx.Node) or len(src.users) != 1 \
                    or node.kwargs or len(node.args) != 1:
                continue
            if src.op == "call_module" and type(self.modules[src.target]) is nn.Conv2d \
                    and self.modules[src.target].padding_mode == "zeros":
                weight, bias = self.modules[src.target].weight, self.modules[src.target].bias
            elif src.op == "call_function" and src.target in (F.conv2d, torch.conv2d):
                a = _bind(src.args, src.kwargs, ["input", "weight", "bias"], dict(bias=None))
                if any(isinstance(a[k], fx.Node) and a[k] in self.varies for k in ("weight", "bias")):
                    continue
                weight = self.base[a["weight"]] if isinstance(a["weight"], fx.Node) else a["weight"]
                bias = self.base[a["bias"]] if isinstance(a["bias"], fx.Node) else a["bias"]
            else:
                continue
            scale = torch.rsqrt(bn.running_var + bn.eps)
            shift = -bn.running_mean * scale
            if bn.affine:
                scale, shift = scale * bn.weight, shift * bn.weight + bn.bias
            fused_bias = shift if bias is None else bias * scale + shift
            self.fused[src] = ((weight * scale.reshape(-1, 1, 1, 1)).contiguous(), fused_bias.contiguous())
            self.folded.add(node)

    def _call(self, node: fx.Node, args, kwargs):
        """Return the node's op applied to concrete arguments (in-place modules run out of place)."""
        if node in self.fused:
            weight, bias = self.fused[node]
            if node.op == "call_module":
                m = self.modules[node.target]
                return F.conv2d(args[0], weight, bias, m.stride, m.padding, m.dilation, m.groups)
            a = _bind(args, kwargs, ["input", "weight", "bias", "stride", "padding", "dilation", "groups"],
                      dict(bias=None, stride=1, padding=0, dilation=1, groups=1))
            return F.conv2d(a["input"], weight, bias, a["stride"], a["padding"], a["dilation"], a["groups"])
        if node.op == "call_module":
            m = self.modules[node.target]
            if getattr(m, "inplace", False):
                m.inplace = False
                try:
                    return m(*args, **kwargs)
                finally:
                    m.inplace = True
            return m(*args, **kwargs)
        if node.op == "call_function":
            return node.target(*args, **kwargs)
        obj, *rest = args
        return getattr(obj, node.target)(*rest, **kwargs)

    def _fetch(self, node):
        if node.op == "get_attr":
            obj = self.gm
            for part in node.target.split("."):
                obj = getattr(obj, part)
            return obj
        return None

    def _run_base(self, x: torch.Tensor) -> None:
        env = self.base
        for node in self.nodes:
            if node.op == "placeholder":
                env[node] = x
            elif node.op == "get_attr":
                env[node] = self._fetch(node)
            elif node.op == "output":
                env[node] = fx.node.map_arg(node.args[0], lambda n: env[n])
            else:
                args = fx.node.map_arg(node.args, lambda n: env[n])
                kwargs = fx.node.map_arg(node.kwargs, lambda n: env[n])
                env[node] = self._call(node, args, kwargs)
        out = env[self.nodes[-1]]
        self.output_node = self.nodes[-1]
        if not isinstance(out, torch.Tensor):
            raise Unsupported("the model's output is not a single tensor")

    # ---- running --------------------------------------------------------------------------------------
    @torch.no_grad()
    def run(self, delta: Delta, tap: fx.Node | None = None) -> tuple[torch.Tensor, Delta | None]:
        """Return (the output batch (B, ...), the Delta at node ``tap``) for the input change ``delta``."""
        env: dict[fx.Node, object] = {}
        batch = delta.batch
        remaining = {n: len(n.users) for n in self.nodes}
        tapped = None
        for node in self.nodes:
            if node.op == "placeholder":
                value = delta
            elif node not in self.varies:
                continue
            elif node.op == "output":
                value = self._whole(env[node.args[0]], node.args[0], batch) if isinstance(node.args[0], fx.Node) \
                    else None
            else:
                value = self._step(node, env, batch)
            env[node] = value
            if node is tap:
                tapped = value
            for a in node.all_input_nodes:  # free what no later node reads
                remaining[a] -= 1
                if remaining[a] == 0 and a in env and a is not tap:
                    del env[a]
        out = env[self.output_node]
        return out, tapped

    def _value(self, env, a):
        return env[a] if isinstance(a, fx.Node) and a in self.varies else (self.base[a] if isinstance(a, fx.Node) else a)

    def _step(self, node: fx.Node, env, batch: int):
        if node in self.folded:  # its convolution already applied it
            return env[node.args[0]]
        kind = self._kind(node)
        args = fx.node.map_arg(node.args, lambda n: self._value(env, n))
        kwargs = fx.node.map_arg(node.kwargs, lambda n: self._value(env, n))
        if kind == "shape":
            base = self.base[node]
            if isinstance(base, (torch.Size, tuple)) and len(base) > 0:
                return type(base)((batch,) + tuple(base[1:])) if isinstance(base, tuple) else torch.Size((batch,) + tuple(base[1:]))
            if node.target == "size" and (node.args[1:] == (0,) or node.kwargs.get("dim") == 0):
                return batch
            return base
        if kind == "pointwise":
            d = args[0]
            if isinstance(d, Delta) and not any(isinstance(a, Delta) for a in list(args[1:]) + list(kwargs.values())):
                if d.full:
                    return Delta(self._call(node, (d.patch,) + tuple(args[1:]), kwargs))
                return Delta(self._call(node, (d.patch,) + tuple(args[1:]), kwargs), d.top, d.left)
            return self._generic(node, args, kwargs, batch)
        if kind == "window":
            d = args[0]
            if isinstance(d, Delta) and not d.full and _maps(d) and not any(
                    isinstance(a, Delta) for a in list(args[1:]) + list(kwargs.values())):
                geometry = self._geometry(node, args, kwargs)
                if geometry is not None:
                    return self._window(node, d, geometry, args, kwargs)
            return self._generic(node, args, kwargs, batch)
        if kind == "binary":
            return self._binary(node, args, kwargs, batch)
        if kind == "cat":
            return self._cat(node, args, kwargs, batch)
        return self._generic(node, args, kwargs, batch)

    def _generic(self, node, args, kwargs, batch):
        """Return the node's op on the materialised full batch (every sample recomputed everywhere)."""
        args = _map_values(args, lambda v, n: self._whole(v, n, batch), node.args)
        kwargs = _map_values(kwargs, lambda v, n: self._whole(v, n, batch), node.kwargs)
        if node.op == "call_method" and node.target == "view" and isinstance(args[0], torch.Tensor):
            args = (args[0].contiguous(),) + tuple(args[1:])  # view needs the default layout
        out = self._call(node, args, kwargs)
        return Delta(out) if isinstance(out, torch.Tensor) else out

    def _whole(self, value, node, batch):
        """Return a Delta's value as the full batched tensor (B, ...); other values unchanged."""
        if not isinstance(value, Delta):
            return value
        if value.full:
            return value.patch
        base = self.base[node]
        full = base.expand(value.batch, *base.shape[1:]).clone(memory_format=_layout(value.patch))  # never the cache
        h, w = value.patch.shape[2:]
        rows = torch.as_tensor(value.top[:, None] + np.arange(h)[None], device=base.device)
        cols = torch.as_tensor(value.left[:, None] + np.arange(w)[None], device=base.device)
        b = torch.arange(value.batch, device=base.device)
        full.permute(0, 2, 3, 1)[b[:, None, None], rows[:, :, None], cols[:, None, :]] = value.patch.permute(0, 2, 3, 1)
        return full

    # ---- sliding windows ------------------------------------------------------------------------------
    def _geometry(self, node, args, kwargs):
        """Return (kind, kernel, stride, padding, dilation, pad value, fn(window)) or None when not windowable."""
        if node.op == "call_module":
            m = self.modules[node.target]
            if isinstance(m, nn.Conv2d):
                if m.padding_mode != "zeros" or m.padding == "same" and any(s != 1 for s in m.stride):
                    return None
                pad = _conv_padding(m.padding, m.kernel_size, m.dilation)
                if pad is None:
                    return None
                weight, bias = self.fused.get(node, (m.weight, m.bias))
                fn = lambda w: F.conv2d(w, weight, bias, m.stride, 0, m.dilation, m.groups)  # noqa: E731
                return "conv", _pair(m.kernel_size), _pair(m.stride), pad, _pair(m.dilation), 0.0, fn
            if isinstance(m, nn.MaxPool2d):
                if m.return_indices:
                    return None
                k, s, p, d = _pair(m.kernel_size), _pair(m.stride or m.kernel_size), _pair(m.padding), _pair(m.dilation)
                fn = lambda w: F.max_pool2d(w, k, s, 0, d)  # noqa: E731
                return "pool", k, s, p, d, -math.inf, fn
            if isinstance(m, nn.AvgPool2d):
                return self._avg_geometry(m.kernel_size, m.stride, m.padding, m.ceil_mode, m.count_include_pad,
                                          m.divisor_override)
            if isinstance(m, (nn.ZeroPad2d, nn.ConstantPad2d)):
                return self._pad_geometry(m.padding, getattr(m, "value", 0.0))
            return None
        t = node.target
        if t in (F.conv2d, torch.conv2d):
            names = ["input", "weight", "bias", "stride", "padding", "dilation", "groups"]
            defaults = dict(bias=None, stride=1, padding=0, dilation=1, groups=1)
            a = _bind(args, kwargs, names, defaults)
            if isinstance(a["padding"], str):
                k = a["weight"].shape[2:]
                pad = _conv_padding(a["padding"], tuple(k), _pair(a["dilation"]))
                if pad is None or (a["padding"] == "same" and _pair(a["stride"]) != (1, 1)):
                    return None
            else:
                pad = _pair(a["padding"])
            w, b = self.fused.get(node, (a["weight"], a["bias"]))
            s, d, g = _pair(a["stride"]), _pair(a["dilation"]), a["groups"]
            fn = lambda win: F.conv2d(win, w, b, s, 0, d, g)  # noqa: E731
            return "conv", tuple(w.shape[2:]), s, pad, d, 0.0, fn
        if t is F.max_pool2d:
            names = ["input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"]
            a = _bind(args, kwargs, names, dict(stride=None, padding=0, dilation=1, ceil_mode=False,
                                                return_indices=False))
            if a["return_indices"]:
                return None
            k = _pair(a["kernel_size"])
            s, p, d = _pair(a["stride"] or a["kernel_size"]), _pair(a["padding"]), _pair(a["dilation"])
            return "pool", k, s, p, d, -math.inf, lambda w: F.max_pool2d(w, k, s, 0, d)
        if t is F.avg_pool2d:
            names = ["input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"]
            a = _bind(args, kwargs, names, dict(stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                                                divisor_override=None))
            return self._avg_geometry(a["kernel_size"], a["stride"], a["padding"], a["ceil_mode"],
                                      a["count_include_pad"], a["divisor_override"])
        if t is F.pad:
            names = ["input", "pad", "mode", "value"]
            a = _bind(args, kwargs, names, dict(mode="constant", value=None))
            if a["mode"] != "constant" or len(a["pad"]) != 4:
                return None
            return self._pad_geometry(tuple(a["pad"]), a["value"] or 0.0)
        return None

    @staticmethod
    def _avg_geometry(kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
        k, s, p = _pair(kernel), _pair(stride or kernel), _pair(padding)
        if ceil_mode or divisor_override or (not count_include_pad and any(p)):
            return None  # divisors that depend on the border: recompute the whole layer
        return "pool", k, s, p, (1, 1), 0.0, lambda w: F.avg_pool2d(w, k, s, 0)

    @staticmethod
    def _pad_geometry(padding, value):
        if isinstance(padding, int):
            padding = (padding,) * 4
        left, right, top, bottom = padding
        if min(padding) < 0:
            return None
        return "pad", (top, left), None, None, None, value, None

    def _window(self, node, d: Delta, geometry, args, kwargs) -> Delta:
        kind, kernel, stride, padding, dilation, pad_value, fn = geometry
        base_out = self.base[node]
        if kind == "pad":
            # Padding moves the box; the border it adds never changes.
            return Delta(d.patch, d.top + kernel[0], d.left + kernel[1])
        base_in = self.base[node.args[0]]
        height, width = base_in.shape[2:]
        out_h, out_w = base_out.shape[2:]
        h, w = d.patch.shape[2:]
        lo_r, n_r = _out_range(d.top, h, kernel[0], stride[0], padding[0], dilation[0], out_h)
        lo_c, n_c = _out_range(d.left, w, kernel[1], stride[1], padding[1], dilation[1], out_w)
        if n_r * n_c >= self.full_fraction * out_h * out_w:
            return self._generic(node, args, kwargs, d.batch)
        span_r = (n_r - 1) * stride[0] + (kernel[0] - 1) * dilation[0] + 1
        span_c = (n_c - 1) * stride[1] + (kernel[1] - 1) * dilation[1] + 1
        # Cached input, padded on every side by as much as any window can reach past the border.
        extra_r = max(padding[0], (out_h - 1) * stride[0] - padding[0] + (kernel[0] - 1) * dilation[0] + 1 - height)
        extra_c = max(padding[1], (out_w - 1) * stride[1] - padding[1] + (kernel[1] - 1) * dilation[1] + 1 - width)
        key = (node.args[0], padding, extra_r, extra_c, pad_value)
        padded = self._padded.get(key)
        if padded is None:
            padded = F.pad(base_in, (padding[1], extra_c, padding[0], extra_r), value=pad_value)
            padded = padded[0].permute(1, 2, 0).contiguous()  # (H, W, C): window gathers read whole pixels
            self._padded[key] = padded
        start_r = lo_r * stride[0] - padding[0]  # window's first input row (unpadded coordinates)
        start_c = lo_c * stride[1] - padding[1]
        window = _paste(padded, padding, d, start_r, start_c, span_r, span_c)
        out = fn(window)
        return Delta(out, lo_r, lo_c)

    # ---- combining two maps ---------------------------------------------------------------------------
    def _binary(self, node, args, kwargs, batch):
        op = _BINARY_METHODS.get(node.target, node.target) if node.op == "call_method" else node.target
        a, b = args[0], args[1]
        deltas = [v for v in (a, b) if isinstance(v, Delta)]
        if not deltas:
            return self._call(node, args, kwargs)  # arithmetic on sizes
        if kwargs or len(args) != 2 or any(v.full or not _maps(v) for v in deltas):
            return self._generic(node, args, kwargs, batch)
        out_shape = self.base[node].shape
        sources = []
        for value, src in zip((a, b), node.args[:2]):
            if isinstance(value, Delta):
                if tuple(self.base[src].shape) != tuple(out_shape):
                    return self._generic(node, args, kwargs, batch)
            elif isinstance(value, torch.Tensor) and value.dim() == 4 and value.shape[2:] != (1, 1) \
                    and value.shape[2:] != out_shape[2:]:
                return self._generic(node, args, kwargs, batch)
            sources.append((value, src))
        top, left, h, w = _union(deltas, out_shape[2], out_shape[3])
        if self.full_fraction * out_shape[2] * out_shape[3] <= h * w:
            return self._generic(node, args, kwargs, batch)
        parts = []
        for value, src in sources:
            if isinstance(value, Delta):
                same = value.patch.shape[2:] == (h, w) and np.array_equal(value.top, top) \
                    and np.array_equal(value.left, left)
                parts.append(value.patch if same else _crop(self._cached_hwc(src), value, top, left, h, w))
            elif isinstance(value, torch.Tensor) and value.dim() == 4 and value.shape[2:] != (1, 1):
                parts.append(_crop(self._cached_hwc(src, value), None, top, left, h, w))
            else:
                parts.append(value)
        return Delta(op(parts[0], parts[1]), top, left)

    def _cat(self, node, args, kwargs, batch):
        tensors = args[0]
        dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
        deltas = [v for v in tensors if isinstance(v, Delta)]
        out_shape = self.base[node].shape
        if dim not in (1, -3) or any(v.full or not _maps(v) for v in deltas) or len(out_shape) != 4:
            return self._generic(node, args, kwargs, batch)
        top, left, h, w = _union(deltas, out_shape[2], out_shape[3])
        parts = []
        for value, src in zip(tensors, node.args[0]):
            hwc = self._cached_hwc(src, None if isinstance(value, Delta) else value)
            parts.append(_crop(hwc, value if isinstance(value, Delta) else None, top, left, h, w))
        return Delta(torch.cat(parts, 1), top, left)

    def _cached_hwc(self, src, value=None):
        key = ("hwc", src)
        if key not in self._padded:
            t = self.base[src] if value is None else value
            self._padded[key] = t[0].permute(1, 2, 0).contiguous()
        return self._padded[key]

    def find_node(self, value: torch.Tensor, module_name: str | None = None) -> fx.Node | None:
        """Return the graph node whose unoccluded value equals ``value`` (preferring nodes inside ``module_name``)."""
        matches = [n for n in self.nodes if n.op != "output" and isinstance(self.base.get(n), torch.Tensor)
                   and self.base[n].shape == value.shape and torch.equal(self.base[n], value)]
        if module_name:
            inside = [n for n in matches if any(k.split("@")[0] == module_name
                                                for k in n.meta.get("nn_module_stack", {}))]
            if inside:
                return inside[-1]
        return matches[-1] if matches else None


def _layout(t: torch.Tensor):
    return torch.channels_last if t.dim() == 4 and t.is_contiguous(memory_format=torch.channels_last) \
        and not t.is_contiguous() else torch.contiguous_format


def _map_values(values, fn, nodes):
    """Apply fn(value, node) to each value whose fx argument was a Node (recursing into lists/tuples)."""
    if isinstance(nodes, fx.Node):
        return fn(values, nodes)
    if isinstance(nodes, (list, tuple)):
        return type(values)(_map_values(v, fn, n) for v, n in zip(values, nodes))
    if isinstance(nodes, dict):
        return {k: _map_values(values[k], fn, nodes[k]) for k in nodes}
    return values


def _bind(args, kwargs, names, defaults):
    bound = dict(defaults)
    bound.update(zip(names, args))
    bound.update(kwargs)
    return bound


def _conv_padding(padding, kernel, dilation):
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0)
        k, d = _pair(kernel), _pair(dilation)
        total = [d[i] * (k[i] - 1) for i in range(2)]
        if any(t % 2 for t in total):
            return None  # 'same' with uneven padding: whole-layer recompute
        return (total[0] // 2, total[1] // 2)
    return _pair(padding)


def _out_range(top: np.ndarray, size: int, k: int, s: int, p: int, d: int, n_out: int):
    """Return (first output index per sample, common count) covering every output that reads the box."""
    lo = -((-(top + p - (k - 1) * d)) // s)  # ceil division
    hi = (top + size - 1 + p) // s
    lo = np.clip(lo, 0, n_out - 1)
    hi = np.clip(hi, 0, n_out - 1)
    n = int(max(1, (hi - lo + 1).max()))
    lo = np.minimum(lo, n_out - n)
    return lo.astype(np.int64), n


def _union(deltas, height, width):
    """Return (top, left, h, w): one box size holding every delta's box, per sample."""
    t0 = np.min([v.top for v in deltas], axis=0)
    l0 = np.min([v.left for v in deltas], axis=0)
    t1 = np.max([v.top + v.patch.shape[2] for v in deltas], axis=0)
    l1 = np.max([v.left + v.patch.shape[3] for v in deltas], axis=0)
    h, w = int((t1 - t0).max()), int((l1 - l0).max())
    return np.minimum(t0, height - h), np.minimum(l0, width - w), h, w


def _crop(base_hwc: torch.Tensor, d: Delta | None, top, left, h, w) -> torch.Tensor:
    """Return the box (top, left, h, w) per sample of the cached map with ``d``'s values pasted in: (B, C, h, w)."""
    return _paste(base_hwc, (0, 0), d, top, left, h, w, batch=len(top))


def _paste(padded_hwc, padding, d: Delta | None, start_r, start_c, span_r, span_c, batch=None) -> torch.Tensor:
    """Return windows (B, C, span_r, span_c) of a padded cached map (H, W, C) with the Delta's new values inside.

    ``start_r``/``start_c`` are each window's first row/column in unpadded coordinates.
    """
    device = padded_hwc.device
    batch = d.batch if d is not None else batch
    if batch == 1 or (np.all(start_r == start_r[0]) and np.all(start_c == start_c[0])
                      and (d is None or (np.all(d.top == d.top[0]) and np.all(d.left == d.left[0])))):
        r0, c0 = int(start_r[0]) + padding[0], int(start_c[0]) + padding[1]
        win = padded_hwc[r0:r0 + span_r, c0:c0 + span_c].permute(2, 0, 1).unsqueeze(0)
        win = win.expand(batch, *win.shape[1:]).clone(memory_format=torch.channels_last)  # never the cache
        if d is not None:
            h, w = d.patch.shape[2:]
            a, b = int(d.top[0]) - int(start_r[0]), int(d.left[0]) - int(start_c[0])
            ra, rb = max(a, 0), min(a + h, span_r)
            ca, cb = max(b, 0), min(b + w, span_c)
            if ra < rb and ca < cb:
                win[:, :, ra:rb, ca:cb] = d.patch[:, :, ra - a:rb - a, ca - b:cb - b]
        return win
    rows = start_r[:, None] + np.arange(span_r)[None]  # (B, span) unpadded
    cols = start_c[:, None] + np.arange(span_c)[None]
    r_idx = torch.as_tensor(rows + padding[0], device=device)
    c_idx = torch.as_tensor(cols + padding[1], device=device)
    win = padded_hwc[r_idx[:, :, None], c_idx[:, None, :]]  # (B, span_r, span_c, C)
    if d is not None:
        h, w = d.patch.shape[2:]
        pr = rows - d.top[:, None]
        pc = cols - d.left[:, None]
        in_r = (pr >= 0) & (pr < h)
        in_c = (pc >= 0) & (pc < w)
        mask = torch.as_tensor(in_r[:, :, None] & in_c[:, None, :], device=device).unsqueeze(-1)
        b = torch.arange(batch, device=device)
        pr_t = torch.as_tensor(np.clip(pr, 0, h - 1), device=device)
        pc_t = torch.as_tensor(np.clip(pc, 0, w - 1), device=device)
        new = d.patch.permute(0, 2, 3, 1)[b[:, None, None], pr_t[:, :, None], pc_t[:, None, :]]
        win = torch.where(mask, new, win)
    return win.permute(0, 3, 1, 2)
