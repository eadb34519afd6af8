import pytest
import torch
from torch import nn

from deconvviz.engine.saliency import saliency
from deconvviz.errors import DeconvvizError


def test_saliency_of_a_linear_model_is_its_weights_max_over_colours():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 2)).eval()
    s = saliency(net, torch.randn(1, 3, 4, 4), target=1)
    expected = net[1].weight[1].detach().view(3, 4, 4).abs().amax(0)
    assert torch.allclose(s.map, expected) and s.target == 1


def test_saliency_defaults_to_the_top_class_and_checks_it():
    net = nn.Sequential(nn.Flatten(), nn.Linear(4, 3)).eval()
    x = torch.randn(1, 1, 2, 2)
    assert saliency(net, x).target == int(net(x).argmax())
    with pytest.raises(DeconvvizError):
        saliency(net, x, target=3)

