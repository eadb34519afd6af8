"""Feature-map and filter panels: shared levels, channel order, the first convolution."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deconvviz.errors import DeconvvizError
from deconvviz.figures.feature_maps import (channel_order, feature_map_levels, first_conv_layer, layer_maps,
                                            layer_panel)


def test_levels_are_shared_and_include_zero():
    maps = np.array([[[1.0, 2.0]], [[3.0, 4.0]]], np.float32)
    assert feature_map_levels(maps) == (0.0, 4.0)
    assert feature_map_levels(np.full((2, 1, 1), -2.0, np.float32)) == (-2.0, 0.0)


def test_channel_order_by_index_and_by_maximum():
    maps = np.array([[[1.0]], [[5.0]], [[3.0]], [[5.0]]], np.float32)
    assert channel_order(maps, "index") == [0, 1, 2, 3]
    assert channel_order(maps, "max") == [1, 3, 2, 0]  # ties keep index order
    with pytest.raises(ValueError):
        channel_order(maps, "median")


def test_layer_maps_shapes():
    assert layer_maps(torch.ones(1, 4, 3, 5)).shape == (4, 3, 5)
    assert layer_maps(torch.ones(1, 7)).shape == (7, 1, 1)
    with pytest.raises(DeconvvizError):
        layer_maps(torch.ones(1, 2, 3))


def test_layer_panel_tiles_every_channel_with_its_facts():
    from deconvviz import load_model
    from deconvviz.engine.probe import probe

    model = load_model("zf-fmnist")
    result = probe(model.net, model.blank_input() + 0.5)
    assert first_conv_layer(model.net, result.records) == "features.0"
    maps = layer_maps(result.activations["features.4"])
    panel = layer_panel(model, maps, result.records, "features.4", "photo.png", "max", command="deconvviz maps ...")
    # 64 maps of 14x14 enlarged to 42 px, 8 columns with 2 px gaps
    assert panel.pixels.shape == (8 * 42 + 7 * 2, 8 * 42 + 7 * 2, 3)
    assert panel.facts["layer"] == "features.4" and panel.facts["sort"] == "max"
    assert "photo.png" in panel.caption
    filters = layer_panel(model, layer_maps(result.activations["features.0"]), result.records, "features.0",
                          "photo.png", filters=True)
    assert filters.facts["view"] == "filters"
    with pytest.raises(DeconvvizError, match="first convolution"):
        layer_panel(model, maps, result.records, "features.4", "photo.png", filters=True)
