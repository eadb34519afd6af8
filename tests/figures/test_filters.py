import torch

from deconvviz.figures.filters import filter_grid, first_conv, filters_panel
from deconvviz.models import load_model


def test_grid_shows_each_filter_scaled_to_itself():
    weight = torch.zeros(3, 1, 2, 2)
    weight[0, 0, 0, 0] = 5.0
    weight[1, 0, 1, 1] = -0.01
    grid = filter_grid(weight, columns=3, size=4)
    assert grid.shape == (4, 3 * 4 + 2 * 2, 3)
    assert (grid[0, 0] == 255).all() and (grid[0, 2] == 128).all()  # the largest weight white, zero grey
    assert (grid[2, 6 + 2] == 0).all()  # filter 1's only (negative) weight black


def test_first_conv_follows_the_call_order_and_panel_compares_two():
    torch.manual_seed(0)
    a, b = load_model("zf-fmnist"), load_model("zf-fmnist")
    layer, weight = first_conv(a)
    assert layer == "features.0" and tuple(weight.shape) == (32, 1, 5, 5)
    single, double = filters_panel(a), filters_panel(a, b)
    assert double.pixels.shape[1] > 2 * single.pixels.shape[1] - 40
    assert "model 2" in double.facts
