"""The probe records every module call and its switches, leaves outputs unchanged and leaves no hooks behind."""

import pytest
import torch
from torch import nn

from deconvviz.engine.deconv import project
from deconvviz.engine.probe import probe
from deconvviz.models.zfnet import zf_fmnist


def _hook_count(net: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) for m in net.modules())


class Reused(nn.Module):
    """One in-place ReLU module called at three sites, and a functional relu."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(1, 2, 3, padding=1)
        self.b = nn.Conv2d(2, 2, 3, padding=1)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x):
        y = self.act(self.a(x))
        z = self.act(self.b(y))
        return torch.nn.functional.relu(self.act(z + y) - 0.1).flatten(1)


def test_records_every_call_of_a_reused_module_and_keeps_outputs():
    net = Reused().eval()
    x = torch.randn(1, 1, 8, 8)
    expected = net(x.clone())
    result = probe(net, x)
    assert torch.equal(result.output, expected)
    names = [r.name for r in result.records]
    assert names == ["a", "act", "b", "act#1", "act#2"]
    # The in-place ReLU of call 2 must not have changed what was recorded for b.
    assert (result.activations["b"] < 0).any()
    assert torch.equal(result.activations["act#1"], result.activations["b"].clamp_min(0))
    assert _hook_count(net) == 0


def test_layer_records_and_switches_of_the_small_zf_net():
    net = zf_fmnist().eval()
    x = torch.randn(1, 1, 28, 28)
    result = probe(net, x, switches=True)
    assert probe(net, x).switches == {}  # only when asked
    pool = result.record("features.2")
    assert (pool.type_name, pool.output_shape, pool.channels) == ("MaxPool2d", (32, 14, 14), 32)
    assert result.record("features.0").n_params == 32 * 25 + 32
    assert result.record("classifier.6").output_shape == (10,) and not result.record("classifier.6").spatial
    switches = result.switches["features.2"]
    fmap = result.activations["features.1"].flatten(2)
    assert torch.equal(fmap.gather(2, switches.flatten(2)).view_as(switches), result.activations["features.2"])


def test_hooks_are_removed_even_when_the_forward_raises():
    class Broken(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3)

        def forward(self, x):
            self.conv(x)
            raise RuntimeError("boom")

    net = Broken()
    with pytest.raises(RuntimeError, match="boom"):
        probe(net, torch.zeros(1, 1, 5, 5))
    with pytest.raises(RuntimeError, match="boom"):
        project(net, torch.zeros(1, 1, 5, 5), "conv#1", 0)
    assert _hook_count(net) == 0


def test_projection_leaves_no_hooks_and_no_grad_state():
    net = zf_fmnist().eval()
    x = torch.randn(1, 1, 28, 28)
    before = net(x)
    project(net, x, "features.6", 3, top_k=3)
    assert _hook_count(net) == 0
    assert torch.equal(net(x), before)
    assert not torch.is_grad_enabled() or all(p.grad is None for p in net.parameters())
