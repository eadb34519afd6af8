"""Class activation maps from a layer's gradients: Grad-CAM (Selvaraju et al. 2017), Grad-CAM++
(Chattopadhay et al. 2018) and guided Grad-CAM.

Grad-CAM weighs each of a layer's maps A_k by the mean of the target's gradient over it,
alpha_k = mean_ij dY/dA_kij, and rectifies the weighted sum, relu(sum_k alpha_k A_k): Captum's
``LayerGradCam`` with ``relu_attributions=True``. Grad-CAM++ weighs the positive gradients per position,
w_k = sum_ij a_kij relu(g_kij) with a_kij = g^2 / (2 g^2 + sum_ab A_kab g^3) (the closed form for an
exponentiated score, as the paper and pytorch-grad-cam compute it; a_kij = 0 where g = 0). Both are
upsampled to the input's size bilinearly (``F.interpolate``, ``align_corners=False``; Captum's
``LayerAttribution.interpolate`` with ``interpolate_mode="bilinear"``). Guided Grad-CAM multiplies
guided backprop's input map by the upsampled Grad-CAM (Captum's ``GuidedGradCam``).

A token or channels-last layer is read as maps through :mod:`.layout` (a ViT block's patch tokens as a
grid; its class token is no position of the map).
"""

from __future__ import annotations

import weakref

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import DeconvvizError
from .attribution import AttributionTarget, forward, top_class_of_first_pass
from .layout import no_maps_error
from .probe import probe
from .rules import uniform_rules

_POOLING = ("Pool",)
# net -> {(its modules' names and types, input shape and type, target layer): default layer}: the choice
# reads the layers' output shapes only, so a probe pass per call (a live video's frame) would repeat it
_DEFAULTS: "weakref.WeakKeyDictionary[nn.Module, dict]" = weakref.WeakKeyDictionary()


def layer_gradients(net: nn.Module, xs: torch.Tensor, target: AttributionTarget, layer: str):
    """Return (A, dY/dA), both (B, C, h, w): ``layer``'s output read as maps and the target's gradient.

    The graph starts at the layer (nothing before it is recorded, as Captum's ``LayerGradCam``): a fifth
    of the forward pass's cost on EfficientNet-Lite0. Where the network does not go on from the tapped
    tensor (a module output the hook cannot replace), the graph is recorded from the input instead."""
    with torch.no_grad():
        values, box = forward(net, xs.detach(), target, {"cam": layer}, graph_from="cam")
        grad = _gradient(values, box["cam"])
    if grad is None:
        xs = xs.detach().clone().requires_grad_(True)  # so the layer's output is in the graph with frozen weights
        with torch.enable_grad():
            values, box = forward(net, xs, target, {"cam": layer})
            grad = _gradient(values, box["cam"])
    act, layout = box["cam"], box["cam:layout"]
    if not layout.spatial:
        raise no_maps_error(layer, tuple(act.shape[1:]), "Grad-CAM")
    if grad is None:
        raise DeconvvizError(f"the target does not depend on layer {layer!r}'s output: Grad-CAM has no gradient there")
    return layout.maps(act.detach()), layout.maps(grad.detach())


def _gradient(values: torch.Tensor, act: torch.Tensor) -> torch.Tensor | None:
    """Return d sum(values) / d act, or None where ``values`` do not depend on ``act`` in the graph."""
    if not values.requires_grad:
        return None
    with torch.enable_grad():
        return torch.autograd.grad(values.sum(), act, allow_unused=True)[0]


