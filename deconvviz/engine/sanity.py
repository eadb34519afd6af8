"""Model-parameter randomisation tests (Adebayo et al., "Sanity Checks for Saliency Maps", NeurIPS 2018).

If an explanation stays the same when the network's learnt weights are replaced by random ones, it does
not explain the weights. Two tests, each on a deep copy of the network (the caller's network is never
touched):

* ``cascading``: re-initialise the parametrised layers from the top (the output) down, cumulatively: step
  k has the top k layers random;
* ``independent``: re-initialise one layer at a time, the others keeping their learnt weights.

A *layer* here is a module with parameters of its own, in forward order, with a normalisation module
(BatchNorm, GroupNorm, LayerNorm, ...) joined to the layer before it: a conv and its BatchNorm are one step
(EfficientNet-Lite0: 49 convolutions and the classifier, 50 steps; zf-fmnist: 8). Each module is
re-initialised by its own ``reset_parameters()`` (BatchNorm's also resets its running statistics), under
a seed derived from ``seed`` and the layer's index, so both tests draw the same random weights for a layer
and the global random state is left as it was.

At every step the explanations are recomputed: the deconvnet, guided backprop and backprop projections
(:mod:`.deconv`'s rules) and gradient saliency (:mod:`.saliency`) of one target, and any other method of the
registry (:mod:`.methods`: Grad-CAM, Grad-CAM++, guided Grad-CAM, integrated gradients, SmoothGrad), each
its (H, W) map as :func:`.methods.attribute` computes it for the same target (a layer target: the neuron at
the resolved position), Grad-CAM's layer chosen once on the learnt network and SmoothGrad's noise the same
at every step (its seed):

* a layer's channel: the activation is chosen once, on the unrandomised network (the channel's strongest,
  or the given position), and the same layer/channel/position is projected at every step, even when it is
  no longer the strongest;
* a class score (default: the top class of the unrandomised network), the same class at every step.

The projections are seeded, at every step, with the target's value on the *learnt* network (at step "none"
exactly what :func:`.deconv.project` computes): what changes along the test is only the network, never the
question asked. Seeding with each step's own value instead would multiply a map by a number that may be 0
(a unit a random layer switched off) or negative (a flipped picture) for reasons that are not the method's.
Saliency is the plain gradient of the target (seed 1).

The fast path batches the four methods into one forward and one backward pass (:class:`.rules.batch_rules`),
mutates one copy step by step instead of copying per step, and runs convolutions channels-last on the CPU;
:func:`randomisation_test` with ``naive=True`` is the plain computation (a fresh copy per step and one
forward and backward pass per method), which the tests and bench/sanity.py compare it with; at step "none"
both equal :func:`.deconv.project` and :func:`.saliency.saliency` (tests/engine/test_sanity.py).
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import nn

from ..errors import DeconvvizError
from ._control import Cancelled
from . import deconv
from .attribution import AttributionTarget
from .gradcam import default_layer as default_cam_layer
from .layers import capture, run_until
from .methods import NAMES, attribute, uses_layer
from .methods import get as get_method
from .probe import probe, split_call_name
from .rules import MODES, backward_rules, batch_rules
from .similarity import MEASURES, Reference

METHODS = MODES + ("saliency",)  # batched into one forward and one backward pass (:func:`explain`)
ALL_METHODS = METHODS + tuple(n for n in NAMES if n not in METHODS)  # every attribution method of the registry
DEFAULT_METHODS = METHODS
TESTS = ("cascading", "independent")
_NORMS = (nn.modules.batchnorm._NormBase, nn.GroupNorm, nn.LayerNorm)


class SanityCancelled(Cancelled):
    """The caller's ``cancel()`` returned True before the test was finished (an engine ``Cancelled``, so the
    app's runner answers "cancelled", not "failed")."""


@dataclass(frozen=True)
class SanityTarget:
    """What is explained: ``layer``'s ``channel`` at ``position`` (None: its strongest activation on the
    unrandomised network), or, with no layer, the pre-softmax score of ``class_index`` (None: the top class)."""

    layer: str | None = None
    channel: int | None = None
    position: tuple[int, int] | None = None
    class_index: int | None = None
    value: float | None = None  # the projections' seed: the target's value on the learnt network

    def describe(self) -> str:
        """Return e.g. "features.6 channel 3 at (4, 5)" or "class 967"."""
        if self.layer is None:
            return f"class {self.class_index}"
        where = f" at {self.position}" if self.position is not None else ""
        return f"{self.layer} channel {self.channel}{where}"


