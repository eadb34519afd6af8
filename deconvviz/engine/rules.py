"""The backward rule at each rectifier, which is all that tells the deconvnet from its two neighbours.

Running a network inside :func:`backward_rules` makes autograd compute, instead of the gradient:

* ``"deconvnet"`` (Zeiler & Fergus): at every ReLU the signal coming down is itself rectified,
  ``relu(g)``, ignoring where the forward pass was positive;
* ``"guided"`` (Springenberg et al.): both, ``relu(g) * [x > 0]``;
* ``"backprop"``: the plain gradient, ``g * [x > 0]``.

Everything else already is the deconvnet: autograd's backward of a max-pool puts each value back at its
switch and adds contributions where windows overlap (unpooling); the backward of a convolution is the
transposed convolution with the same filters and no bias; a linear layer's is its transpose. Contrast
normalisation (local response norm) is passed through untouched, as the paper uses no normalisation on
the way down. BatchNorm in eval mode is a per-channel affine map whose backward multiplies by
``weight / sqrt(running_var + eps)``: the same as projecting through the convolution with BatchNorm
folded into its filters, and the shift (like a bias) is dropped.

The rules are applied through a ``TorchFunctionMode``, so functional ``F.relu`` calls, in-place ReLUs and
an activation module reused at several call sites are all handled, call by call. ReLU6 (``hardtanh`` with
``min_val == 0``) follows the same rules with the forward mask ``0 < x < 6``: so in the guided and
backprop modes an activation saturated at 6 projects to zero, as its gradient is zero.

GELU, SiLU (swish), sigmoid and the other smooth activations are not rectifiers and are left to autograd in
every mode: the paper's rule is defined for ReLUs, and clamping the signal at a GELU would be a rule of our
own invention. So in a network without rectifiers (ViT, Swin, ConvNeXt) all three modes give the gradient.
"""

from __future__ import annotations

import weakref

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

MODES = ("deconvnet", "guided", "backprop")


class _Rectifier(torch.autograd.Function):
    """Forward: clamp to [low, high]. Backward: the chosen mode's rule."""

    @staticmethod
    def forward(x, low, high, mode):
        return x.clamp(low, high) if high is not None else x.clamp_min(low)

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, low, high, mode = inputs
        ctx.mode = mode
        if mode != "deconvnet":
            passed = x > low if high is None else (x > low) & (x < high)
            ctx.save_for_backward(passed)

    @staticmethod
    def backward(ctx, grad):
        if ctx.mode == "deconvnet":
            return grad.clamp_min(0), None, None, None
        (passed,) = ctx.saved_tensors
        if ctx.mode == "guided":
            grad = grad.clamp_min(0)
        return grad * passed, None, None, None


class _UnnormalisedBackward(torch.autograd.Function):
    """Forward: local response normalisation. Backward: identity (no normalisation on the way down)."""

    @staticmethod
    def forward(x, size, alpha, beta, k):
        return F.local_response_norm(x, size, alpha, beta, k)

    @staticmethod
    def setup_context(ctx, inputs, output):
        pass

    @staticmethod
    def backward(ctx, grad):
        return grad, None, None, None, None


_RELU = {F.relu, torch.relu, torch.relu_, torch.Tensor.relu, torch.Tensor.relu_}
_HARDTANH = {F.hardtanh, F.hardtanh_, F.relu6}


class backward_rules(TorchFunctionMode):
    """Context manager: inside it, rectifiers and contrast normalisation backpropagate by ``mode``'s rule."""

    def __init__(self, mode: str) -> None:
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; valid: {', '.join(MODES)}")
        self.mode = mode

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in _RELU:
            return _Rectifier.apply(args[0], 0.0, None, self.mode)
        if func in _HARDTANH:
            low, high = _hardtanh_bounds(func, args, kwargs)
            if low == 0.0:
                return _Rectifier.apply(args[0], 0.0, high, self.mode)
        if func is F.local_response_norm:
            return _UnnormalisedBackward.apply(*_lrn_args(args, kwargs))
        return func(*args, **kwargs)


def _hardtanh_bounds(func, args, kwargs) -> tuple[float, float]:
    if func is F.relu6:
        return 0.0, 6.0
    low = args[1] if len(args) > 1 else kwargs.get("min_val", -1.0)
    high = args[2] if len(args) > 2 else kwargs.get("max_val", 1.0)
    return float(low), float(high)


def _lrn_args(args, kwargs) -> tuple:
    names = ("input", "size", "alpha", "beta", "k")
    defaults = {"alpha": 1e-4, "beta": 0.75, "k": 1.0}
    bound = dict(zip(names, args), **kwargs)
    return tuple(bound.get(n, defaults.get(n)) for n in names)


# The rules of several modes in one batch: sample i of the batch follows modes[i]. "gradient" is the true
# gradient (plain autograd, local response normalisation included), for gradient saliency beside the three
# projections: one forward and one backward pass answer all four (deconvviz/engine/sanity.py).
BATCH_MODES = MODES + ("gradient",)


