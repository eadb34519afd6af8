"""The occlusion panel: the map lines up with the square's centre; the square shows the fill."""

from __future__ import annotations

import numpy as np

from deconvviz.figures.overlay import occlusion_panel, occlusion_pixels, sensitivity_rgb
from deconvviz.figures.render import VIRIDIS


def test_each_map_entry_paints_the_cell_around_the_square_centre():
    prob = np.zeros((3, 3), np.float32)
    prob[1, 2] = 1.0  # square top-left at (4, 8), size 4: centre (6, 10)
    rgb = sensitivity_rgb(prob, 16, 16, patch=4, stride=4, low=0.0, high=1.0)
    assert (rgb[6, 10] == VIRIDIS[255]).all()
    assert (rgb[6, 2] == VIRIDIS[0]).all()


def test_square_is_painted_with_the_fill():
    pixels = np.full((10, 10, 3), 200, np.uint8)
    out = occlusion_pixels(pixels, (2, 3, 4), np.array([10, 20, 30]), None)
    assert (out[2:6, 3:7] == [10, 20, 30]).all() and (out[0, 0] == 200).all()


def test_panel_with_a_map_has_a_colour_bar():
    pixels = np.zeros((28, 28, 3), np.uint8)
    prob = np.linspace(0, 1, 36, dtype=np.float32).reshape(6, 6)
    panel = occlusion_panel(pixels, None, np.zeros(3), prob, 8, 4, "caption", {"model": "m"})
    assert panel.pixels.shape[0] == 28 * 16 and panel.pixels.shape[1] == 28 * 16 + 6 + 64
    plain = occlusion_panel(pixels, (0, 0, 8), np.zeros(3), None, 8, 4, "caption", {})
    assert plain.pixels.shape == (448, 448, 3)


def test_the_colour_bars_labels_are_never_cut_at_its_edge():
    from deconvviz.figures.overlay import colour_bar

    assert colour_bar(200, 0.0, 1.0).shape == (200, 64, 3)  # short labels: the usual width
    for low, high, signed in ((0.0, 1.706e-05, False), (-0.0002859, 0.0002859, True)):
        bar = colour_bar(200, low, high, signed)
        assert bar.shape[1] > 64
        assert (bar[:, -2:] == 255).all()  # a white margin after the longest label: nothing drawn to the edge
