"""Panels for gradient saliency and activation maximisation."""

from __future__ import annotations

import numpy as np
import torch

from ..engine.actmax import Ascent
from ..engine.saliency import Saliency
from ..models import LoadedModel
from .labels import with_title
from .plots import line_plot, side_by_side
from .png import Panel
from .projections import _square
from .render import grey_rgb, heatmap_rgb

_SIZE = 224


def saliency_rgb(s: Saliency) -> np.ndarray:
    """Return the saliency map as grey RGB, black at 0 and white from its 99th percentile up (a few extreme
    pixels would otherwise leave the rest black)."""
    m = s.map.detach().cpu().numpy()
    high = float(np.percentile(m, 99)) or float(m.max()) or 1.0
    return grey_rgb(np.clip(m, 0, high), 0.0, high)


def overlay_rgb(pixels: np.ndarray, s: Saliency, alpha: float = 0.6) -> np.ndarray:
    """Return the image with the saliency map (viridis, scaled to its 99th percentile) blended over it."""
    m = s.map.detach().cpu().numpy()
    high = float(np.percentile(m, 99)) or float(m.max()) or 1.0
    heat = heatmap_rgb(np.clip(m, 0, high), 0.0, high).astype(np.float32)
    weight = alpha * np.clip(m / high, 0, 1)[..., None]
    return (pixels.astype(np.float32) * (1 - weight) + heat * weight).round().astype(np.uint8)


def saliency_panel(model: LoadedModel, x: torch.Tensor, s: Saliency, image_name: str = "",
                   command: str = "") -> Panel:
    """Return the Panel: the input, the saliency map, and the map over the input."""
    pixels = model.preprocessing.to_pixels(x)
    tiles = [with_title(_square(pixels, _SIZE), "input"), with_title(_square(saliency_rgb(s), _SIZE), "|d score / d x|"),
             with_title(_square(overlay_rgb(pixels, s), _SIZE), "overlay")]
    name = model.class_name(s.target)
    caption = f"{model.label} · saliency of {name} (class {s.target}, p = {s.probability:.3f}) · {image_name}"
    facts = {"model": model.name, "weights": model.weights, "class": str(s.target), "class name": name,
             "image": image_name, "command": command}
    return Panel(side_by_side(tiles, 4), caption, facts)


def actmax_panel(model: LoadedModel, start: torch.Tensor, ascent: Ascent, command: str = "") -> Panel:
    """Return the Panel: the start, the image found, and the target's value per step."""
    what = ascent.target.describe()
    if ascent.target.class_index is not None:
        what += f" ({model.class_name(ascent.target.class_index)})"
    steps = list(range(len(ascent.values)))
    plot = line_plot([("value", steps, ascent.values)], "target value per step", "step", "value",
                     (300, _SIZE + 16))
    tiles = [with_title(_square(model.preprocessing.to_pixels(start), _SIZE), "start"),
             with_title(_square(model.preprocessing.to_pixels(ascent.image), _SIZE), "found"), plot]
    caption = (f"{model.label} · maximise {what} · {len(steps) - 1} steps · "
               f"{ascent.values[0]:.3g} -> {ascent.values[-1]:.3g}")
    facts = {"model": model.name, "weights": model.weights, "target": what, "command": command}
    return Panel(side_by_side(tiles, 4), caption, facts)
