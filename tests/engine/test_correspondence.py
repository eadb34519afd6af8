import numpy as np
import pytest
import torch
from torch import nn

from deconvviz.engine.correspondence import correspondence, occlude, part_delta, random_boxes, sign_change
from deconvviz.engine.receptive_field import Box


def test_identical_sign_patterns_give_zero():
    eps = torch.tensor([[1.0, -2.0, 0.0, 3.0]] * 3)
    eps[1] *= 5  # same signs, other magnitudes
    assert sign_change(eps) == (0, 0.0)


def test_delta_matches_a_hand_count():
    eps = torch.tensor([[1.0, -1.0, 0.0],
                        [1.0, 1.0, 0.0],
                        [-1.0, 1.0, 2.0]])
    # Hamming of sign vectors: (0,1) -> 1, (0,2) -> 3, (1,2) -> 2; Delta counts i != j both ways.
    delta, mean = sign_change(eps)
    assert delta == 2 * (1 + 3 + 2)
    assert mean == pytest.approx(12 / (3 * 2 * 3))


def test_part_delta_on_an_identity_net():
    net = nn.Sequential(nn.Identity(), nn.Flatten())
    x = torch.tensor([[[[1.0, -1.0], [2.0, 3.0]]], [[[4.0, 5.0], [-6.0, 7.0]]]])
    # Masking the same top-left pixel: eps = (1, 0, 0, 0) and (4, 0, 0, 0): same signs.
    same = part_delta(net, x, [Box(0, 0, 1, 1), Box(0, 0, 1, 1)], ["0"])
    assert same["0"] == (0, 0.0)
    # Image 0 masked at (0, 1): eps = (0, -1, 0, 0); image 1 at (0, 0): (4, 0, 0, 0): two signs differ.
    other = part_delta(net, x, [Box(0, 1, 1, 2), Box(0, 0, 1, 1)], ["0"])
    assert other["0"] == (4, 4 / (2 * 1 * 4))


def test_occlude_and_random_boxes_stay_inside():
    x = torch.ones(1, 3, 5, 6)
    y = occlude(x, Box(1, 2, 3, 5))
    assert y[..., 1:3, 2:5].eq(0).all() and y.sum() == 90 - 3 * 2 * 3 and x.eq(1).all()
    rng = np.random.default_rng(0)
    for b in random_boxes(rng, 5, 6, [(2, 3)] * 50):
        assert 0 <= b.top and b.bottom <= 5 and 0 <= b.left and b.right <= 6 and (b.height, b.width) == (2, 3)


def test_table_has_parts_then_random_rows():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 6 * 6, 3)).eval()
    x = torch.randn(3, 1, 8, 8)
    parts = {"eye": [Box(1, 1, 3, 3)] * 3}
    rows = correspondence(net, x, parts, ["1", "3"], random_draws=4, seed=1)
    assert [(r.part, r.layer) for r in rows] == [("eye", "1"), ("eye", "3"),
                                                 ("random (eye size)", "1"), ("random (eye size)", "3")]
    assert rows[2].draws == 4 and rows[2].std >= 0 and 0 <= rows[2].value <= 1
