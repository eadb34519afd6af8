"""The map total of a convolution that a batch norm and an in-place ReLU follow: the convolution's own output,
in full and incremental inference alike (before: full inference read it after the in-place ReLU had changed
it, incremental after the batch norm folded into it, so the check sent every live square to full inference)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from deconvviz.engine.occlusion import OcclusionSession


def _net():
    torch.manual_seed(0)
    bn = nn.BatchNorm2d(4)
    bn.running_mean.uniform_(-1, 1)
    bn.running_var.uniform_(0.5, 2)
    bn.weight.data.uniform_(0.5, 2)
    bn.bias.data.uniform_(-1, 1)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), bn, nn.ReLU(inplace=True), nn.Conv2d(4, 4, 3, stride=2),
                         nn.ReLU(inplace=True), nn.Flatten(), nn.Linear(4 * 7 * 7, 5)).eval()


@pytest.mark.parametrize("method", ["incremental", "full"])
def test_the_total_is_of_the_convolutions_own_output(method):
    net, x = _net(), torch.randn(1, 3, 16, 16)
    session = OcclusionSession(net, x, "0", 2, method=method)
    assert session.method == method  # incremental is no longer refused by its check against full inference
    probs, total = session.occlude(4, 5, 6)
    xo = x.clone()
    xo[..., 4:10, 5:11] = 0
    with torch.no_grad():
        conv = net[0](xo)
        expected = torch.softmax(net(xo), 1)[0].numpy()
        base = float(net[0](x)[0, 2].double().sum())
    assert total == pytest.approx(float(conv[0, 2].double().sum()), rel=1e-5, abs=1e-4)
    np.testing.assert_allclose(probs, expected, atol=1e-6)
    assert session.base_activity == pytest.approx(base, rel=1e-6)
