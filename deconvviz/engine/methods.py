"""The attribution methods, one registry entry each: its name, what it needs and how it computes.

The CLI (``deconvviz attribute``, ``sanity --methods``, ``faithfulness --maps``), the app's method box and
the sanity and faithfulness analyses list the methods from :data:`METHODS`; nothing else keeps a list.

Every method maps one input (1, C, H, W) to an (H, W) float32 array at the input's size. Each entry's
``raw`` computes a batch's per-sample attribution before the reduction over colour channels ((B, C, H, W),
or (B, 1, H, W) for the class activation maps), so that SmoothGrad can average any of them over its noisy
copies before reducing: the gradient methods and integrated gradients sum over colour channels (signed),
``saliency`` takes the maximum of |gradient| (Simonyan et al.'s definition, as ``deconvviz saliency``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import nn

from ..errors import DeconvvizError
from . import gradcam as cams
from .attribution import AttributionTarget, check_input, resolve_class, top_class_of_first_pass
from .gradients import input_gradients
from .integrated_gradients import BASELINES, baseline, integrated_gradients
from .smoothgrad import smoothgrad


@dataclass(frozen=True)
class Request:
    """One call's settings: the network, the resolved target and layer, the options, the normalisation."""

    net: nn.Module
    x: torch.Tensor
    target: AttributionTarget
    layer: str | None
    options: dict
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Method:
    """A registry entry. ``layer``: whether it reads a layer (Grad-CAM's; default the last with maps).
    ``options``: the options it takes with their defaults. ``cheap``: one forward and one or two backward
    passes (live on a playing video). ``on_input``: its passes run on the input itself (not on noisy copies
    or a path from a baseline), so that the top class is read from its first pass. ``raw(request, xs)`` returns the batch's attribution before the
    reduction ``reduce`` ("sum" or "max" of |.| over colour channels, "one" for a single-channel map,
    "base" for SmoothGrad's base's)."""

    name: str
    summary: str
    raw: Callable[[Request, torch.Tensor], torch.Tensor]
    reduce: str = "sum"
    layer: bool = False
    options: dict = field(default_factory=dict)
    cheap: bool = True
    paper: str = ""
    on_input: bool = True

    def finish(self, raw: torch.Tensor) -> np.ndarray:
        """Return one sample's raw attribution (C, H, W) reduced to the (H, W) float32 map."""
        if self.reduce == "max":
            out = raw.abs().amax(0)
        elif self.reduce == "one":
            out = raw[0]
        else:
            out = raw.sum(0)
        return out.detach().to("cpu", torch.float32).numpy()


def _ig(r: Request, xs: torch.Tensor) -> torch.Tensor:
    o = r.options
    base = baseline(r.x, o["baseline"], r.mean, r.std, o["sigma"])
    return integrated_gradients(r.net, xs, r.target, base, int(o["steps"]), int(o["batch"]))


def _smooth(r: Request, xs: torch.Tensor) -> torch.Tensor:
    base = get(r.options["base"])
    if base.name == "smoothgrad":
        raise DeconvvizError("SmoothGrad's base is another method, not smoothgrad itself")
    inner = Request(r.net, r.x, r.target, r.layer, {**defaults(base), **{k: v for k, v in r.options.items()
                                                                            if k in base.options}}, r.mean, r.std)
    o = r.options
    return torch.cat([smoothgrad(lambda batch: base.raw(inner, batch), xi[None], int(o["samples"]), float(o["noise"]),
                                 int(o["seed"]), int(o["batch"])) for xi in xs])


_IG_OPTIONS = {"steps": 32, "baseline": "zero", "sigma": None, "batch": 16}
_ENTRIES = (
    Method("gradcam", "Grad-CAM: the layer's maps weighed by their mean gradient, rectified",
           lambda r, xs: cams.gradcam(r.net, xs, r.target, r.layer), "one", layer=True,
           paper="Selvaraju et al. 2017"),
    Method("gradcam++", "Grad-CAM++: maps weighed by their positive gradients, per position",
           lambda r, xs: cams.gradcam_plus_plus(r.net, xs, r.target, r.layer), "one", layer=True,
           paper="Chattopadhay et al. 2018"),
    Method("guided-gradcam", "guided backprop times Grad-CAM",
           lambda r, xs: cams.guided_gradcam(r.net, xs, r.target, r.layer), "sum", layer=True,
           paper="Selvaraju et al. 2017"),
    Method("integrated-gradients", "(x - baseline) times the mean gradient on the path from the baseline",
           _ig, "sum", options=_IG_OPTIONS, cheap=False, paper="Sundararajan et al. 2017",
           on_input=False),
    Method("smoothgrad", "a method's attribution averaged over noisy copies of the image", _smooth, "base",
           options={"base": "saliency", "samples": 16, "noise": 0.15, "seed": 0, "batch": 16},
           cheap=False, paper="Smilkov et al. 2017", on_input=False),
    Method("saliency", "|d score / d x|, the maximum over colour channels",
           lambda r, xs: input_gradients(r.net, xs, r.target).abs(), "max", paper="Simonyan et al. 2014"),
    Method("deconvnet", "the deconvnet's rule at every rectifier: relu of the signal coming down",
           lambda r, xs: input_gradients(r.net, xs, r.target, "deconvnet"), paper="Zeiler & Fergus 2014"),
    Method("guided", "guided backprop: the gradient, rectified on the way down",
           lambda r, xs: input_gradients(r.net, xs, r.target, "guided"), paper="Springenberg et al. 2015"),
    Method("backprop", "the gradient (local response normalisation passed through, as the deconvnet does)",
           lambda r, xs: input_gradients(r.net, xs, r.target, "backprop"), paper="Simonyan et al. 2014"),
)
METHODS: dict[str, Method] = {m.name: m for m in _ENTRIES}
NAMES: tuple[str, ...] = tuple(METHODS)
OPTIONS: tuple[str, ...] = tuple(dict.fromkeys(k for m in _ENTRIES for k in m.options))


