"""Display scaling: projections, feature maps and heatmaps as uint8 RGB arrays (H, W, 3)."""

from __future__ import annotations

import numpy as np
import torch

# Viridis, sampled at 9 points; interpolated to a 256-entry lookup table.
_VIRIDIS = np.array([
    [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
    [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
], dtype=np.float64)


def _lut(anchors: np.ndarray) -> np.ndarray:
    steps = np.linspace(0, len(anchors) - 1, 256)
    return np.stack([np.interp(steps, np.arange(len(anchors)), anchors[:, c]) for c in range(3)], 1).round().astype(np.uint8)


VIRIDIS = _lut(_VIRIDIS)
# ColorBrewer's RdBu, blue (negative) through white to red (positive), for signed maps.
DIVERGING = _lut(np.array([[33, 102, 172], [103, 169, 207], [209, 229, 240], [247, 247, 247], [253, 219, 199],
                           [239, 138, 98], [178, 24, 43]], dtype=np.float64))


def _numpy(a) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        a = a.detach().to("cpu", torch.float32).numpy()
    return np.asarray(a, dtype=np.float32)


def projection_rgb(projection) -> np.ndarray:
    """Return a projection (C, H, W) as RGB uint8 (H, W, 3): zero is mid grey, strong values saturate.

    Each projection is scaled on its own, as in the paper's figures. The scale is the 99.5th percentile of
    the magnitudes over the pixels that are not zero, so that a handful of extreme pixels (deconvnets
    concentrate energy at stride boundaries) do not leave the rest of the picture flat grey.
    """
    p = _numpy(projection)
    if p.ndim == 4:
        p = p[0]
    magnitude = np.abs(p)
    nonzero = magnitude[magnitude > 0]
    scale = float(np.percentile(nonzero, 99.5)) if nonzero.size else 1.0
    rgb = np.clip(p / scale * 0.5 + 0.5, 0, 1).transpose(1, 2, 0)
    if rgb.shape[2] == 1:
        rgb = np.repeat(rgb, 3, axis=2)
    return np.ascontiguousarray((rgb * 255).round().astype(np.uint8))


def heatmap_rgb(values, low: float | None = None, high: float | None = None, lut: np.ndarray = VIRIDIS) -> np.ndarray:
    """Return a 2-D array coloured through ``lut`` (default viridis) between ``low`` and ``high`` (default its range)."""
    v = _numpy(values)
    low = float(np.nanmin(v)) if low is None else low
    high = float(np.nanmax(v)) if high is None else high
    t = np.nan_to_num((v - low) / ((high - low) or 1.0), nan=0.0)
    return lut[np.clip((t * 255).round(), 0, 255).astype(np.intp)]


def grey_rgb(values, low: float | None = None, high: float | None = None) -> np.ndarray:
    """Return a 2-D array as grey RGB uint8, black at ``low`` and white at ``high`` (defaults: its range)."""
    grey = np.linspace(0, 255, 256)[:, None].repeat(3, 1).round().astype(np.uint8)
    return heatmap_rgb(values, low, high, grey)


def enlarge(rgb: np.ndarray, size: int) -> np.ndarray:
    """Return ``rgb`` scaled up by an integer factor (nearest neighbour) so its longer side is at least ``size``."""
    factor = max(1, -(-size // max(rgb.shape[:2])))
    return np.ascontiguousarray(rgb.repeat(factor, 0).repeat(factor, 1))
