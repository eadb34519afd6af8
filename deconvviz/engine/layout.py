"""How a layer's output reads as feature maps (tokens, channels-last, (C, H, W)): see :mod:`deconvviz.models.layout`.

The layout lives beside the layer tree in ``models/`` (a LoadedModel lists its layers with their layouts);
the engine's functions use it from here.
"""

from ..models.layout import (CHANNELS_LAST, FLAT, MAPS, MAX_PREFIX, TOKENS, Layout, layout_for, maps_array,
                             no_maps_error, token_prefix)

__all__ = ["CHANNELS_LAST", "FLAT", "MAPS", "MAX_PREFIX", "TOKENS", "Layout", "layout_for", "maps_array",
           "no_maps_error", "token_prefix"]
