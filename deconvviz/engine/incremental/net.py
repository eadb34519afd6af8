"""The traced network with every node's unoccluded value cached, and incremental runs over it."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import nn

from .delta import Delta, Unsupported
from .geometry import CONV_ARGS, CONV_DEFAULTS, Shift, Window, bind
from .rules import Rule, RunOptions, Sliding, rule_for, runs_in_place
from .single import SinglePlan

FULL_FRACTION = 0.6  # recompute the whole layer when the changed window covers this much of it


class ThreadTracer(fx.Tracer):
    """torch.fx's tracer, confined to the thread that traces.

    While it traces, ``fx.Tracer`` replaces ``nn.Module.__call__`` and ``__getattr__`` for the whole process;
    a model run meanwhile in another thread (an analysis view's job in its own worker) would be recorded
    into this graph, or fail ("module is not installed as a submodule"). Calls from other threads run as
    usual here.
    """

    def trace(self, root, concrete_args=None):
        self._thread = threading.get_ident()
        return super().trace(root, concrete_args)

    def _tracing_here(self) -> bool:
        return threading.get_ident() == getattr(self, "_thread", None)

    def call_module(self, m, forward, args, kwargs):
        if not self._tracing_here():
            return forward(*args, **kwargs)
        return super().call_module(m, forward, args, kwargs)

    def getattr(self, attr, attr_val, parameter_proxy_cache):
        if not self._tracing_here():
            return attr_val
        return super().getattr(attr, attr_val, parameter_proxy_cache)


_TRACING = threading.Lock()


def trace(net: nn.Module) -> fx.GraphModule:
    """Return ``net`` traced by :class:`ThreadTracer` as a GraphModule (as ``fx.symbolic_trace`` does).

    One trace at a time in the process: two overlapping traces would undo each other's patches out of
    order and leave one tracer's ``nn.Module.__call__`` installed for good.
    """
    tracer = ThreadTracer()
    with _TRACING:
        graph = tracer.trace(net)
    return fx.GraphModule(tracer.root, graph, net.__class__.__name__)


class IncrementalNet:
    """The network as a traced graph, the unoccluded input's value at every node, and incremental runs.

    ``run(delta)`` takes the input's change as a :class:`Delta` and returns the output batch (B, ...) and,
    for the node named ``tap``, its Delta. With ``fold_batchnorm``, an eval-mode batch norm that is a
    convolution's only reader is folded into the recomputed convolution's weights (the cached values stay
    the model's own; the difference is rounding, about 1e-7 relative). Raises :class:`Unsupported` at
    construction for graphs it cannot reason about (the caller then falls back to full inference).
    ``widest`` is the most bytes per sample of any batched tensor a run so far has produced (what sets a
    good batch size: :func:`~deconvviz.engine.occlusion.batch_size`).
    """

    def __init__(self, net: nn.Module, x: torch.Tensor, full_fraction: float = FULL_FRACTION,
                 fold_batchnorm: bool = True):
        self.net = net
        self.full_fraction = full_fraction
        try:
            self.gm = trace(net)
        except Exception as exc:  # any tracing failure means: not for us
            raise Unsupported(f"torch.fx cannot trace {type(net).__name__}: {type(exc).__name__}: {exc}") from None
        self.modules = dict(self.gm.named_modules())
        self.nodes = list(self.gm.graph.nodes)
        self.rules: dict[fx.Node, Rule] = {}
        self._check_graph()
        self.base: dict[fx.Node, object] = {}
        self.cache: dict = {}  # padded and channels-last copies of cached values, built on first use
        self.fused: dict[fx.Node, tuple] = {}
        self.folded: set[fx.Node] = set()
        self.lazy_pads: set[fx.Node] = set()  # zero paddings a full batch skips: the convolution after pads
        self.widest = 0
        self._plans: dict = {}  # the one-box fast path per tapped node (.single), compiled on first use
        self.single = True  # whether one-box runs take that path (benchmarks compare it with the general one)
        with torch.no_grad():
            self._run_base(x)
            if fold_batchnorm:
                self._fold_batchnorm()
            self._find_lazy_pads()

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
            rule = rule_for(node, self.modules)
            if rule is None:
                raise Unsupported(f"no incremental rule for {node.op} {node.target!r} ({node.name})")
            self.rules[node] = rule
            in_place = node.kwargs.get("inplace") if node.op == "call_function" else \
                node.op == "call_module" and getattr(self.modules[node.target], "inplace", False)
            if in_place:
                # Run out of place: equal to the model's semantics only if nothing else reads the input after.
                later = [u for u in node.args[0].users if u is not node] if isinstance(node.args[0], fx.Node) else []
                if any(self.nodes.index(u) > self.nodes.index(node) for u in later):
                    raise Unsupported(f"in-place {node.target} ({node.name}) overwrites a value read later")
        # Pointwise ops whose input nothing else reads may overwrite it (when no other value shares it).
        self.overwriters = {n for n in self.rules if runs_in_place(n, self.modules) and n.args
                            and isinstance(n.args[0], fx.Node) and n.args[0] is not self.input
                            and len(n.args[0].users) == 1}

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
                a = bind(src.args, src.kwargs, ["input", "weight", "bias"], dict(bias=None))
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

    def _find_lazy_pads(self) -> None:
        for node in self.nodes:
            rule, users = self.rules.get(node), list(node.users)
            if not isinstance(rule, Sliding) or len(users) != 1 or not isinstance(self.rules.get(users[0]), Sliding):
                continue
            conv = users[0]
            if conv.args[:1] != (node,):
                continue
            pad = rule.geometry(self, node, *self._base_args(node))
            window = self.rules[conv].geometry(self, conv, *self._base_args(conv))
            if isinstance(pad, Shift) and pad.even_zeros and isinstance(window, Window) and window.padded:
                self.lazy_pads.add(node)

    def _base_args(self, node):
        """Return the node's (args, kwargs) with the unoccluded value of every node in them."""
        return (fx.node.map_arg(node.args, lambda n: self.base[n]),
                fx.node.map_arg(node.kwargs, lambda n: self.base[n]))

    def unfold(self, node: fx.Node) -> None:
        """Undo what is folded into ``node``, so a run gives its own value (a tapped layer): a batch norm
        folded into its convolution (else it would hold the batch norm's output), and a padding left to the
        convolution after it."""
        if self.fused.pop(node, None) is not None:
            self.folded.difference_update(node.users)
        self.lazy_pads.discard(node)
        self._plans.clear()

    def call(self, node: fx.Node, args, kwargs, inplace: bool = False):
        """Return the node's op applied to concrete arguments: out of place, or with ``inplace`` in place
        (only for nodes :func:`~.rules.runs_in_place` accepts; modules' own ``inplace`` is overridden)."""
        if node in self.fused:
            weight, bias = self.fused[node]
            if node.op == "call_module":
                m = self.modules[node.target]
                return F.conv2d(args[0], weight, bias, m.stride, m.padding, m.dilation, m.groups)
            a = bind(args, kwargs, CONV_ARGS, CONV_DEFAULTS)
            return F.conv2d(a["input"], weight, bias, a["stride"], a["padding"], a["dilation"], a["groups"])
        if node.op == "call_module":
            m = self.modules[node.target]
            own = getattr(m, "inplace", None)
            if own is not None and own != inplace:
                m.inplace = inplace
                try:
                    return m(*args, **kwargs)
                finally:
                    m.inplace = own
            return m(*args, **kwargs)
        if node.op == "call_function":
            if inplace or "inplace" in kwargs:
                kwargs = dict(kwargs, inplace=inplace)
            return node.target(*args, **kwargs)
        obj, *rest = args
        return getattr(obj, node.target + "_" if inplace else node.target)(*rest, **kwargs)

    def _fetch(self, node):
        obj = self.gm
        for part in node.target.split("."):
            obj = getattr(obj, part)
        return obj

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
                env[node] = self.call(node, args, kwargs)
        out = env[self.nodes[-1]]
        self.output_node = self.nodes[-1]
        if not isinstance(out, torch.Tensor):
            raise Unsupported("the model's output is not a single tensor")

    # ---- running --------------------------------------------------------------------------------------
    @torch.no_grad()
    def run(self, delta: Delta, tap: fx.Node | None = None, field: float = 1.0,
            single: bool | None = None) -> tuple[torch.Tensor, Delta | None]:
        """Return (the output batch (B, ...), the Delta at node ``tap``) for the input change ``delta``.

        ``field`` < 1 approximates: Krypton's projective-field threshold (:class:`~.rules.RunOptions`).
        One box (a batch of one, not full) runs on the compiled fast path (:class:`~.single.SinglePlan`,
        the same answer) unless ``single`` (default: the attribute ``single``) is False. ``widest`` counts the
        general path's runs only.
        """
        if not 0 < field <= 1:
            raise ValueError(f"field must be in (0, 1], got {field}")
        if (self.single if single is None else single) and delta.batch == 1 and not delta.full:
            plan = self._plans.get(tap)
            if plan is None:
                plan = self._plans[tap] = SinglePlan(self, tap)
            return plan.run(delta, field)
        options = RunOptions(delta.batch, field)
        overwrite = dataclasses.replace(options, overwrite=True)
        env: dict[fx.Node, object] = {}
        remaining = {n: len(n.users) for n in self.nodes}
        tapped = None
        for node in self.nodes:
            if node.op == "placeholder":
                value = delta
            elif node not in self.varies:
                continue
            elif node.op == "output":
                value = self.whole(env[node.args[0]], node.args[0], delta.batch) \
                    if isinstance(node.args[0], fx.Node) else None
            elif node in self.folded:  # its convolution already applied it
                value = env[node.args[0]]
            else:
                args = fx.node.map_arg(node.args, lambda n: self._value(env, n))
                kwargs = fx.node.map_arg(node.kwargs, lambda n: self._value(env, n))
                free = node in self.overwriters and node.args[0] is not tap and _alone(env, node.args[0], delta)
                value = self.rules[node](self, node, args, kwargs, overwrite if free else options)
                if isinstance(value, Delta):
                    self.widest = max(self.widest, value.patch.numel() // value.batch * value.patch.element_size())
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
        if not isinstance(a, fx.Node):
            return a
        return env[a] if a in self.varies else self.base[a]

    def generic(self, node, args, kwargs, batch):
        """Return the node's op on the materialised full batch (every sample recomputed everywhere)."""
        args = _map_values(args, lambda v, n: self.whole(v, n, batch), node.args)
        kwargs = _map_values(kwargs, lambda v, n: self.whole(v, n, batch), node.kwargs)
        if node.op == "call_method" and node.target == "view" and isinstance(args[0], torch.Tensor):
            args = (args[0].contiguous(),) + tuple(args[1:])  # view needs the default layout
        out = self.call(node, args, kwargs)
        return Delta(out) if isinstance(out, torch.Tensor) else out

    def whole(self, value, node, batch):
        """Return a Delta's value as the full batched tensor (B, ...); other values unchanged."""
        if not isinstance(value, Delta):
            return value
        if value.full:
            if value.pad is None:
                return value.patch
            rows, cols = value.pad
            return F.pad(value.patch, (cols, cols, rows, rows))
        base = self.base[node]
        full = base.expand(value.batch, *base.shape[1:]).clone(memory_format=_layout(value.patch))  # never the cache
        h, w = value.patch.shape[2:]
        rows = torch.as_tensor(value.top[:, None] + np.arange(h)[None], device=base.device)
        cols = torch.as_tensor(value.left[:, None] + np.arange(w)[None], device=base.device)
        b = torch.arange(value.batch, device=base.device)
        full.permute(0, 2, 3, 1)[b[:, None, None], rows[:, :, None], cols[:, None, :]] = value.patch.permute(0, 2, 3, 1)
        return full

    def cached_hwc(self, src, value=None) -> torch.Tensor:
        """Return node ``src``'s cached value (or ``value``) of its first sample as (H, W, C), built once."""
        key = ("hwc", src)
        if key not in self.cache:
            t = self.base[src] if value is None else value
            self.cache[key] = t[0].permute(1, 2, 0).contiguous()
        return self.cache[key]

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


def _alone(env: dict, src: fx.Node, delta: Delta) -> bool:
    """Return whether ``src``'s value is a Delta whose tensor no other live value (nor the run's input)
    shares: then it may be overwritten."""
    value = env.get(src)
    if not isinstance(value, Delta):
        return False
    storage = value.patch.untyped_storage().data_ptr()
    others = [delta] + [v for v in env.values() if isinstance(v, Delta) and v is not value]
    return all(o.patch.untyped_storage().data_ptr() != storage for o in others)


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
