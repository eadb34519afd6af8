"""Panels for deconvnet projections: the input, the projection, and the receptive-field crops."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..engine.deconv import Projection
from ..engine.receptive_field import Box, receptive_fields
from ..models import LoadedModel
from .png import Panel, tile
from .render import enlarge, projection_rgb

_SIZE = 224  # display size of each tile


def crop(rgb: np.ndarray, box: Box) -> np.ndarray:
    """Return the part of an (H, W, 3) image inside ``box``."""
    return np.ascontiguousarray(rgb[box.top:box.bottom, box.left:box.right])


def _square(rgb: np.ndarray, size: int) -> np.ndarray:
    """Return ``rgb`` padded with white to a square, then enlarged (nearest) and cut to ``size`` x ``size``."""
    h, w = rgb.shape[:2]
    side = max(h, w)
    out = np.full((side, side, 3), 255, np.uint8)
    out[(side - h) // 2:(side - h) // 2 + h, (side - w) // 2:(side - w) // 2 + w] = rgb
    from PIL import Image

    return np.asarray(Image.fromarray(out).resize((size, size), Image.NEAREST if side < size else Image.BILINEAR))


def projection_tiles(model: LoadedModel, x: torch.Tensor, projection: Projection,
                     boxes: list[Box | None] | None = None) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Return (projection crops, image patches) for each projected activation, cropped to its receptive field
    (``boxes``: the fields when the caller knows them, one per position, None for an uncropped one).

    A whole-map or non-spatial projection is not cropped.
    """
    image = model.preprocessing.to_pixels(x)
    spatial = [p for p in projection.positions if p is not None]
    if boxes is None:
        boxes = [None] * len(projection.positions)
        if spatial:
            found = iter(receptive_fields(model.net, tuple(x.shape), projection.layer, spatial))
            boxes = [next(found) if p is not None else None for p in projection.positions]
    projections, patches = [], []
    for p, box in zip(projection.images, boxes):
        rgb = projection_rgb(p)
        if box is not None:
            rgb, patch = crop(rgb, box), crop(image, box)
        else:
            patch = image
        projections.append(_square(rgb, _SIZE))
        patches.append(_square(patch, _SIZE))
    return projections, patches


def projection_panel(model: LoadedModel, x: torch.Tensor, projection: Projection, image_name: str | Path = "",
                     command: str = "") -> Panel:
    """Return a Panel: the input and each projection over its receptive-field crop of the image.

    One activation: the input, the projection, and both cropped to the receptive field. A whole map: the
    input and the projection. Top-k: the projections above the image patches under them (the paper's Fig. 2).
    """
    projections, patches = projection_tiles(model, x, projection)
    image = _square(model.preprocessing.to_pixels(x), _SIZE)
    if len(projections) == 1 and projection.positions[0] is None:
        pixels = tile([image, projections[0]], columns=2, gap=4)
    elif len(projections) == 1:
        full = _square(projection_rgb(projection.images[0]), _SIZE)
        pixels = tile([image, full, projections[0], patches[0]], columns=4, gap=4)
    else:
        pixels = tile(projections + patches, columns=len(projections), gap=4)
    where = _describe(projection)
    caption = (f"{model.label} · {projection.layer} · channel {projection.channel} · {where} · {projection.mode}"
               f" · {Path(image_name).name}")
    facts = {
        "model": model.name, "weights": model.weights, "layer": projection.layer,
        "channel": str(projection.channel), "activation": where, "mode": projection.mode,
        "image": str(image_name), "command": command,
    }
    return Panel(enlarge(pixels, 1), caption, facts)


def _describe(projection: Projection) -> str:
    if len(projection.positions) > 1:
        return f"top-{len(projection.positions)} activations"
    pos = projection.positions[0]
    if pos is None:
        return "whole map"
    return f"activation at ({pos[0]}, {pos[1]}) = {projection.values[0]:.3g}"
