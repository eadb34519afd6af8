"""Panels for a layer's feature maps (one grey tile per channel, shared levels) and first-layer filters."""

from __future__ import annotations

import math

import numpy as np

from .png import Panel, tile
from .render import enlarge, grey_rgb, projection_rgb

_MIN_TILE = 40  # pixels: a tile's longer side in an exported panel


def feature_map_levels(maps: np.ndarray) -> tuple[float, float]:
    """Return the shared (low, high) display levels of a layer's maps (C, h, w): their range widened to include 0."""
    low = min(0.0, float(maps.min())) if maps.size else 0.0
    high = max(0.0, float(maps.max())) if maps.size else 1.0
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


def first_conv_layer(net, records) -> str | None:
    """Return the name of the network's first convolution when it reads the image (1 or 3 channels, ungrouped)."""
    from torch import nn

    from ..engine.probe import split_call_name

    modules = dict(net.named_modules())
    for r in records:
        module = modules.get(split_call_name(r.name)[0])
        if isinstance(module, nn.Conv2d):
            return r.name if module.in_channels in (1, 3) and module.groups == 1 else None
    return None


def layer_maps(activation, layout=None) -> np.ndarray:
    """Return a layer's output (1, ...) as maps (C, h, w) float32 (a vector as (C, 1, 1)): the layout's
    one reading (:func:`deconvviz.engine.layout.maps_array`), DeconvvizError for neither maps nor a vector."""
    from ..engine.layout import maps_array

    return maps_array(activation, layout)


def layer_panel(model, maps: np.ndarray, records, layer: str, image_name: str, sort: str = "index",
                filters: bool = False, command: str = "") -> Panel:
    """Return the channel-grid Panel of ``layer``: its maps (C, h, w), or with ``filters`` the first layer's filters.

    Raises DeconvvizError when ``filters`` is asked of a layer that is not the first convolution.
    """
    from pathlib import Path

    from ..engine.probe import split_call_name
    from ..errors import DeconvvizError

    order = channel_order(maps, sort)
    what = "filters" if filters else "feature maps"
    facts = {"model": model.name, "weights": model.weights, "image": str(image_name), "layer": layer,
             "channel": "all", "view": what, "sort": sort, "command": command}
    caption = f"{model.label} · {layer} · {len(maps)} {what} · {Path(image_name).name}"
    if not filters:
        return feature_maps_panel(maps, order, facts, caption)
    if layer != first_conv_layer(model.net, records):
        raise DeconvvizError(f"filters are shown for the first convolution only; {layer!r} is not it")
    module = dict(model.net.named_modules())[split_call_name(layer)[0]]
    return filters_panel(filters_rgb(module.weight.detach().cpu()), order, facts, caption)