def _rule_groups(clamp: list[bool], masked: list[bool]) -> tuple[tuple[int, int, bool, bool], ...]:
    """Return (start, stop, clamp, masked) for each run of consecutive samples that follow the same rule."""
    groups: list[list] = []
    for i, rule in enumerate(zip(clamp, masked)):
        if groups and (groups[-1][2], groups[-1][3]) == rule:
            groups[-1][1] = i + 1
        else:
            groups.append([i, i + 1, *rule])
    return tuple(tuple(g) for g in groups)


class _MixedRectifier(torch.autograd.Function):
    """Forward: clamp to [low, high]. Backward: per run of samples, rectify the signal (``clamp``) and/or mask
    it by the forward pass (``masked``).

    The mask is never stored: the backward recomputes it, inside one fused kernel, from the tensor PyTorch's
    own backward of the function keeps (the output of a ReLU, ``threshold_backward``; the input of a
    hardtanh, ``hardtanh_backward``), and only for the samples that need it; each run of samples is one
    kernel writing into its slice of the result. (Computing the mask and two ``torch.where`` over the whole
    batch cost about four passes over every activation forward and back; this is one or two.)
    """

    @staticmethod
    def forward(x, low, high, groups):
        return x.clamp(low, high) if high is not None else x.clamp_min(low)

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, low, high, groups = inputs
        if groups[-1][1] is not None and (x.dim() == 0 or x.shape[0] != groups[-1][1]):
            raise ValueError(f"a rectifier saw a batch of {tuple(x.shape)[:1]}, not one sample per mode "
                             f"({groups[-1][1]}): the network reshapes its batch")
        ctx.low, ctx.high, ctx.groups = low, high, groups
        # x > low exactly when clamp(x) > low: a ReLU's output decides the mask, as in PyTorch's own backward.
        ctx.save_for_backward(output if high is None else x)

    @staticmethod
    def backward(ctx, grad):
        (saved,) = ctx.saved_tensors
        if len(ctx.groups) == 1 and ctx.groups[0][1] is None:  # uniform_rules: the whole batch, no slicing
            _, _, clamp, masked = ctx.groups[0]
            if not masked:
                return grad.clamp_min(0), None, None, None
            if ctx.high is None:
                out = torch.ops.aten.threshold_backward(grad, saved, ctx.low)
            else:
                out = torch.ops.aten.hardtanh_backward(grad, saved, ctx.low, ctx.high)
            # relu(g) * mask == relu(g * mask): rectified in place, no second tensor
            return (out.clamp_min_(0) if clamp else out), None, None, None
        out = torch.empty_like(grad)
        for start, stop, clamp, masked in ctx.groups:
            g, s, o = grad[start:stop], saved[start:stop], out[start:stop]
            if not masked:
                torch.clamp_min(g, 0, out=o)
                continue
            if ctx.high is None:
                torch.ops.aten.threshold_backward.grad_input(g, s, ctx.low, grad_input=o)
            else:
                torch.ops.aten.hardtanh_backward.grad_input(g, s, ctx.low, ctx.high, grad_input=o)
            if clamp:
                o.clamp_min_(0)
        return out, None, None, None


class _EvalBatchNorm(torch.autograd.Function):
    """Forward: batch normalisation with running statistics (PyTorch's own kernel, so the output is the same
    to the bit). Backward: its exact derivative, one per-channel multiplication by
    ``weight / sqrt(running_var + eps)`` (PyTorch's generic batch-norm backward is some three times slower
    on the CPU for the same numbers)."""

    @staticmethod
    def forward(x, mean, var, weight, bias, eps):
        return F.batch_norm(x, mean, var, weight, bias, False, 0.0, eps)

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, mean, var, weight, bias, eps = inputs
        ctx.save_for_backward(_bn_scale(var, weight, eps, x.dim()))

    @staticmethod
    def backward(ctx, grad):
        (scale,) = ctx.saved_tensors
        return grad * scale, None, None, None, None, None


# id(running_var) -> (a weak reference to it, the versions it was computed at, the scale, a weak reference to
# the weight): a layer's scale is computed once, not in four small operations per call (after a batch of 16
# elsewhere in the process, those small allocations made the rule slower than PyTorch's own backward)
_SCALES: dict[int, tuple] = {}


def _bn_scale(var: torch.Tensor, weight: torch.Tensor | None, eps: float, dim: int) -> torch.Tensor:
    """Return ``weight / sqrt(var + eps)`` shaped (1, C, 1, ...) for a ``dim``-d input, remembered per layer
    until its statistics or weight change (their version counters)."""
    state = (var._version, None if weight is None else weight._version, eps, dim, var.device, var.dtype)
    known = _SCALES.get(id(var))
    if known is not None and known[0]() is var and known[1] == state and known[3]() is weight:
        return known[2]
    scale = torch.rsqrt(var.detach() + eps)
    if weight is not None:
        scale = scale * weight.detach()
    scale = scale.reshape((1, -1) + (1,) * (dim - 2))
    if len(_SCALES) > 4096:  # layers of networks long gone
        _SCALES.clear()
    _SCALES[id(var)] = (weakref.ref(var), state, scale, (lambda: None) if weight is None else weakref.ref(weight))
    return scale


