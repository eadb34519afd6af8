"""Figure panels with a caption, written as PNG files with their facts in text chunks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, PngImagePlugin

from ..atomic import atomic_path
from .labels import CHAR_W, font

CAPTION_HEIGHT = 19  # one 12 px line with 3 px above and below


@dataclass
class Panel:
    """A figure panel: RGB pixels (H, W, 3) uint8, a one-line caption and facts for the PNG's text chunks.

    ``facts`` typically holds model, layer, channel, image and ``command``: the headless deconvviz command
    that regenerates the panel.
    """

    pixels: np.ndarray
    caption: str = ""
    facts: dict[str, str] = field(default_factory=dict)

    def captioned(self) -> np.ndarray:
        """Return the pixels with the caption drawn in a white strip below them."""
        if not self.caption:
            return self.pixels
        height, width = self.pixels.shape[:2]
        canvas = Image.new("RGB", (width, height + CAPTION_HEIGHT), "white")
        canvas.paste(Image.fromarray(self.pixels), (0, 0))
        ImageDraw.Draw(canvas).text((3, height + 3), _fit(self.caption, width), fill="black",
                                     font=font())
        return np.asarray(canvas)


def _fit(text: str, width: int) -> str:
    limit = max(8, width // CHAR_W)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def save_panel(panel: Panel, path: str | Path) -> Path:
    """Write the captioned panel to ``path`` as PNG (atomically) and return the path.

    Raises DeconvvizError when the folder cannot be written; no partial file is left behind.
    """
    info = PngImagePlugin.PngInfo()
    if panel.caption:
        info.add_itxt("Title", panel.caption)
    for key, value in panel.facts.items():
        info.add_itxt(str(key), str(value))
    info.add_itxt("Software", "deconvviz")
    image = Image.fromarray(panel.captioned())
    path = Path(path)
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG", pnginfo=info)
    return path


def read_facts(path: str | Path) -> dict[str, str]:
    """Return the text chunks of a PNG written by :func:`save_panel`."""
    with Image.open(path) as image:
        image.load()
        return dict(image.text)


def tile(images: list[np.ndarray], columns: int, gap: int = 2, background: int = 255) -> np.ndarray:
    """Return equally sized RGB images laid out in a grid with ``columns`` columns and ``gap`` pixels between."""
    if not images:
        raise ValueError("no images to tile")
    h, w = images[0].shape[:2]
    rows = -(-len(images) // columns)
    out = np.full((rows * h + (rows - 1) * gap, columns * w + (columns - 1) * gap, 3), background, np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, columns)
        out[r * (h + gap): r * (h + gap) + h, c * (w + gap): c * (w + gap) + w] = img
    return out
