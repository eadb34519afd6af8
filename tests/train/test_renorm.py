"""Filter renormalisation: filters above the radius end exactly on it, the others are untouched."""

import torch
from torch import nn

from deconvviz.train.renorm import filter_rms, renormalise_filters


def test_only_filters_above_radius_are_scaled():
    net = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.Linear(4, 4))
    with torch.no_grad():
        net[0].weight.zero_()
        net[0].weight[0].fill_(0.5)    # RMS 0.5 -> 0.1
        net[0].weight[1].fill_(-0.05)  # RMS 0.05, below the radius: unchanged
        net[0].weight[2, 0].fill_(0.3)  # RMS 0.3 / sqrt(2)
        net[2].weight.fill_(1.0)       # not a conv: unchanged
    renormalise_filters(net, 0.1)
    rms = filter_rms(net)["0"]
    assert torch.allclose(rms, torch.tensor([0.1, 0.05, 0.1]), atol=1e-6)
    assert torch.allclose(net[0].weight[0], torch.full((2, 3, 3), 0.1))
    assert torch.all(net[0].weight[1] == -0.05)
    assert torch.all(net[2].weight == 1.0)
    assert list(filter_rms(net)) == ["0"]
