"""The part boxes of the correspondence analysis drawn on the model's inputs."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageDraw

from ..engine.receptive_field import Box
from ..models import LoadedModel
from .plots import PALETTE, legend, stacked
from .png import Panel, tile


def parts_image(pixels: np.ndarray, boxes: list[tuple[str, Box]], size: int = 224) -> np.ndarray:
    """Return ``pixels`` scaled to ``size`` with each (name, box) drawn as a coloured rectangle."""
    h, w = pixels.shape[:2]
    scale = size / max(h, w)
    image = Image.fromarray(pixels).resize((round(w * scale), round(h * scale)), Image.NEAREST if scale > 1
                                           else Image.BILINEAR)
    draw = ImageDraw.Draw(image)
    for i, (_, b) in enumerate(boxes):
        color = PALETTE[i % len(PALETTE)]
        draw.rectangle([b.left * scale, b.top * scale, b.right * scale - 1, b.bottom * scale - 1], outline=color,
                       width=2)
    return np.asarray(image)


def parts_panel(model: LoadedModel, x: torch.Tensor, names: list[str], parts: dict[str, list[Box]],
                command: str = "") -> Panel:
    """Return a Panel of every image with its part boxes, and a legend of the part colours."""
    images = [parts_image(model.preprocessing.to_pixels(x[i]), [(p, parts[p][i]) for p in parts])
              for i in range(len(x))]
    grid = tile(images, min(5, len(images)), 4)
    pixels = stacked([grid, legend(list(parts), width=grid.shape[1])], 2)
    return Panel(pixels, f"{model.label} · parts · {', '.join(names)}",
                 {"model": model.name, "images": ",".join(names), "parts": ",".join(parts), "command": command})
