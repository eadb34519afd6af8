"""The paper's Fig. 7 panel for one image: input, feature-map activity, its projection, p(target), top label."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from ..engine.deconv import Projection
from ..engine.occlusion import OcclusionResult
from ..models import LoadedModel
from .labels import font
from .png import Panel
from .render import VIRIDIS, heatmap_rgb, projection_rgb

_TILE = 224
_GAP = 8
_TITLE = 34  # room above each tile for its two-line title
_FOOT = 40  # room below the tiles for the colour bars (the legend may need more)
_LEGEND_ROW = 15
# Tableau's ten categorical colours, for the label map: neighbouring classes stay distinguishable.
_PALETTE = np.array([
    [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
    [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207],
], dtype=np.uint8)
_OTHER = np.array([40, 40, 40], np.uint8)


def _fit(rgb: np.ndarray, size: int = _TILE) -> np.ndarray:
    """Return an (h, w, 3) array scaled to size x size: nearest for small maps, so each position stays a block."""
    image = Image.fromarray(rgb)
    small = max(rgb.shape[:2]) < size
    return np.asarray(image.resize((size, size), Image.NEAREST if small else Image.BILINEAR))


def label_colours(labels: np.ndarray, limit: int = len(_PALETTE)) -> tuple[np.ndarray, list[tuple[int, float]]]:
    """Return (RGB map (ny, nx, 3), [(class, share of positions)] for the coloured classes, most frequent first).

    The ``limit`` most frequent classes get a palette colour; any others are dark grey.
    """
    classes, counts = np.unique(labels, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    shown = [(int(classes[i]), counts[i] / labels.size) for i in order[:limit]]
    rgb = np.empty(labels.shape + (3,), np.uint8)
    rgb[:] = _OTHER
    for k, (c, _) in enumerate(shown):
        rgb[labels == c] = _PALETTE[k]
    return rgb, shown


def occlusion_panel(model: LoadedModel, x: torch.Tensor, result: OcclusionResult, projection: Projection,
                    image_name: str | Path = "", command: str = "") -> Panel:
    """Return the Fig. 7 Panel: (a) input with the square, (b) total activation of the chosen map,
    (c) projection of its strongest activation, (d) p(target) with a colour bar, (e) top label with a legend."""
    image = model.preprocessing.to_pixels(x)
    height, width = image.shape[:2]
    square = image.copy()
    _outline(square, result.patch)
    target = model.class_name(result.target)
    low, high = float(result.prob.min()), float(result.prob.max())
    labels_rgb, shown = label_colours(result.label)
    tiles = [
        (_fit(square), "(a) input", f"square {result.patch} px, stride {result.stride}"),
        (_fit(heatmap_rgb(result.activity)), f"(b) {result.layer} map {result.channel}",
         "total activation"),
        (_fit(projection_rgb(projection.images[0])), "(c) projection of its",
         "strongest activation"),
        (_fit(heatmap_rgb(result.prob, low, high)), f"(d) p({_short(target, 26)})"
         + (" approx." if result.approximation else ""), f"unoccluded {result.base_prob:.3f}"),
        (_fit(labels_rgb), "(e) most probable label", ""),
    ]
    foot_height = max(_FOOT, 8 + _LEGEND_ROW * min(len(shown), 8))
    canvas = Image.new("RGB", (5 * _TILE + 4 * _GAP, _TITLE + _TILE + foot_height), "white")
    draw = ImageDraw.Draw(canvas)
    for k, (rgb, title, subtitle) in enumerate(tiles):
        x0 = k * (_TILE + _GAP)
        canvas.paste(Image.fromarray(np.ascontiguousarray(rgb)), (x0, _TITLE))
        draw.text((x0 + 2, 2), _short(title, 37), fill="black", font=font())
        draw.text((x0 + 2, 17), _short(subtitle, 37), fill="dimgray", font=font())
    foot = _TITLE + _TILE + 6
    _colour_bar(draw, canvas, 1 * (_TILE + _GAP), foot, float(result.activity.min()), float(result.activity.max()))
    _colour_bar(draw, canvas, 3 * (_TILE + _GAP), foot, low, high)
    _legend(draw, 4 * (_TILE + _GAP), foot, shown, model)
    caption = (f"{model.label} · occlusion {result.patch}px/{result.stride}"
               + (f" · approximate ({result.approximation.describe()})" if result.approximation else "")
               + f" · target {result.target} {target} · {Path(image_name).name}")
    facts = {
        "model": model.name, "weights": model.weights, "image": str(image_name), "layer": result.layer,
        "channel": str(result.channel), "target": str(result.target), "target_name": target,
        "patch": str(result.patch), "stride": str(result.stride), "method": result.method,
        "min_prob": f"{low:.6g}", "base_prob": f"{result.base_prob:.6g}", "command": command,
        "input_size": f"{height}x{width}",
    }
    if result.approximation:  # an exact map's facts stay as they were (byte-identical exports)
        a = result.approximation
        facts.update(approximate=a.describe(), field=f"{a.field:g}", coarse=str(a.coarse), drill=f"{a.drill:g}",
                     computed_fraction=f"{float(result.computed.mean()):.4g}")
    return Panel(np.asarray(canvas), caption, facts)


def _outline(rgb: np.ndarray, patch: int) -> None:
    """Draw the occluder's size as a grey square with a white edge in the top-left corner (in place)."""
    p = min(patch, rgb.shape[0], rgb.shape[1])
    rgb[:p, :p] = 128
    rgb[:p, [0, p - 1]] = 255
    rgb[[0, p - 1], :p] = 255


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _colour_bar(draw, canvas, x0: int, y0: int, low: float, high: float) -> None:
    bar = np.repeat(VIRIDIS[None, :, :], 12, axis=0)
    canvas.paste(Image.fromarray(bar).resize((_TILE, 12), Image.NEAREST), (x0, y0))
    scale = max(abs(low), abs(high)) or 1.0
    digits = 3 if high - low <= 0 else max(3, min(8, 2 + math.ceil(math.log10(scale / (high - low)))))
    for frac in (0.0, 0.5, 1.0):
        value = low + frac * (high - low)
        x = x0 + round(frac * (_TILE - 1))
        draw.line([(x, y0 + 12), (x, y0 + 16)], fill="black")
        text = f"{value:.{digits}g}"  # enough digits that the three ticks differ
        width = draw.textlength(text, font=font())
        draw.text((min(max(x - width / 2, x0), x0 + _TILE - width), y0 + 17), text, fill="black", font=font())


def _legend(draw, x0: int, y0: int, shown, model: LoadedModel) -> None:
    for k, (c, share) in enumerate(shown[:8]):
        y = y0 + k * _LEGEND_ROW
        draw.rectangle([x0, y + 4, x0 + 9, y + 13], fill=tuple(int(v) for v in _PALETTE[k]))
        draw.text((x0 + 14, y), _short(f"{model.class_name(c)} ({share:.0%})", 34), fill="black", font=font())
