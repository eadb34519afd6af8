"""The occlusion map and the live session equal a naive loop of full forward passes."""

import numpy as np
import pytest
import torch
from torch import nn

from deconvviz import DeconvvizError, load_model
from deconvviz.engine.layers import capture
from deconvviz.engine.occlusion import (CPU_BATCH_BYTES, OcclusionCancelled, OcclusionSession, batch_size,
                                        default_layer, default_patch_stride, occlusion_map)


@pytest.fixture(scope="module")
def fmnist():
    return load_model("zf-fmnist")


def naive_map(net, x, patch, stride, layer, channel, target, fill=0.0):
    """Return (prob, label, activity) maps from one full forward pass per position."""
    height, width = x.shape[2:]
    ny, nx = (height - patch) // stride + 1, (width - patch) // stride + 1
    prob, label, act = np.zeros((ny, nx)), np.zeros((ny, nx), int), np.zeros((ny, nx))
    for i in range(ny):
        for j in range(nx):
            xo = x.clone()
            xo[:, :, i * stride:i * stride + patch, j * stride:j * stride + patch] = fill
            with torch.no_grad(), capture(net, layer, stop=False) as box:
                p = net(xo).softmax(1)[0]
            prob[i, j], label[i, j] = p[target], p.argmax()
            act[i, j] = box["output"][0, channel].sum()
    return prob, label, act


def test_map_equals_naive_loop(fmnist):
    x = torch.randn(1, 1, 28, 28)
    r = occlusion_map(fmnist.net, x, patch=6, stride=3, fill=0.3, batch=30)
    assert r.method == "incremental"
    assert r.prob.shape == (8, 8) and r.prob.dtype == np.float32
    prob, label, act = naive_map(fmnist.net, x, 6, 3, r.layer, r.channel, r.target, fill=0.3)
    assert np.abs(r.prob - prob).max() <= 1e-5
    assert (r.label == label).all()
    assert np.allclose(r.activity, act, rtol=1e-5, atol=1e-4)


def test_map_on_efficientnet_equals_full(efficientnet, coffee):
    r = occlusion_map(efficientnet.net, coffee, patch=96, stride=128, batch=3)
    full = occlusion_map(efficientnet.net, coffee, patch=96, stride=128, incremental=False)
    assert r.method == "incremental" and full.method == "full"
    assert r.prob.shape == (2, 2)
    assert np.abs(r.prob - full.prob).max() <= 1e-5
    assert np.allclose(r.activity, full.activity, rtol=1e-4)
    assert efficientnet.class_name(r.target) == "espresso"


def test_defaults(fmnist, efficientnet):
    assert default_patch_stride(224, 224) == (32, 8)
    assert default_patch_stride(28, 28) == (6, 2)
    assert default_layer(efficientnet.net, efficientnet.blank_input()) == "_swish#1"
    assert default_layer(fmnist.net, fmnist.blank_input()) == "features.13"


class _Rolling(nn.Module):
    """A layer incremental inference cannot reason about (torch.roll moves values across the image)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.relu = nn.ReLU()
        self.fc = nn.Linear(4 * 10 * 10, 3)

    def forward(self, x):
        return self.fc(torch.roll(self.relu(self.conv(x)), 2, dims=2).flatten(1))


def test_fallback_on_unsupported_layer():
    net = _Rolling().eval()
    x = torch.randn(1, 1, 10, 10)
    r = occlusion_map(net, x, patch=3, stride=2, layer="relu")
    assert r.method == "full"
    prob, label, act = naive_map(net, x, 3, 2, "relu", r.channel, r.target)
    assert np.abs(r.prob - prob).max() <= 1e-6 and (r.label == label).all()
    assert np.allclose(r.activity, act, rtol=1e-5)


@pytest.mark.parametrize("method", ["incremental", None])
def test_session_equals_full_inference(fmnist, method):
    x = torch.randn(1, 1, 28, 28)
    s = OcclusionSession(fmnist.net, x, fill=0.0, method=method)
    assert s.method in ("incremental", "full") and (method is None or s.method == method)
    for top, left, size in [(3, 4, 6), (-2, 25, 6), (0, 0, 28), (10, 11, 1)]:
        probs, total = s.occlude(top, left, size)
        xo = x.clone()
        xo[:, :, max(top, 0):top + size, max(left, 0):left + size] = 0.0
        with torch.no_grad(), capture(fmnist.net, s.layer, stop=False) as box:
            want = fmnist.net(xo).softmax(1)[0].numpy()
        assert np.abs(probs - want).max() <= 1e-5
        assert total == pytest.approx(float(box["output"][0, s.channel].sum()), rel=1e-5, abs=1e-4)
    probs, total = s.occlude(40, 40, 5)  # outside the image: nothing changes
    assert np.array_equal(probs, s.base_probs) and total == s.base_activity


def test_progress_and_cancel(fmnist):
    x = torch.randn(1, 1, 28, 28)
    seen = []
    occlusion_map(fmnist.net, x, 6, 2, batch=40, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(40, 144), (80, 144), (120, 144), (144, 144)]
    with pytest.raises(OcclusionCancelled):
        occlusion_map(fmnist.net, x, 6, 2, cancel=lambda: True)


@pytest.mark.parametrize("kwargs, message", [
    (dict(patch=29, stride=2), "patch"),
    (dict(patch=0, stride=2), "patch"),
    (dict(patch=6, stride=0), "stride"),
    (dict(patch=6, stride=2, layer="classifier.6"), "no spatial"),
    (dict(patch=6, stride=2, layer="features.99"), "unknown layer"),
    (dict(patch=6, stride=2, target=10), "target"),
    (dict(patch=6, stride=2, fill=[0.0, 0.0]), "fill"),
])
def test_bad_input(fmnist, kwargs, message):
    with pytest.raises(DeconvvizError, match=message):
        occlusion_map(fmnist.net, torch.zeros(1, 1, 28, 28), **kwargs)


def test_cpu_batches_keep_every_batched_tensor_under_the_allocator_limit():
    x = torch.zeros(1, 3, 8, 8)
    assert batch_size(x, 1 << 20) == CPU_BATCH_BYTES >> 20  # 1 MiB a sample: 24 of them
    assert batch_size(x, 100 << 20) == 1  # one sample is already over: one at a time
    assert batch_size(x, 1 << 10) == 64  # tiny samples: capped
