import numpy as np
import pytest

from deconvviz.figures.plots import PALETTE, legend, line_plot, nice_ticks


@pytest.mark.parametrize("low,high", [(0, 1047), (0, 7.9), (-56, 56), (0.6, 1.8), (3, 3), (-0.001, 0.002)])
def test_ticks_cover_the_range_with_round_steps(low, high):
    ticks = nice_ticks(low, high)
    assert ticks[0] <= low and ticks[-1] >= high and len(ticks) >= 2
    steps = np.diff(ticks)
    assert np.allclose(steps, steps[0])


def test_line_plot_draws_each_series_in_its_colour():
    image = line_plot([("a", [0, 1, 2], [0, 1, 4]), ("b", [0, 1, 2], [4, 3, 2])], "t", "x", "y", (200, 150))
    assert image.shape == (150, 200, 3) and image.dtype == np.uint8
    for colour in PALETTE[:2]:
        assert (image == colour).all(-1).sum() > 20
    assert (image == PALETTE[2]).all(-1).sum() == 0


def test_legend_wraps():
    strip = legend([f"series number {i}" for i in range(6)], width=200)
    assert strip.shape[1] == 200 and strip.shape[0] > 3 * 12


def test_every_series_gets_its_own_colour_and_the_baseline_black():
    from deconvviz.figures.plots import series_colours

    names = ["occlusion"] + [f"method {i}" for i in range(9)] + ["random"]
    colours = series_colours(names, baseline="random")
    assert len(set(colours)) == len(names) and colours[-1] == (0, 0, 0)
    assert series_colours(["random", "a"], baseline="random") == [(0, 0, 0), series_colours(["a"])[0]]
