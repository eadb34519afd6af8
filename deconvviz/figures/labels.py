"""Text on figure canvases: titles above, labels beside a grid (Pillow's built-in font, no files)."""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# 12 px: at Pillow's default 10 px the font's spaces round to 2 px and words run together.
FONT_SIZE = 12
CHAR_W, LINE_H = 6, 15  # a generous average advance (measured 5.6 px) and the line's height at FONT_SIZE


@functools.cache
def font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Return the font every figure uses (the bitmap font where Pillow was built without FreeType)."""
    return ImageFont.load_default(size=FONT_SIZE)


def with_title(pixels: np.ndarray, title: str, height: int = 18) -> np.ndarray:
    """Return ``pixels`` with ``title`` written in a white strip above them (widened to fit the title)."""
    h, w = pixels.shape[:2]
    canvas = Image.new("RGB", (max(w, len(title) * CHAR_W + 6), h + height), "white")
    canvas.paste(Image.fromarray(pixels), (0, height))
    ImageDraw.Draw(canvas).text((3, 2), title, fill="black", font=font())
    return np.asarray(canvas)


def labelled_grid(cells: list[list[np.ndarray]], row_labels: list[str], col_labels: list[str],
                  gap: int = 4) -> np.ndarray:
    """Return equally sized RGB cells laid out in rows, with a label left of each row and above each column."""
    ch, cw = cells[0][0].shape[:2]
    left = max((len(s) for s in row_labels), default=0) * CHAR_W + 8
    top = LINE_H + 6 if col_labels else 0
    n_rows, n_cols = len(cells), max(len(r) for r in cells)
    width = left + n_cols * (cw + gap)
    height = top + n_rows * (ch + gap)
    canvas = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(canvas)
    for j, text in enumerate(col_labels):
        x = left + j * (cw + gap) + max(0, (cw - len(text) * CHAR_W) // 2)
        draw.text((x, 3), text, fill="black", font=font())
    for i, row in enumerate(cells):
        y = top + i * (ch + gap)
        if i < len(row_labels):
            draw.text((3, y + ch // 2 - LINE_H // 2), row_labels[i], fill="black", font=font())
        for j, cell in enumerate(row):
            canvas.paste(Image.fromarray(cell), (left + j * (cw + gap), y))
    return np.asarray(canvas)


def pad_to_width(pixels: np.ndarray, width: int) -> np.ndarray:
    """Return ``pixels`` padded with white on the right to at least ``width`` (room for the caption)."""
    h, w = pixels.shape[:2]
    if w >= width:
        return pixels
    out = np.full((h, width, 3), 255, np.uint8)
    out[:, :w] = pixels
    return out