def upsample(cam: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Return maps (B, 1, h, w) resized to ``size`` bilinearly (the input's size)."""
    return F.interpolate(cam, size=tuple(size), mode="bilinear", align_corners=False)


def gradcam(net: nn.Module, xs: torch.Tensor, target: AttributionTarget, layer: str) -> torch.Tensor:
    """Return Grad-CAM (B, 1, H, W) of ``target`` at ``layer``, at the input's size."""
    return upsample(_cam(*layer_gradients(net, xs, target, layer)), xs.shape[2:])


def _cam(act: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """Return Grad-CAM (B, 1, h, w) at the layer's size from its maps and their gradients."""
    return torch.relu((grad.mean((2, 3), keepdim=True) * act).sum(1, keepdim=True))


def gradcam_plus_plus(net: nn.Module, xs: torch.Tensor, target: AttributionTarget, layer: str) -> torch.Tensor:
    """Return Grad-CAM++ (B, 1, H, W) of ``target`` at ``layer``, at the input's size."""
    act, grad = layer_gradients(net, xs, target, layer)
    g2 = grad.pow(2)
    denominator = 2 * g2 + act.sum((2, 3), keepdim=True) * g2 * grad
    alpha = torch.where(grad != 0, g2 / torch.where(denominator != 0, denominator, torch.ones_like(denominator)),
                        torch.zeros_like(grad))
    weights = (alpha * torch.relu(grad)).sum((2, 3), keepdim=True)
    return upsample(torch.relu((weights * act).sum(1, keepdim=True)), xs.shape[2:])


def guided_gradcam(net: nn.Module, xs: torch.Tensor, target: AttributionTarget, layer: str) -> torch.Tensor:
    """Return guided Grad-CAM (B, C, H, W): guided backprop's input gradient times the upsampled Grad-CAM.

    One forward and one backward pass answer both halves where no rectifier or normalisation runs after
    the layer (the usual case: Grad-CAM's layer is the last with maps), as the guided rules then leave the
    gradient at the layer the true one; otherwise the two halves run apart."""
    rules = uniform_rules("guided", xs.device)
    seen: dict[str, int] = {}
    xs = xs.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        with rules:
            values, box = forward(net, xs, target, {"cam": layer},
                                  on_tap=lambda key: seen.setdefault(key, rules.ruled))
        act, layout = box["cam"], box["cam:layout"]
        if not layout.spatial:
            raise no_maps_error(layer, tuple(act.shape[1:]), "Grad-CAM")
        if rules.ruled != seen["cam"]:
            (guided,) = torch.autograd.grad(values.sum(), xs)
            return guided.detach() * gradcam(net, xs, target, layer)
        guided, grad = torch.autograd.grad(values.sum(), (xs, act))
    cam = _cam(layout.maps(act.detach()), layout.maps(grad.detach()))
    return guided.detach() * upsample(cam, xs.shape[2:])


def default_layer(net: nn.Module, x: torch.Tensor, target: AttributionTarget) -> str:
    """Return Grad-CAM's default layer: the last call of a leaf module (not a pooling) whose output reads
    as maps larger than 1x1, run before the target's layer when the target is in a layer, and whose maps get
    a gradient from the target that is not zero everywhere, among the calls with that last one's map shape.

    The gradient matters for a vision transformer whose head reads its class token only: every later
    layer's patch tokens then get no gradient at all (a Grad-CAM of zero at ``encoder.ln``), and the
    default is the last block's first norm, before its attention mixes the tokens (as pytorch-grad-cam
    advises). Where no such layer has a gradient (a head of zeros), it is the last one all the same.

    Found by one probe pass and one forward and backward pass, then remembered for the same network,
    modules (names and types), input shape and target layer."""
    key = (tuple((name, type(m)) for name, m in net.named_modules()), tuple(x.shape[1:]), x.dtype,
           x.device, target.layer)
    known = _DEFAULTS.setdefault(net, {})
    if key not in known:
        known[key] = _find_default_layer(net, x, target)
    return known[key]


def _find_default_layer(net: nn.Module, x: torch.Tensor, target: AttributionTarget) -> str:
    records = probe(net, x[:1], keep=()).records
    if target.layer is not None:
        names = [r.name for r in records]
        if target.layer in names:
            records = records[:names.index(target.layer)]
    leaves = {name for name, m in net.named_modules() if name and not any(True for _ in m.children())}
    spatial = [r for r in records if r.spatial and r.map_shape[1] * r.map_shape[2] > 1
               and r.name.split("#")[0] in leaves]
    chosen = [r for r in spatial if not any(p in r.type_name for p in _POOLING)] or spatial
    if not chosen:
        where = f" before {target.layer!r}" if target.layer is not None else ""
        raise DeconvvizError(f"the model has no layer with spatial maps{where}; Grad-CAM needs one (give --layer)")
    alike = [r.name for r in chosen if r.map_shape == chosen[-1].map_shape]
    if len(alike) > 1:
        live = _with_gradient(net, x[:1], target, alike)
        if live:
            return live[-1]
    return chosen[-1].name


def _with_gradient(net: nn.Module, x: torch.Tensor, target: AttributionTarget, names: list[str]) -> list[str]:
    """Return those of ``names`` (layer calls, in call order) whose maps get a gradient from the target that is
    not zero everywhere, from one forward and backward pass."""
    taps = {f"cam{i}": name for i, name in enumerate(names)}
    xs = x.detach().clone().requires_grad_(True)
    # a class target naming no class explains the top one: which class does not matter where no gradient reaches
    with top_class_of_first_pass(), torch.enable_grad():
        values, box = forward(net, xs, target, taps)
        grads = torch.autograd.grad(values.sum(), [box[k] for k in taps], allow_unused=True)
    return [name for (key, name), g in zip(taps.items(), grads)
            if g is not None and bool(box[key + ":layout"].maps(g).any())]
