"""Panels for a layer's feature maps (one grey tile per channel, shared levels) and first-layer filters."""

from __future__ import annotations

import math

import numpy as np

from .png import Panel, tile
from .render import enlarge, grey_rgb, projection_rgb

_MIN_TILE = 40  # pixels: a tile's longer side in an exported panel


def feature_map_levels(maps: np.ndarray) -> tuple[float, float]:
    """Return the shared (low, high) display levels of a layer's maps (C, h, w): low at most 0, high above low."""
    low = min(0.0, float(maps.min())) if maps.size else 0.0
    high = float(maps.max()) if maps.size else 1.0
    return low, high if high > low else low + 1.0


def channel_order(maps: np.ndarray, sort: str = "index") -> list[int]:
    """Return channel indices in index order (``sort="index"``) or by decreasing maximum (``"max"``)."""
    if sort == "index":
        return list(range(len(maps)))
    if sort == "max":
        maxima = maps.reshape(len(maps), -1).max(1)
        return sorted(range(len(maps)), key=lambda c: (-float(maxima[c]), c))
    raise ValueError(f"sort must be 'index' or 'max', got {sort!r}")


def filters_rgb(weight) -> np.ndarray:
    """Return first-layer filters (C_out, C_in, k, k) as RGB tiles (C_out, k, k, 3), each scaled on its own."""
    return np.stack([projection_rgb(w) for w in weight])


def feature_maps_panel(maps: np.ndarray, order: list[int], facts: dict[str, str], caption: str) -> Panel:
    """Return a Panel of the maps (C, h, w) in ``order`` as grey tiles with one shared level range."""
    low, high = feature_map_levels(maps)
    tiles = [enlarge(grey_rgb(maps[c], low, high), _MIN_TILE) for c in order]
    return Panel(tile(tiles, columns=math.ceil(math.sqrt(len(tiles))), gap=2), caption, dict(facts))


def filters_panel(filters: np.ndarray, order: list[int], facts: dict[str, str], caption: str) -> Panel:
    """Return a Panel of first-layer filters (C, k, k, 3) in ``order``."""
    tiles = [enlarge(filters[c], _MIN_TILE) for c in order]
    return Panel(tile(tiles, columns=math.ceil(math.sqrt(len(tiles))), gap=2), caption, dict(facts))
