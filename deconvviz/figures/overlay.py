"""The occlusion panel: the model's input with the grey square and/or the sensitivity map as a heatmap."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from .labels import LINE_H, font
from .png import Panel
from .render import DIVERGING, VIRIDIS, enlarge, heatmap_rgb

_SIZE = 448
_BAR = 16


def sensitivity_rgb(prob: np.ndarray, height: int, width: int, patch: int, stride: int,
                    low: float = 0.0, high: float = 1.0) -> np.ndarray:
    """Return the map (ny, nx) coloured with viridis on an (height, width, 3) canvas of the input's size.

    Entry [i, j] (the square's top-left at (i*stride, j*stride)) paints the stride x stride cell around the
    square's centre, so the map lines up with the image; the border the centres never reach keeps the
    nearest cell's colour.
    """
    rgb = heatmap_rgb(prob, low, high)
    ny, nx = prob.shape
    rows = np.clip((np.arange(height) - patch / 2 + stride / 2) // stride, 0, ny - 1).astype(np.intp)
    cols = np.clip((np.arange(width) - patch / 2 + stride / 2) // stride, 0, nx - 1).astype(np.intp)
    return np.ascontiguousarray(rgb[rows][:, cols])


def map_levels(prob: np.ndarray) -> tuple[float, float]:
    """Return the (low, high) colour range of a sensitivity map: its own range, never empty."""
    low, high = float(prob.min()), float(prob.max())
    return low, high if high > low else low + 1e-6


def occlusion_pixels(pixels: np.ndarray, square: tuple[int, int, int] | None, fill: np.ndarray,
                     heat: np.ndarray | None, alpha: float = 0.6) -> np.ndarray:
    """Return the input pixels (H, W, 3) with ``heat`` (same shape) blended over and the square painted ``fill``."""
    out = pixels.astype(np.float32)
    if heat is not None:
        out = (1 - alpha) * out + alpha * heat.astype(np.float32)
    if square is not None:
        top, left, size = square
        out[max(0, top):top + size, max(0, left):left + size] = fill
    return np.ascontiguousarray(out.round().astype(np.uint8))


def colour_bar(height: int, low: float, high: float, signed: bool = False) -> np.ndarray:
    """Return a vertical bar (height, W, 3), W at least 64 and wide enough for its labels: viridis, or for a
    ``signed`` map the diverging ramp with its 0 marked, ``high`` at the top and ``low`` at the bottom."""
    labels = [(0, f"{high:.4g}"), (height - LINE_H, f"{low:.4g}")]
    if signed:
        labels.append((height // 2 - LINE_H // 2, "0"))
    width = max(64, _BAR + 3 + max(math.ceil(font().getlength(text)) for _, text in labels) + 2)
    bar = np.full((height, width, 3), 255, np.uint8)
    ramp = (DIVERGING if signed else VIRIDIS)[np.linspace(255, 0, height).round().astype(np.intp)]
    bar[:, :_BAR] = ramp[:, None, :]
    image = Image.fromarray(bar)
    draw = ImageDraw.Draw(image)
    for y, text in labels:
        draw.text((_BAR + 3, y), text, fill="black", font=font())
    return np.asarray(image)


def occlusion_panel(pixels: np.ndarray, square: tuple[int, int, int] | None, fill: np.ndarray,
                    prob: np.ndarray | None, patch: int, stride: int, caption: str,
                    facts: dict[str, str]) -> Panel:
    """Return a Panel: the input enlarged to ~448 px with the square and the map (if any), and a colour bar."""
    height, width = pixels.shape[:2]
    low, high = map_levels(prob) if prob is not None else (0.0, 1.0)
    heat = sensitivity_rgb(prob, height, width, patch, stride, low, high) if prob is not None else None
    image = enlarge(occlusion_pixels(pixels, square, fill, heat), _SIZE)
    if prob is None:
        return Panel(image, caption, dict(facts))
    bar = colour_bar(image.shape[0], low, high)
    gap = np.full((image.shape[0], 6, 3), 255, np.uint8)
    return Panel(np.ascontiguousarray(np.concatenate([image, gap, bar], 1)), caption, dict(facts))
