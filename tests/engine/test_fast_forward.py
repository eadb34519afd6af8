"""The plain passes' copy (engine/fast_forward.py): channels-last, batch norms folded into their convolutions,
symmetric paddings handed to them, and every fold checked against the network on the example input."""

from __future__ import annotations

import torch
from torch import nn

from deconvviz.engine.fast_forward import fast_copy, same_outputs


def _count(net, kind):
    return sum(type(m) is kind for m in net.modules())


def test_efficientnet_folds_every_norm_and_the_symmetric_paddings_and_answers_as_loaded(efficientnet, coffee):
    net = efficientnet.net
    norms, pads = _count(net, nn.BatchNorm2d), _count(net, nn.ZeroPad2d)
    copy = fast_copy(net, "cpu", coffee)
    assert norms == 49 and _count(copy, nn.BatchNorm2d) == 0
    assert _count(copy, nn.ZeroPad2d) == 5 < pads  # the stride-2 convolutions' paddings are asymmetric: kept
    assert len(copy.folded) == norms + pads - 5
    assert _count(net, nn.BatchNorm2d) == norms  # the network itself is untouched
    other = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(3))  # not the example
    assert same_outputs(net, copy, other, skip=copy.folded)
    with torch.inference_mode():
        assert torch.allclose(copy(other), net(other), atol=1e-4)
    assert fast_copy(net, "cpu").folded == frozenset() and _count(fast_copy(net, "cpu"), nn.BatchNorm2d) == norms


class ConvReadTwice(nn.Module):
    """A batch norm after a convolution whose output is also used as it is: folding would change the sum."""

    def __init__(self) -> None:
        super().__init__()
        self.conv, self.norm = nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4)
        self.norm.running_mean.uniform_(-1, 1)
        self.norm.running_var.uniform_(0.5, 2)

    def forward(self, x):
        y = self.conv(x)
        return self.norm(y) + y


class PaddingReadTwice(nn.Module):
    """A symmetric padding read by a convolution and by a mean: handing it to the convolution changes the mean."""

    def __init__(self) -> None:
        super().__init__()
        self.pad, self.conv = nn.ZeroPad2d(1), nn.Conv2d(3, 4, 3)

    def forward(self, x):
        p = self.pad(x)
        return self.conv(p) + p.mean()


def test_a_fold_the_check_refutes_is_not_made():
    x = torch.randn(1, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    for net in (ConvReadTwice().eval(), PaddingReadTwice().eval()):
        copy = fast_copy(net, "cpu", x)
        assert copy.folded == frozenset() and _count(copy, nn.Identity) == 0, type(net).__name__
        with torch.inference_mode():
            assert torch.allclose(copy(x), net(x), atol=1e-6)


def test_a_norm_read_once_is_folded_in_a_small_network():
    torch.manual_seed(1)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.ZeroPad2d(2),
                        nn.Conv2d(4, 2, 5, bias=False), nn.BatchNorm2d(2, affine=False)).eval()
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
    x = torch.randn(1, 3, 9, 9)
    copy = fast_copy(net, "cpu", x)
    assert copy.folded == {"0", "3", "4"} and _count(copy, nn.BatchNorm2d) == 0 and copy[4].padding == (2, 2)
    with torch.inference_mode():
        assert torch.allclose(copy(x), net(x), atol=1e-5)
