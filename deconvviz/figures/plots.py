"""Line plots drawn with PIL (no Qt, no matplotlib): axes, ticks, grid lines, markers and a legend."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw

from .labels import CHAR_W, LINE_H, font

# Matplotlib's "tab10" colours: distinct, and readable for most colour-blind viewers.
PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
           (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]
# Past ten series (the faithfulness panel of every method): navy, then black, still one colour per series.
WIDE_PALETTE = PALETTE + [(0, 0, 128), (0, 0, 0)]


def series_colours(names: Sequence[str], baseline: str | None = None) -> list[tuple[int, int, int]]:
    """Return one distinct colour per name (up to len(WIDE_PALETTE)), in order; ``baseline`` is black (a
    reference curve such as the random order, the same colour however many series come before it)."""
    others = [n for n in names if n != baseline]
    if len(others) > len(WIDE_PALETTE) - 1:
        raise ValueError(f"{len(others)} series besides the baseline, but only {len(WIDE_PALETTE) - 1} colours")
    palette = iter(c for c in WIDE_PALETTE if c != (0, 0, 0))
    return [(0, 0, 0) if n == baseline else next(palette) for n in names]


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Return round tick values (steps of 1, 2 or 5 times a power of ten) covering [low, high]."""
    if not math.isfinite(low) or not math.isfinite(high):
        return [0.0]
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / max(1, count - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step + 1e-9) * step
    ticks = [round(first, 10)]
    while ticks[-1] < high - step * 1e-6 or len(ticks) < 2:
        ticks.append(round(first + len(ticks) * step, 10))
    return ticks


def _label(v: float) -> str:
    if v == 0:
        return "0"
    return f"{v:.0f}" if abs(v) >= 100 and float(v).is_integer() else f"{v:.4g}"


def line_plot(series: Sequence[tuple[str, Sequence[float], Sequence[float]]], title: str = "", xlabel: str = "",
              ylabel: str = "", size: tuple[int, int] = (340, 250), ylim: tuple[float, float] | None = None,
              colors: Sequence[tuple[int, int, int]] = PALETTE) -> np.ndarray:
    """Return an RGB uint8 image (H, W, 3) of ``series`` (label, xs, ys) as lines with markers.

    Axes span the data (y from ``ylim`` when given), with round ticks. Labels are drawn by :func:`legend`.
    """
    width, height = size
    xs_all = np.concatenate([np.asarray(s[1], float) for s in series]) if series else np.zeros(1)
    ys_all = np.concatenate([np.asarray(s[2], float) for s in series]) if series else np.zeros(1)
    ys_all = ys_all[np.isfinite(ys_all)] if np.isfinite(ys_all).any() else np.zeros(1)
    yt = nice_ticks(*(ylim or (float(ys_all.min()), float(ys_all.max()))))
    xt = nice_ticks(float(xs_all.min()), float(xs_all.max()), 6)
    x0, x1 = float(xs_all.min()), float(xs_all.max())
    y0, y1 = (ylim if ylim else (yt[0], yt[-1]))
    left = 10 + max(len(_label(t)) for t in yt) * CHAR_W + (LINE_H + 4 if ylabel else 0)
    top, right, bottom = (LINE_H + 8 if title else 8), 12, 2 * LINE_H + 10
    pw, ph = width - left - right, height - top - bottom

    def px(x: float) -> float:
        return left + (x - x0) / ((x1 - x0) or 1.0) * pw

    def py(y: float) -> float:
        return top + ph - (y - y0) / ((y1 - y0) or 1.0) * ph

    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    f = font()
    for t in yt:
        if y0 - 1e-9 <= t <= y1 + 1e-9:
            y = py(t)
            draw.line([(left, y), (left + pw, y)], fill=(228, 228, 228))
            draw.line([(left - 4, y), (left, y)], fill="black")
            text = _label(t)
            draw.text((left - 6 - len(text) * CHAR_W, y - LINE_H // 2), text, fill="black", font=f)
    for t in xt:
        if x0 - 1e-9 <= t <= x1 + 1e-9:
            x = px(t)
            draw.line([(x, top), (x, top + ph)], fill=(228, 228, 228))
            draw.line([(x, top + ph), (x, top + ph + 4)], fill="black")
            text = _label(t)
            draw.text((x - len(text) * CHAR_W / 2, top + ph + 6), text, fill="black", font=f)
    draw.rectangle([left, top, left + pw, top + ph], outline="black")
    for i, (_, xs, ys) in enumerate(series):
        color = tuple(colors[i % len(colors)])
        points = [(px(float(a)), py(float(b))) for a, b in zip(xs, ys) if math.isfinite(float(b))]
        if len(points) > 1:
            draw.line(points, fill=color, width=2)
        for x, y in points:
            draw.ellipse([x - 2.5, y - 2.5, x + 2.5, y + 2.5], fill=color)
    if title:
        draw.text((left + max(0, (pw - len(title) * CHAR_W) // 2), 3), title, fill="black", font=f)
    if xlabel:
        draw.text((left + max(0, (pw - len(xlabel) * CHAR_W) // 2), height - LINE_H - 2), xlabel, fill="black",
                  font=f)
    if ylabel:
        strip = Image.new("RGB", (len(ylabel) * CHAR_W + 4, LINE_H + 2), "white")
        ImageDraw.Draw(strip).text((2, 0), ylabel, fill="black", font=f)
        strip = strip.rotate(90, expand=True)
        image.paste(strip, (2, top + max(0, (ph - strip.height) // 2)))
    return np.asarray(image)


def legend(labels: Sequence[str], colors: Sequence[tuple[int, int, int]] = PALETTE, width: int = 600) -> np.ndarray:
    """Return an RGB strip with a coloured line and the label of each series, wrapped to ``width`` pixels."""
    f = font()
    items = [(label, tuple(colors[i % len(colors)])) for i, label in enumerate(labels)]
    rows, row, used = [], [], 0
    for label, color in items:
        w = 26 + len(label) * CHAR_W + 14
        if row and used + w > width:
            rows.append(row)
            row, used = [], 0
        row.append((label, color, w))
        used += w
    if row:
        rows.append(row)
    image = Image.new("RGB", (width, max(1, len(rows)) * (LINE_H + 6) + 4), "white")
    draw = ImageDraw.Draw(image)
    for r, row in enumerate(rows):
        x, y = 6, 4 + r * (LINE_H + 6)
        for label, color, w in row:
            draw.line([(x, y + LINE_H // 2), (x + 18, y + LINE_H // 2)], fill=color, width=3)
            draw.text((x + 24, y), label, fill="black", font=f)
            x += w
    return np.asarray(image)


def side_by_side(images: Sequence[np.ndarray], gap: int = 6) -> np.ndarray:
    """Return RGB images placed left to right on white, top-aligned."""
    height = max(i.shape[0] for i in images)
    width = sum(i.shape[1] for i in images) + gap * (len(images) - 1)
    out = np.full((height, width, 3), 255, np.uint8)
    x = 0
    for i in images:
        out[:i.shape[0], x:x + i.shape[1]] = i
        x += i.shape[1] + gap
    return out


def stacked(images: Sequence[np.ndarray], gap: int = 6) -> np.ndarray:
    """Return RGB images placed top to bottom on white, left-aligned."""
    width = max(i.shape[1] for i in images)
    height = sum(i.shape[0] for i in images) + gap * (len(images) - 1)
    out = np.full((height, width, 3), 255, np.uint8)
    y = 0
    for i in images:
        out[y:y + i.shape[0], :i.shape[1]] = i
        y += i.shape[0] + gap
    return out