@dataclass(frozen=True)
class Step:
    """One re-initialisation step: ``name`` (the layer's module name) and the modules it re-initialises."""

    name: str
    modules: tuple[str, ...]
    index: int  # the layer's index from the input (0 = first parametrised layer), which seeds its weights


@dataclass
class SanityResult:
    """The test's maps and similarities.

    ``steps[0]`` is ``"none"`` (the unrandomised network), then one entry per step (the deepest layer
    re-initialised so far in ``cascading``, the one layer in ``independent``). ``maps[method][k]`` is the
    float32 explanation at step k: (C, H, W) for a projection, (H, W) for saliency. ``scores[method][measure]``
    is a list over steps (1 at step "none"). ``target`` is resolved (the position or class actually used).
    """

    test: str
    target: SanityTarget
    methods: tuple[str, ...]
    steps: list[str]
    maps: dict[str, list[np.ndarray]]
    scores: dict[str, dict[str, list[float]]]
    seed: int
    skipped: list[str] = field(default_factory=list)


def abs_map(explanation: np.ndarray) -> np.ndarray:
    """Return the (H, W) magnitude of an explanation: the maximum of |value| over colour channels."""
    return np.abs(explanation).max(0) if explanation.ndim == 3 else np.abs(explanation)


def signed_map(explanation: np.ndarray) -> np.ndarray:
    """Return the (H, W) signed explanation: the sum over colour channels (saliency is its own)."""
    return explanation.sum(0) if explanation.ndim == 3 else explanation


def randomisation_steps(net: nn.Module, x: torch.Tensor) -> tuple[list[Step], list[str]]:
    """Return (steps from the top layer down, names of parametrised modules that cannot be re-initialised)."""
    modules = dict(net.named_modules())
    order = []
    for record in probe(net, x, keep=()).records:
        name, call = split_call_name(record.name)
        if call == 0 and name not in order:
            order.append(name)
    owners = [n for n in order if any(True for _ in modules[n].parameters(recurse=False))]
    unseen = [n for n, m in modules.items() if n and n not in order and any(True for _ in m.parameters(recurse=False))]
    groups: list[list[str]] = []
    skipped = []
    for name in owners:
        if not callable(getattr(modules[name], "reset_parameters", None)):
            skipped.append(name)
            continue
        if isinstance(modules[name], _NORMS) and groups:
            groups[-1].append(name)
        else:
            groups.append([name])
    steps = [Step(g[0], tuple(g), i) for i, g in enumerate(groups)]
    return steps[::-1], skipped + unseen


def reinitialise(net: nn.Module, step: Step, seed: int) -> None:
    """Re-initialise ``step``'s modules of ``net`` in place by their ``reset_parameters()`` under a seed made
    of ``seed`` and the layer's index; the global random state is restored afterwards."""
    modules = dict(net.named_modules())
    device = next(net.parameters()).device
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed * 1_000_003 + step.index)
        with torch.no_grad():
            for name in step.modules:
                modules[name].reset_parameters()


def resolve_target(net: nn.Module, x: torch.Tensor, target: SanityTarget) -> SanityTarget:
    """Return ``target`` with its position (a layer's strongest activation) or class (the top one) chosen on
    ``net``; DeconvvizError for an unknown layer, a channel or class out of range."""
    with torch.no_grad():
        if target.layer is None:
            scores = net(x)
            if scores.dim() != 2:
                raise DeconvvizError(f"the model's output has shape {tuple(scores.shape[1:])}, not class scores")
            k = int(scores[0].argmax()) if target.class_index is None else target.class_index
            if not 0 <= k < scores.shape[1]:
                raise DeconvvizError(f"class {k} out of range: valid 0..{scores.shape[1] - 1}")
            return SanityTarget(class_index=k, value=float(scores[0, k]))
        if target.channel is None:
            raise DeconvvizError("a layer target needs a channel")
        p = deconv.project(net, x, target.layer, target.channel, target.position)
    return SanityTarget(target.layer, target.channel, p.positions[0], None, p.values[0])


