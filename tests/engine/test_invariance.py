import numpy as np
import pytest
import torch
from torch import nn

from deconvviz.engine.invariance import TRANSFORMS, default_amounts, invariance, transform
from deconvviz.errors import DeconvvizError


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 8 * 8, 4)).eval()


@pytest.mark.parametrize("kind", TRANSFORMS)
def test_distance_is_zero_at_no_transformation(kind):
    x = torch.randn(1, 1, 8, 8)
    amounts = default_amounts(kind, 8)
    curves = invariance(_net(), x, kind, amounts, ["1", "3"])
    at_identity = [i for i, a in enumerate(amounts) if transform(x, kind, a).equal(x)]
    assert at_identity, "the default range includes the identity"
    for name in ("1", "3"):
        assert curves.distances[name][at_identity[0]] == 0
        assert curves.distances[name].max() > 0
    assert curves.true_class == int(_net()(x).argmax())


def test_distance_and_probability_match_a_direct_computation():
    net, x = _net(), torch.randn(1, 1, 8, 8)
    curves = invariance(net, x, "translate", [2.0], ["1"], true_class=1)
    shifted = torch.zeros_like(x)
    shifted[..., 2:, :] = x[..., :6, :]
    with torch.no_grad():
        expected = (net[1](net[0](shifted)) - net[1](net[0](x))).norm()
        p = torch.softmax(net(shifted), 1)[0, 1]
    assert curves.distances["1"][0] == pytest.approx(float(expected), rel=1e-5)
    assert curves.prob[0] == pytest.approx(float(p), rel=1e-5)


def test_translation_moves_rows_down_and_fills_with_zero():
    x = torch.arange(16.0).view(1, 1, 4, 4) + 1
    y = transform(x, "translate", 1)
    assert y[0, 0, 0].eq(0).all() and y[0, 0, 1:].equal(x[0, 0, :3])


def test_bad_input_is_refused():
    with pytest.raises(DeconvvizError):
        transform(torch.zeros(1, 1, 4, 4), "shear", 1)
    with pytest.raises(DeconvvizError):
        invariance(_net(), torch.zeros(1, 1, 8, 8), "rotate", [10.0], ["nope"])
    with pytest.raises(DeconvvizError):
        invariance(_net(), torch.zeros(1, 1, 8, 8), "rotate", [10.0], ["1"], true_class=9)
    assert np.isclose(default_amounts("scale", 28), 1.0).any()
