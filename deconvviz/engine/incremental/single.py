"""The live square's fast path: an incremental run of one box (batch 1) as a flat list of compiled steps.

What :meth:`~.net.IncrementalNet.run` derives per node on every call (the node's rule, its window
geometry, the padded cached input, where each argument comes from, which values to free and which tensors
may be overwritten) depends only on the graph and the tapped node. A :class:`SinglePlan` derives it once;
a run then carries the box as plain integers (numpy's per-call cost dominates on one box) and each step
does what the node's rule does for a batch of one: the same ops on the same tensors in the same order, so
its answers equal the general run's bit for bit (tests/engine/test_incremental.py checks it, exact and
approximate). A node without a fast step here calls its rule as the general run does. ReLU, ReLU6 and
Hardtanh modules run as the functions their ``forward`` calls (their hooks do not run, as a convolution's
never do in either run: those are ``F.conv2d`` calls in the traced graph).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable

import numpy as np
import torch
import torch.fx as fx
from torch import nn

from . import geometry
from .delta import Delta
from .rules import Binary, Pointwise, RunOptions, Sliding

if TYPE_CHECKING:
    from .net import IncrementalNet


class Box:
    """One sample's value at a node: ``patch`` (1, C, h, w) at (``top``, ``left``), cached values elsewhere;
    or, with ``top`` None, the whole tensor (``pad``: zero padding still to add, as :class:`~.delta.Delta`'s)."""

    __slots__ = ("patch", "top", "left", "pad")

    def __init__(self, patch: torch.Tensor, top: int | None = None, left: int | None = None, pad=None):
        self.patch, self.top, self.left, self.pad = patch, top, left, pad

    def delta(self) -> Delta:
        """Return this value as the general run's Delta."""
        if self.top is None:
            return Delta(self.patch, pad=self.pad)
        return Delta(self.patch, np.array([self.top], np.int64), np.array([self.left], np.int64))


def _box(value):
    """Return a general rule's result as the plan's value (a Delta becomes a Box; other values unchanged)."""
    if not isinstance(value, Delta):
        return value
    if value.full:
        return Box(value.patch, pad=value.pad)
    return Box(value.patch, int(value.top[0]), int(value.left[0]))


def out_range(t: int, size: int, k: int, s: int, p: int, d: int, n_out: int) -> tuple[int, int]:
    """Return (first output, count) along one axis that read input rows ``t .. t + size - 1``
    (:func:`~.boxes.out_range` for one box, in plain integers)."""
    lo = min(max(-((-(t + p - (k - 1) * d)) // s), 0), n_out - 1)  # ceil division
    hi = min(max((t + size - 1 + p) // s, 0), n_out - 1)
    n = max(1, hi - lo + 1)
    return min(lo, n_out - n), n


def cap(lo: int, n: int, field: float, n_out: int) -> tuple[int, int]:
    """Return (lo, n) cut to at most ``field * n_out`` outputs around the range's centre
    (:func:`~.rules._cap` in plain integers)."""
    most = max(1, math.ceil(field * n_out))
    if n <= most:
        return lo, n
    return min(max(lo + (n - most) // 2, 0), n_out - most), most


def paste(cached: torch.Tensor, pad_r: int, pad_c: int, patch: torch.Tensor | None, top: int, left: int,
          start_r: int, start_c: int, span_r: int, span_c: int) -> torch.Tensor:
    """Return the window (1, C, span_r, span_c) at (start_r, start_c) of ``cached`` (1, C, H, W) viewing
    a cached map padded by (pad_r, pad_c), with ``patch`` (at top, left; or None) pasted in: what
    :func:`~.boxes.paste` returns for one box. Never writes ``cached`` (nor ``patch``, which it may return)."""
    if patch is not None and patch.shape[2] == span_r and patch.shape[3] == span_c and top == start_r \
            and left == start_c:
        return patch
    r0, c0 = start_r + pad_r, start_c + pad_c
    win = cached[:, :, r0:r0 + span_r, c0:c0 + span_c].clone(memory_format=torch.channels_last)
    if patch is not None:
        h, w = patch.shape[2], patch.shape[3]
        a, b = top - start_r, left - start_c
        ra, rb, ca, cb = max(a, 0), min(a + h, span_r), max(b, 0), min(b + w, span_c)
        if ra < rb and ca < cb:
            if ra == a and rb == a + h and ca == b and cb == b + w:
                win[:, :, ra:rb, ca:cb] = patch
            else:
                win[:, :, ra:rb, ca:cb] = patch[:, :, ra - a:rb - a, ca - b:cb - b]
    return win


def whole(value, base: torch.Tensor):
    """Return a Box as the whole tensor (1, ...) (the cached ``base`` with its patch pasted in); other values
    unchanged (:meth:`~.net.IncrementalNet.whole` for one box)."""
    if type(value) is not Box:
        return value
    if value.top is None:
        if value.pad is None:
            return value.patch
        rows, cols = value.pad
        return torch.nn.functional.pad(value.patch, (cols, cols, rows, rows))
    patch = value.patch
    layout = torch.channels_last if patch.dim() == 4 and patch.is_contiguous(memory_format=torch.channels_last) \
        and not patch.is_contiguous() else torch.contiguous_format
    full = base.clone(memory_format=layout)  # never the cache
    top, left = value.top, value.left
    full[:, :, top:top + patch.shape[2], left:left + patch.shape[3]] = patch
    return full


def _nchw(hwc: torch.Tensor) -> torch.Tensor:
    """Return a cached (H, W, C) map viewed as (1, C, H, W) (channels-last strides, no copy)."""
    return hwc.permute(2, 0, 1).unsqueeze(0)


_TORCH_POINTWISE: dict[type, Callable] = {
    # The exact ops these modules' forward calls (their own ``inplace`` replaced by the plan's choice).
    nn.ReLU6: lambda m: lambda x, inplace: (torch._C._nn.hardtanh_ if inplace else torch._C._nn.hardtanh)(
        x, m.min_val, m.max_val),
    nn.Hardtanh: lambda m: lambda x, inplace: (torch._C._nn.hardtanh_ if inplace else torch._C._nn.hardtanh)(
        x, m.min_val, m.max_val),
    nn.ReLU: lambda m: lambda x, inplace: torch.relu_(x) if inplace else torch.relu(x),
}


class SinglePlan:
    """The graph of ``net`` compiled for one-box runs that tap node ``tap`` (or none).

    ``run(delta, field)`` returns what ``net.run(delta, tap, field)`` returns for a Delta of one sample
    that is not full. Compile again when what is folded changes (:meth:`~.net.IncrementalNet.unfold`).
    """

    def __init__(self, net: IncrementalNet, tap: fx.Node | None):
        self.net, self.tap = net, tap
        order = [n for n in net.nodes if n in net.varies]
        self.slot = {n: i for i, n in enumerate(order)}
        last_reader: dict[fx.Node, int] = {}
        for i, node in enumerate(order):
            for a in node.all_input_nodes:
                if a in self.slot:
                    last_reader[a] = i
        frees: list[list[int]] = [[] for _ in order]
        freed_after = {}
        for a, i in last_reader.items():
            if a is not tap:
                frees[i].append(self.slot[a])
                freed_after[self.slot[a]] = i
        self._live = lambda i: [j for j in range(i) if freed_after.get(j, len(order)) >= i]
        self.steps = [(self._step(i, node), i, tuple(frees[i])) for i, node in enumerate(order)]
        self.size = len(order)
        self.output_slot = self.slot.get(net.output_node)
        self.tap_slot = self.slot.get(tap) if tap is not None else None

    # ---- running --------------------------------------------------------------------------------------
    def run(self, delta: Delta, field: float = 1.0) -> tuple[torch.Tensor, Delta | None]:
        """Return (the output (1, ...), the tapped node's Delta or None) for a one-box ``delta``."""
        vals: list = [None] * self.size
        vals[0] = Box(delta.patch, int(delta.top[0]), int(delta.left[0]))
        self._input = delta.patch.untyped_storage().data_ptr()
        for step, out, free in self.steps:
            vals[out] = step(vals, field)
            for k in free:
                vals[k] = None
        tapped = vals[self.tap_slot] if self.tap_slot is not None else None
        out = vals[self.output_slot] if self.output_slot is not None else None
        self._input = None
        return out, (tapped.delta() if type(tapped) is Box else tapped)

    # ---- compiling ------------------------------------------------------------------------------------
    def _step(self, i: int, node: fx.Node):
        net = self.net
        if node.op == "placeholder":
            return lambda vals, field: vals[0]
        if node.op == "output":
            src = node.args[0]
            if not isinstance(src, fx.Node):
                return lambda vals, field: None
            k, base = self.slot[src], net.base[src]
            return lambda vals, field: whole(vals[k], base)
        if node in net.folded:  # its convolution already applied it
            k = self.slot[node.args[0]]
            return lambda vals, field: vals[k]
        rule = net.rules[node]
        first = node.args[0] if node.args else None
        rest_vary = any(a in net.varies for a in node.all_input_nodes if a is not first)
        if isinstance(first, fx.Node) and first in self.slot and not rest_vary:
            if type(rule) is Pointwise:
                return self._pointwise(i, node)
            if type(rule) is Sliding:
                return self._sliding(node, rule)
        if type(rule) is Binary and len(node.args) == 2 and not node.kwargs:
            step = self._binary(node, rule)
            if step is not None:
                return step
        return self._fallback(i, node, rule)

    def _constants(self, node: fx.Node):
        """Return (the node's arguments after the first, its keyword arguments), with cached values."""
        args, kwargs = self.net._base_args(node)
        return tuple(args[1:]), kwargs

    def _overwrites(self, i: int, node: fx.Node):
        """Return alone(value) -> whether node ``i`` may overwrite its first argument's tensor ``value``,
        or None where it never may (the general run's rule: an overwriter whose input is not the tap and
        shares its tensor with no other live value nor the run's input)."""
        net = self.net
        if node not in net.overwriters or node.args[0] is self.tap:
            return None
        others = self._live(i)

        def alone(vals, value) -> bool:
            ptr = value.patch.untyped_storage().data_ptr()
            if ptr == self._input:
                return False
            for j in others:
                o = vals[j]
                if type(o) is Box and o is not value and o.patch.untyped_storage().data_ptr() == ptr:
                    return False
            return True

        return alone

    def _pointwise(self, i: int, node: fx.Node):
        net = self.net
        k = self.slot[node.args[0]]
        rest, kwargs = self._constants(node)
        alone = self._overwrites(i, node)
        fast = _TORCH_POINTWISE.get(type(net.modules[node.target])) if node.op == "call_module" else None
        if fast is not None and not rest and not kwargs:
            call = fast(net.modules[node.target])
        else:
            def call(x, inplace):
                return net.call(node, (x,) + rest, kwargs, inplace=inplace)

        def step(vals, field):
            d = vals[k]
            if type(d) is not Box:
                return _box(net.generic(node, (d,) + rest, kwargs, 1))
            out = call(d.patch, alone is not None and alone(vals, d))
            return Box(out) if d.top is None else Box(out, d.top, d.left)

        return step

    def _sliding(self, node: fx.Node, rule: Sliding):
        net = self.net
        src = node.args[0]
        k, base_src = self.slot[src], net.base[src]
        rest, kwargs = self._constants(node)
        g = rule.geometry(net, node, (base_src,) + rest, kwargs)

        def generic(d):
            return Box(net.call(node, (whole(d, base_src),) + rest, kwargs))

        if g is None:
            return lambda vals, field: generic(vals[k])
        if isinstance(g, geometry.Shift):
            lazy = node in net.lazy_pads
            top, left = g.top, g.left

            def shift(vals, field):
                d = vals[k]
                if type(d) is not Box or d.patch.dim() != 4:
                    return _box(net.generic(node, (d,) + rest, kwargs, 1))
                if d.top is not None:
                    return Box(d.patch, d.top + top, d.left + left)
                return Box(d.patch, pad=(top, left)) if lazy else generic(d)

            return shift
        out_h, out_w = net.base[node].shape[2:]
        (k0, k1), (s0, s1), (p0, p1), (d0, d1) = g.kernel, g.stride, g.padding, g.dilation
        reach_r, reach_c = (k0 - 1) * d0 + 1, (k1 - 1) * d1 + 1
        full_area = net.full_fraction * out_h * out_w
        cached = _nchw(rule.padded_input(net, node, g))
        fn, padded = g.fn, g.padded

        def window(vals, field):
            d = vals[k]
            if type(d) is not Box or d.patch.dim() != 4:
                return _box(net.generic(node, (d,) + rest, kwargs, 1))
            if d.top is None:
                if d.pad is not None and padded is not None:
                    return Box(padded(d.patch, d.pad))
                return generic(d)
            patch = d.patch
            lo_r, n_r = out_range(d.top, patch.shape[2], k0, s0, p0, d0, out_h)
            lo_c, n_c = out_range(d.left, patch.shape[3], k1, s1, p1, d1, out_w)
            if field < 1:
                lo_r, n_r = cap(lo_r, n_r, field, out_h)
                lo_c, n_c = cap(lo_c, n_c, field, out_w)
            if n_r * n_c >= full_area:
                return generic(d)
            win = paste(cached, p0, p1, patch, d.top, d.left, lo_r * s0 - p0, lo_c * s1 - p1,
                        (n_r - 1) * s0 + reach_r, (n_c - 1) * s1 + reach_c)
            return Box(fn(win), lo_r, lo_c)

        return window

    def _binary(self, node: fx.Node, rule: Binary):
        """Return the step of a sum or product of two values, or None where the general rule is needed
        (an argument that is a tensor but no node's value)."""
        net = self.net
        out_shape = net.base[node].shape
        if len(out_shape) != 4:
            return None
        height, width = out_shape[2], out_shape[3]
        sources = []  # per argument: (slot or None, constant value, node or None)
        for a in node.args:
            if isinstance(a, fx.Node):
                sources.append((self.slot.get(a), net.base[a], a))
            elif isinstance(a, torch.Tensor):
                return None
            else:
                sources.append((None, a, None))
        crops = {}  # the cached (1, C, H, W) view of each argument's node, where a crop may read it
        for slot, value, a in sources:
            if a is not None and isinstance(value, torch.Tensor) and value.dim() == 4:
                crops[a] = _nchw(net.cached_hwc(a))
        full_area = net.full_fraction * height * width
        op = rule.op

        def generic(values):
            return _box(net.generic(node, tuple(v.delta() if type(v) is Box else v for v in values), {}, 1))

        def step(vals, field):
            values = [vals[s] if s is not None else c for s, c, _ in sources]
            boxes = [v for v in values if type(v) is Box]
            if not boxes:
                return net.call(node, tuple(values), {})  # arithmetic on sizes
            if any(v.top is None or v.patch.dim() != 4 for v in boxes):
                return generic(values)
            for v, (_, base, _) in zip(values, sources):
                if type(v) is Box:
                    if tuple(base.shape) != tuple(out_shape):
                        return generic(values)
                elif isinstance(v, torch.Tensor) and v.dim() == 4 and v.shape[2:] != (1, 1) \
                        and v.shape[2:] != out_shape[2:]:
                    return generic(values)
            t0 = min(v.top for v in boxes)
            l0 = min(v.left for v in boxes)
            h = max(v.top + v.patch.shape[2] for v in boxes) - t0
            w = max(v.left + v.patch.shape[3] for v in boxes) - l0
            top, left = min(t0, height - h), min(l0, width - w)
            if full_area <= h * w:
                return generic(values)
            parts = []
            for v, (_, _, a) in zip(values, sources):
                if type(v) is Box:
                    same = v.patch.shape[2] == h and v.patch.shape[3] == w and v.top == top and v.left == left
                    parts.append(v.patch if same else paste(crops[a], 0, 0, v.patch, v.top, v.left, top, left, h, w))
                elif isinstance(v, torch.Tensor) and v.dim() == 4 and v.shape[2:] != (1, 1):
                    parts.append(paste(crops[a], 0, 0, None, 0, 0, top, left, h, w))
                else:
                    parts.append(v)
            return Box(op(parts[0], parts[1]), top, left)

        return step

    def _fallback(self, i: int, node: fx.Node, rule):
        """Return a step that calls the node's rule on Deltas, as the general run does."""
        net, slot = self.net, self.slot
        alone = self._overwrites(i, node)
        options = RunOptions(1)

        def step(vals, field):
            def value(a):
                if a in slot:
                    v = vals[slot[a]]
                    return v.delta() if type(v) is Box else v
                return net.base[a]

            args = fx.node.map_arg(node.args, value)
            kwargs = fx.node.map_arg(node.kwargs, value)
            first = vals[slot[node.args[0]]] if alone is not None else None
            free = type(first) is Box and alone(vals, first)
            run = RunOptions(1, field, overwrite=free) if (free or field != 1) else options
            return _box(rule(net, node, args, kwargs, run))

        return step