def explain(net: nn.Module, x: torch.Tensor, target: SanityTarget, methods=METHODS) -> dict[str, np.ndarray]:
    """Return method -> explanation of a resolved target, all methods from one batched forward and backward.

    Projections (C, H, W) are seeded with ``target.value`` (None: the target's value in this network, as
    :func:`.deconv.project` does); saliency
    (H, W) is |d target / d x|, the maximum over colour channels, as :func:`.saliency.saliency` computes it.
    """
    modes = [("gradient" if m == "saliency" else m) for m in methods]
    xs = x.detach().expand(len(modes), *x.shape[1:]).clone()
    if xs.device.type == "cpu":
        xs = xs.contiguous(memory_format=torch.channels_last)
    xs.requires_grad_(True)
    rules = batch_rules(modes, device=x.device)
    with torch.enable_grad():
        if target.layer is None:
            with rules:
                out = net(xs)
            value = out[:, target.class_index]
            index = (slice(None), target.class_index)
        else:
            with rules, capture(net, target.layer) as box:
                out = run_until(net, xs, box, target.layer)
            layout = box["layout"]
        # the target is a position of the layer's maps (tokens and channels-last read as maps, engine/layout.py)
        maps = layout.maps(out) if target.layer is not None and layout.spatial else out
        if target.layer is not None:
            if target.channel >= maps.shape[1]:
                raise DeconvvizError(f"channel {target.channel} out of range for layer {target.layer!r}")
            index = (slice(None), target.channel) + (tuple(target.position) if target.position is not None else ())
            value = maps[index]
            if value.dim() != 1:  # a whole map of a non-spatial layer cannot happen; a spatial one needs a position
                raise DeconvvizError(f"layer {target.layer!r} needs a position")
        seed = torch.zeros_like(maps)
        unit = torch.tensor([m == "gradient" for m in modes], device=x.device)
        fixed = value.detach() if target.value is None else torch.full_like(value, target.value)
        seed[index] = torch.where(unit, torch.ones_like(value), fixed)
        if maps is not out:
            seed = layout.unmaps(seed)
        (grads,) = torch.autograd.grad(out, xs, seed)
    grads = grads.detach().contiguous().cpu().numpy().astype(np.float32)
    return {m: (np.abs(g).max(0) if m == "saliency" else g) for m, g in zip(methods, grads)}


def explain_naive(net: nn.Module, x: torch.Tensor, target: SanityTarget, methods=METHODS) -> dict[str, np.ndarray]:
    """Return the same as :func:`explain` by the plain computation: one forward and backward pass per
    method, under :class:`.rules.backward_rules` for a projection, plain autograd for saliency (the
    reference the tests and bench/sanity.py compare :func:`explain` with)."""
    out = {}
    for method in methods:
        xs = x.detach().clone().requires_grad_(True)
        rules = contextlib.nullcontext() if method == "saliency" else backward_rules(method)
        with torch.enable_grad():
            with rules:
                if target.layer is None:
                    act = net(xs)
                    index = (0, target.class_index)
                else:
                    with capture(net, target.layer) as box:
                        act = run_until(net, xs, box, target.layer)
                    index = (0, target.channel) + (tuple(target.position) if target.position is not None else ())
            layout = box["layout"] if target.layer is not None else None
            maps = layout.maps(act) if layout is not None and layout.spatial else act
            seed = torch.zeros_like(maps)
            if method == "saliency":
                seed[index] = 1.0
            else:
                seed[index] = maps[index].detach() if target.value is None else target.value
            if maps is not act:
                seed = layout.unmaps(seed)
            (g,) = torch.autograd.grad(act, xs, seed)
        out[method] = g[0].abs().amax(0).cpu().numpy() if method == "saliency" else g[0].cpu().numpy()
    return out


