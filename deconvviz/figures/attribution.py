"""The attribution panel: a method's map over the image, with a colour bar.

A map that is never negative (Grad-CAM, saliency) is coloured with viridis from 0 up to its 99.5th
percentile; a signed one (integrated gradients, the rules' sums over colour channels) with a diverging
blue-white-red ramp, symmetric about 0 at the 99.5th percentile of its magnitude (a few extreme pixels would
otherwise wash the rest out). The heat is blended over the image in proportion to its strength, times
``opacity``; under a signed map the photo is greyed and lightened by ``opacity``, so that red and blue read.
"""

from __future__ import annotations

import numpy as np
import torch

from ..models import LoadedModel
from .labels import with_title
from .overlay import colour_bar
from .plots import side_by_side
from .png import Panel
from .render import DIVERGING, VIRIDIS, enlarge

_SIZE = 448


def levels(amap: np.ndarray) -> tuple[float, float, bool]:
    """Return (low, high, signed): the colour range of a map, never empty."""
    m = np.asarray(amap, np.float64)
    signed = bool((m < 0).any())
    top = float(np.percentile(np.abs(m), 99.5)) or float(np.abs(m).max()) or 1.0
    return (-top, top, True) if signed else (0.0, top, False)


def heat_overlay(pixels: np.ndarray, amap: np.ndarray, opacity: float = 0.7) -> np.ndarray:
    """Return the image pixels (H, W, 3) uint8 with the map (H, W) blended over them (see the module)."""
    low, high, signed = levels(amap)
    m = np.clip(np.asarray(amap, np.float64), low, high)
    t = (m - low) / (high - low)
    heat = (DIVERGING if signed else VIRIDIS)[np.clip((t * 255).round(), 0, 255).astype(np.intp)]
    strength = np.clip(np.abs(m) / high, 0, 1)
    alpha = float(np.clip(opacity, 0.0, 1.0))
    base = pixels.astype(np.float64)
    if signed:
        # a light grey photo under the blue-white-red ramp: the scattered pixels of a gradient map stand out
        grey = base.mean(2, keepdims=True)
        base = (1 - alpha) * base + alpha * (150 + 0.4 * grey)
        weight = np.clip(2 * strength, 0, 1)[..., None]
    else:  # viridis' dark end is no absence of heat: give every pixel some colour
        weight = alpha * (0.35 + 0.65 * strength)[..., None]
    out = base * (1 - weight) + heat.astype(np.float64) * weight
    return np.ascontiguousarray(out.round().clip(0, 255).astype(np.uint8))


ZERO_MAP = "the map is 0 everywhere"


def attribution_panel(model: LoadedModel, x: torch.Tensor, amap: np.ndarray, method: str, target: str,
                      layer: str | None, image_name: str = "", command: str = "", opacity: float = 0.7) -> Panel:
    """Return the Panel: the input and the map over it, enlarged to ~448 px, with the colour bar."""
    return overlay_panel(model.preprocessing.to_pixels(x), amap, method, target, layer,
                         (model.label, model.name, model.weights), image_name, command, opacity)


def overlay_panel(pixels: np.ndarray, amap: np.ndarray, method: str, target: str, layer: str | None,
                  model: tuple[str, str, str], image_name: str = "", command: str = "",
                  opacity: float = 0.7) -> Panel:
    """Return :func:`attribution_panel`'s Panel from the input's pixels (H, W, 3) uint8 and the model's (label,
    name, weights): what the app redraws when only the opacity changes."""
    label, name, weights = model
    over = enlarge(heat_overlay(pixels, amap, opacity), _SIZE)
    low, high, signed = levels(amap)
    title = method + (f" at {layer}" if layer else "")
    tiles = [with_title(enlarge(pixels, _SIZE), "input"), with_title(over, title),
             with_title(colour_bar(over.shape[0], low, high, signed), "")]
    caption = f"{label} · {method} of {target}" + (f" · layer {layer}" if layer else "") + f" · {image_name}"
    if not np.any(amap):  # a blank overlay says nothing by itself (e.g. torchvision's ViT head starts at zero)
        caption += f" · {ZERO_MAP}"
    facts = {"model": name, "weights": weights, "method": method, "target": target,
             "layer": layer or "", "image": image_name, "command": command}
    return Panel(side_by_side(tiles, 6), caption, facts)
