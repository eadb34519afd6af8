"""uniform_rules (the attribution methods' fused rules) against backward_rules, the plain statement of each rule."""

import contextlib

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from deconvviz.engine.rules import backward_rules, uniform_rules


class Net(nn.Module):
    """A rectifier, ReLU6, local response normalisation and an eval-mode BatchNorm: every rule's case."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 3, padding=1)
        self.bn = nn.BatchNorm2d(6)
        self.conv2 = nn.Conv2d(6, 4, 3)
        self.fc = nn.Linear(4 * 8 * 8, 3)

    def forward(self, x):
        x = F.local_response_norm(torch.relu(self.bn(self.conv1(x))), 3)
        return self.fc(F.relu6(3 * self.conv2(x)).flatten(1))


@pytest.fixture
def net():
    torch.manual_seed(5)
    net = Net().double()
    with torch.no_grad():  # running statistics that are not the identity
        net.bn.running_mean.uniform_(-0.5, 0.5)
        net.bn.running_var.uniform_(0.5, 2.0)
    return net.eval()


def grads(net, x, rules):
    xs = x.clone().requires_grad_(True)
    with torch.enable_grad():
        with rules:
            out = net(xs)
        (g,) = torch.autograd.grad(out[:, 1].sum(), xs)
    return g


@pytest.mark.parametrize("mode", ["deconvnet", "guided", "backprop", "gradient"])
@pytest.mark.parametrize("batch", [1, 3])
def test_uniform_rules_are_backward_rules_for_any_batch(net, mode, batch):
    torch.manual_seed(6)
    x = torch.randn(batch, 3, 10, 10, dtype=torch.float64)
    reference = grads(net, x, contextlib.nullcontext() if mode == "gradient" else backward_rules(mode))
    ours = grads(net, x, uniform_rules(mode))
    assert reference.abs().max() > 0
    torch.testing.assert_close(ours, reference, rtol=1e-10, atol=1e-12)


def test_the_rules_differ_where_they_should(net):
    torch.manual_seed(6)
    x = torch.randn(2, 3, 10, 10, dtype=torch.float64)
    maps = {m: grads(net, x, uniform_rules(m)) for m in ("deconvnet", "guided", "backprop", "gradient")}
    for a in maps:
        for b in maps:
            if a < b:  # LRN's true gradient tells "gradient" from "backprop"; the rectifier rules the rest
                assert not torch.allclose(maps[a], maps[b]), (a, b)


def test_backprop_keeps_its_rule_at_a_normalisation_after_the_first_call(net):
    from deconvviz.engine.attribution import AttributionTarget
    from deconvviz.engine.gradients import input_gradients

    torch.manual_seed(7)
    x = torch.randn(1, 3, 10, 10, dtype=torch.float64)
    reference = grads(net, x, backward_rules("backprop"))
    gradient = grads(net, x, contextlib.nullcontext())
    for _ in range(2):  # the second call may run without the rules only where no normalisation was met
        ours = input_gradients(net, x, AttributionTarget(1), "backprop")
        torch.testing.assert_close(ours, reference, rtol=1e-10, atol=1e-12)
    assert not torch.allclose(ours, gradient)


def test_backprop_without_a_normalisation_is_the_gradient_every_call():
    from deconvviz.engine.attribution import AttributionTarget
    from deconvviz.engine.gradients import _NO_LRN, input_gradients

    torch.manual_seed(8)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU6(), nn.Flatten(), nn.Linear(4 * 8 * 8, 2))
    net = net.double().eval()
    x = torch.randn(1, 3, 10, 10, dtype=torch.float64)
    gradient = grads(net, x, contextlib.nullcontext())
    for _ in range(2):
        torch.testing.assert_close(input_gradients(net, x, AttributionTarget(1), "backprop"), gradient)
    assert net in _NO_LRN  # remembered: the second call ran as plain autograd


def test_batch_norm_changed_in_place_is_read_again(net):
    torch.manual_seed(9)
    x = torch.randn(2, 3, 10, 10, dtype=torch.float64)
    grads(net, x, uniform_rules("guided"))  # remembers the layer's scale
    with torch.no_grad():
        net.bn.running_var.mul_(3.0)
        net.bn.weight.add_(0.5)
    torch.testing.assert_close(grads(net, x, uniform_rules("guided")), grads(net, x, backward_rules("guided")),
                               rtol=1e-10, atol=1e-12)