def get(name: str) -> Method:
    """Return the registry entry ``name`` (DeconvvizError naming the valid ones otherwise)."""
    if name not in METHODS:
        raise DeconvvizError(f"unknown attribution method {name!r}; valid: {', '.join(NAMES)}")
    return METHODS[name]


def defaults(method: Method) -> dict:
    """Return a copy of the method's options at their defaults."""
    return dict(method.options)


def uses_layer(method: Method, options: dict) -> bool:
    """Return whether ``method`` with ``options`` reads a layer (SmoothGrad through its base)."""
    if method.name == "smoothgrad":
        return get(options.get("base", "saliency")).layer
    return method.layer


def settle(net: nn.Module, x: torch.Tensor, name: str, target: AttributionTarget | None = None,
           layer: str | None = None, options: dict | None = None, mean=None, std=None) -> tuple[Method, Request]:
    """Return (the method, its Request) with the target's class (left to the method's first pass where the
    method runs on the input, :data:`Method.on_input`) and Grad-CAM's default layer resolved and every option
    checked (DeconvvizError for an unknown option or a layer given to a method without one)."""
    method = get(name)
    check_input(x)
    options = dict(options or {})
    valid = dict(method.options)
    if method.name == "smoothgrad":
        valid.update(get(options.get("base", "saliency")).options)
    unknown = [k for k in options if k not in valid]
    if unknown:
        takes = ", ".join(valid) if valid else "no options"
        raise DeconvvizError(f"{name} has no option {unknown[0]!r} (it takes {takes})")
    options = {**valid, **options}
    if method.name == "smoothgrad":
        get(options["base"])
    if "baseline" in options and options["baseline"] not in BASELINES:
        raise DeconvvizError(f"unknown baseline {options['baseline']!r}; valid: {', '.join(BASELINES)}")
    target = target or AttributionTarget()
    if not (method.on_input and target.layer is None and target.class_index is None):
        target = resolve_class(net, x, target)  # else the method's own first pass finds the top class
    if uses_layer(method, options):
        layer = layer or cams.default_layer(net, x, target)
    elif layer is not None:
        raise DeconvvizError(f"{name} reads no layer (only {', '.join(n for n, m in METHODS.items() if m.layer)} do)")
    return method, Request(net, x.detach(), target, layer, options, mean, std)


@dataclass(frozen=True)
class Attribution:
    """A method's (H, W) float32 ``map`` with what it explains: the resolved ``target``, the ``layer`` it
    read (None for the input-gradient methods) and the ``options`` it ran with."""

    map: np.ndarray
    method: str
    target: AttributionTarget
    layer: str | None
    options: dict


def explain(net: nn.Module, x: torch.Tensor, name: str, target: AttributionTarget | None = None,
            layer: str | None = None, options: dict | None = None, mean=None, std=None) -> Attribution:
    """Return the Attribution of method ``name`` for ``target`` (default: the top class) and one input ``x``
    (1, C, H, W); ``layer`` is Grad-CAM's (default: the last layer with maps before the target whose gradient
    is not zero everywhere, :func:`.gradcam.default_layer`), ``options`` the method's (see :data:`METHODS`),
    ``mean``/``std`` the model's normalisation (for the baselines)."""
    method, request = settle(net, x, name, target, layer, options, mean, std)
    with top_class_of_first_pass() as found:
        raw = method.raw(request, request.x)
    resolved = AttributionTarget(found["class"]) if "class" in found else request.target
    amap = reducer(method, request.options).finish(raw[0])
    return Attribution(amap, name, resolved, request.layer, request.options)


def attribute(net: nn.Module, x: torch.Tensor, name: str, target: AttributionTarget | None = None,
              layer: str | None = None, options: dict | None = None, mean=None, std=None) -> np.ndarray:
    """Return the (H, W) float32 map of :func:`explain`."""
    return explain(net, x, name, target, layer, options, mean, std).map


def reducer(method: Method, options: dict) -> Method:
    """Return the entry whose reduction over colour channels ends ``method``'s map (SmoothGrad: its base's)."""
    return get(options["base"]) if method.reduce == "base" else method
