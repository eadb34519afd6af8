import pytest
import torch
from torch import nn

from deconvviz.engine.landmarks import first_block, last_conv_block, penultimate
from deconvviz.engine.probe import probe
from deconvviz.errors import DeconvvizError


def _records(net, shape=(1, 1, 12, 12)):
    return probe(net, torch.zeros(shape), keep=()).records


def test_paper_layers_of_a_zf_style_net():
    net = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.LocalResponseNorm(3),
        nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(36, 8), nn.ReLU(), nn.Dropout(), nn.Linear(8, 3),
    ).eval()
    records = _records(net)
    assert first_block(net, records) == "3"
    assert last_conv_block(net, records) == "6"
    assert penultimate(net, records) == "9"


def test_a_net_without_convolutions_or_linear_layers_is_refused():
    net = nn.Sequential(nn.Flatten(), nn.ReLU())
    records = _records(net)
    with pytest.raises(DeconvvizError):
        first_block(net, records)
    with pytest.raises(DeconvvizError):
        penultimate(net, records)
