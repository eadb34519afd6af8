import pytest
import torch
from torch import nn

from deconvviz.engine.actmax import Target, maximise
from deconvviz.errors import DeconvvizError


def _conv_net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3)).eval()


@pytest.mark.parametrize("target", [Target("1", 2), Target(class_index=1)])
def test_ascent_raises_the_target(target):
    net = _conv_net()
    start = 0.1 * torch.randn(1, 1, 8, 8)
    ascent = maximise(net, start, target, steps=10, step_size=0.1, l1=0.01)
    assert ascent.values[-1] > ascent.values[0] + 0.1
    assert len(ascent.values) == 11


def test_ascent_respects_bounds_and_cancel():
    net = _conv_net()
    low, high = torch.tensor(-0.5), torch.tensor(0.5)
    calls = []
    ascent = maximise(net, torch.zeros(1, 1, 8, 8), Target("1", 0), steps=50, step_size=1.0, bounds=(low, high),
                      cancel=lambda: calls.append(1) or len(calls) >= 3)
    assert ascent.image.min() >= -0.5 and ascent.image.max() <= 0.5
    assert len(ascent.values) == 3


def test_ascent_refuses_bad_targets():
    with pytest.raises(DeconvvizError):
        maximise(_conv_net(), torch.zeros(1, 1, 8, 8), Target("1", 9), steps=1)
    with pytest.raises(DeconvvizError):
        maximise(_conv_net(), torch.zeros(1, 1, 8, 8), Target(), steps=1)


def test_no_hooks_remain_after_an_error():
    net = _conv_net()
    with pytest.raises(DeconvvizError):
        maximise(net, torch.zeros(1, 1, 8, 8), Target("1", 9), steps=2)
    assert all(not m._forward_hooks for m in net.modules())