def _eval_batch_norm_args(args, kwargs):
    """Return (x, mean, var, weight, bias, eps) of an F.batch_norm call that uses running statistics (not
    training), else None."""
    names = ("input", "running_mean", "running_var", "weight", "bias", "training", "momentum", "eps")
    bound = dict(zip(names, args), **kwargs)
    if bound.get("training", False) or bound.get("running_mean") is None or bound.get("running_var") is None:
        return None
    return (bound["input"], bound["running_mean"], bound["running_var"], bound.get("weight"), bound.get("bias"),
            float(bound.get("eps", 1e-5)))


class _MixedLRN(torch.autograd.Function):
    """Forward: local response normalisation. Backward: the true gradient for the samples in ``true`` (a
    bool per sample, or one bool for the whole batch), the identity for the others."""

    @staticmethod
    def forward(x, size, alpha, beta, k, true):
        return F.local_response_norm(x, size, alpha, beta, k)

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, size, alpha, beta, k, true = inputs
        ctx.args = (size, alpha, beta, k)
        ctx.uniform = true if isinstance(true, bool) else None
        ctx.save_for_backward(x) if ctx.uniform is not None else ctx.save_for_backward(x, true)

    @staticmethod
    def backward(ctx, grad):
        if ctx.uniform is not None:
            (x,) = ctx.saved_tensors
            if not ctx.uniform:
                return grad.clone(), None, None, None, None, None
            true = slice(None)
        else:
            x, true = ctx.saved_tensors
        out = grad.clone()
        if ctx.uniform or bool(true.any()):
            with torch.enable_grad():
                xi = x[true].detach().requires_grad_(True)
                (gi,) = torch.autograd.grad(F.local_response_norm(xi, *ctx.args), xi, grad[true])
            out[true] = gi
        return out, None, None, None, None, None


class batch_rules(TorchFunctionMode):
    """Context manager: inside it, sample i of every batch backpropagates by ``modes[i]``'s rule (a mode
    of :data:`BATCH_MODES`); the forward pass is the network's own. Take the gradient after leaving it."""

    def __init__(self, modes, device=None) -> None:
        super().__init__()
        unknown = [m for m in modes if m not in BATCH_MODES]
        if unknown:
            raise ValueError(f"unknown mode {unknown[0]!r}; valid: {', '.join(BATCH_MODES)}")
        self.modes = tuple(modes)
        self.groups = _rule_groups([m in ("deconvnet", "guided") for m in modes], [m != "deconvnet" for m in modes])
        self.true_lrn = torch.tensor([m == "gradient" for m in modes], device=device)
        self.ruled = 0  # the rectifiers and normalisations met so far whose backward follows a rule
        self.native_rectifiers = False

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if self.native_rectifiers and (func in _RELU or func in _HARDTANH):
            return func(*args, **kwargs)
        if func in _RELU:
            self.ruled += 1
            return _MixedRectifier.apply(args[0], 0.0, None, self.groups)
        if func in _HARDTANH:
            low, high = _hardtanh_bounds(func, args, kwargs)
            if low == 0.0:
                self.ruled += 1
                return _MixedRectifier.apply(args[0], 0.0, high, self.groups)
        if func is F.local_response_norm and self.true_lrn is not True:
            self.ruled += 1
            return _MixedLRN.apply(*_lrn_args(args, kwargs), self.true_lrn)
        if func is F.batch_norm:
            bound = _eval_batch_norm_args(args, kwargs)
            if bound is not None:
                return _EvalBatchNorm.apply(*bound)
        return func(*args, **kwargs)


class uniform_rules(batch_rules):
    """Context manager: :class:`batch_rules` with every sample of any batch following ``mode``'s rule (one of
    :data:`BATCH_MODES`): :class:`backward_rules`' answers (to rounding: batch normalisation's backward is
    :class:`_EvalBatchNorm`'s multiplication) from the fused kernels, for the attribution methods."""

    def __init__(self, mode: str, device=None) -> None:
        if mode not in BATCH_MODES:
            raise ValueError(f"unknown mode {mode!r}; valid: {', '.join(BATCH_MODES)}")
        TorchFunctionMode.__init__(self)
        self.modes = (mode,)
        self.groups = ((0, None, mode in ("deconvnet", "guided"), mode != "deconvnet"),)
        self.true_lrn = mode == "gradient"
        self.ruled = 0
        # backprop's rule at a rectifier is the gradient (and "gradient"'s at a normalisation): PyTorch's own
        # backward, without a Python Function per call (5% of the pass on EfficientNet-Lite0); only batch
        # normalisation's backward is replaced, by its cheaper exact form
        self.native_rectifiers = mode in ("backprop", "gradient")