def randomisation_test(net: nn.Module, x: torch.Tensor, target: SanityTarget = SanityTarget(),
                       methods=DEFAULT_METHODS, test: str = "cascading", seed: int = 0, naive: bool = False,
                       progress: Callable[[int, int], None] | None = None,
                       cancel: Callable[[], bool] | None = None, options: dict | None = None,
                       normalisation: tuple | None = None) -> SanityResult:
    """Return the SanityResult of the ``test`` ("cascading" or "independent") for one input (1, C, H, W).

    ``net`` is not modified. ``progress(done, total)`` is called after each step; ``cancel()`` returning
    True raises SanityCancelled. ``options`` maps a registry method to its options; ``normalisation`` is the
    model's (mean, std), for integrated gradients' baselines.
    """
    methods = tuple(methods)
    bad = [m for m in methods if m not in ALL_METHODS]
    if bad or not methods:
        raise DeconvvizError(f"unknown method {bad[0] if bad else '(none)'!r}; valid: {', '.join(ALL_METHODS)}")
    if len(set(methods)) != len(methods):
        raise DeconvvizError(f"a method is named twice in {','.join(methods)}")
    if test not in TESTS:
        raise DeconvvizError(f"unknown test {test!r}; valid: {', '.join(TESTS)}")
    if x.dim() != 4 or x.shape[0] != 1:
        raise DeconvvizError(f"expected one input image of shape (1, C, H, W), got {tuple(x.shape)}")
    target = resolve_target(net, x, target)
    steps, skipped = randomisation_steps(net, x)
    if not steps:
        raise DeconvvizError("the model has no layer with parameters to re-initialise")
    fast = tuple(m for m in methods if m in METHODS)
    others = tuple(m for m in methods if m not in METHODS)
    plain = explain_naive if naive else explain
    options = {m: dict((options or {}).get(m, {})) for m in others}
    mean, std = normalisation or (None, None)
    unit = (AttributionTarget(class_index=target.class_index) if target.layer is None else
            AttributionTarget(layer=target.layer, channel=target.channel, position=target.position))
    layers = {m: default_cam_layer(net, x, unit) for m in others if uses_layer(get_method(m), options[m])}

    def run(work, x, target, methods):
        out = plain(work, x, target, fast) if fast else {}
        for m in others:
            out[m] = attribute(work, x, m, unit, layers.get(m), options[m], mean, std)
        return out

    work = copy.deepcopy(net).eval()
    if not naive and x.device.type == "cpu":
        work = work.to(memory_format=torch.channels_last)
    pristine = {n: m for n, m in net.named_modules()}
    maps = {m: [] for m in methods}
    names = ["none"]

    def record(explanations):
        for m in methods:
            maps[m].append(explanations[m])

    record(run(work, x, target, methods))
    for k, step in enumerate(steps):
        if cancel is not None and cancel():
            raise SanityCancelled("sanity check cancelled")
        if naive:  # a fresh copy, re-initialised from scratch: the plain meaning of each step
            work = copy.deepcopy(net).eval()
            for s in (steps[: k + 1] if test == "cascading" else [step]):
                reinitialise(work, s, seed)
        else:
            reinitialise(work, step, seed)
        record(run(work, x, target, methods))
        names.append(step.name)
        if test == "independent" and not naive:  # put the layer's learnt weights back
            modules = dict(work.named_modules())
            with torch.no_grad():
                for name in step.modules:
                    for dst, src in zip(modules[name].state_dict().values(), pristine[name].state_dict().values()):
                        dst.copy_(src)
        if progress is not None:
            progress(k + 1, len(steps))
    return SanityResult(test, target, methods, names, maps, score_maps(maps), seed, skipped)


def score_maps(maps: dict[str, list[np.ndarray]]) -> dict[str, dict[str, list[float]]]:
    """Return method -> measure -> similarity of each step's map to the first (step "none").

    A map equal to the first (a layer above a layer target cannot change it) scores exactly 1 without
    being measured, as a map against itself does on every measure.
    """
    scores = {}
    for method, series in maps.items():
        reference = Reference(abs_map(series[0]), signed_map(series[0]))
        per = {m: [] for m in MEASURES}
        for e in series:
            same = e is series[0] or np.array_equal(e, series[0])
            values = dict.fromkeys(MEASURES, 1.0) if same else reference.compare(abs_map(e), signed_map(e))
            for measure, v in values.items():
                per[measure].append(v)
        scores[method] = per
    return scores
