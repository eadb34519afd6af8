"""The one-box fast path (engine/incremental/single.py) gives the general run's answers bit for bit."""

import numpy as np
import pytest
import torch

from deconvviz import load_model
from deconvviz.engine.incremental import Delta, IncrementalNet
from deconvviz.engine.incremental.single import SinglePlan, cap, out_range

from .test_incremental import _FunctionalInPlace, _Paddings, _Shared, _Zoo, naive


def _same(inc, x, boxes, fields, tap=None, fill=0.0):
    """Assert that each one-box run equals the general run (output and tapped Delta, bit for bit)."""
    for field in fields:
        for t, l, h, w in boxes:
            patch = torch.full((1, x.shape[1], h, w), fill)
            delta = Delta(patch, np.array([t], np.int64), np.array([l], np.int64))
            fast, fast_tap = inc.run(delta, tap, field)
            slow, slow_tap = inc.run(delta, tap, field, single=False)
            assert torch.equal(fast, slow), (field, t, l, h, w)
            assert (fast_tap is None) == (slow_tap is None)
            if fast_tap is not None:
                assert fast_tap.full == slow_tap.full and torch.equal(fast_tap.patch, slow_tap.patch)
                if not fast_tap.full:
                    assert np.array_equal(fast_tap.top, slow_tap.top) and np.array_equal(fast_tap.left, slow_tap.left)
            assert torch.equal(patch, torch.full_like(patch, fill))  # the caller's patch is never overwritten
    assert tap in inc._plans  # the fast path ran (not the general one twice)


def _boxes(height, width, patch):
    last_r, last_c = height - patch, width - patch
    return [(0, 0, patch, patch), (last_r, last_c, patch, patch), (last_r // 2 + 1, 3, patch, patch),
            (5, last_c - 1, patch, patch), (height // 2, width // 3, 1, 1), (0, 0, height, width),
            (1, 2, patch + 3, max(1, patch - 2))]


@pytest.mark.parametrize("name, size, patch", [
    ("zf-fmnist", 28, 6),
    ("alexnet", 64, 12),
    ("resnet18", 64, 12),
])
def test_fast_path_equals_the_general_run_on_architectures(name, size, patch):
    model = load_model(name)
    x = torch.randn(1, model.preprocessing.channels, size, size)
    inc = IncrementalNet(model.net, x)
    _same(inc, x, _boxes(size, size, patch), (1.0, 0.5, 0.1))


def test_fast_path_equals_the_general_run_on_efficientnet_with_its_tap(efficientnet, coffee):
    from deconvviz.engine.occlusion import OcclusionSession

    session = OcclusionSession(efficientnet.net, coffee, method="incremental")
    inc, tap = session._evaluate.inc, session._evaluate.tap
    boxes = _boxes(224, 224, 32) + [(96, left, 32, 32) for left in range(0, 193, 24)] + [(111, 5, 3, 40)]
    _same(inc, coffee, boxes, (1.0, 0.7, 0.3, 0.1), tap=tap)
    _same(inc, coffee, boxes[:3], (1.0, 0.2), tap=tap, fill=1.5)


class _Constants(torch.nn.Module):
    """Arithmetic with numbers and with cached tensors: a normalisation, a map-sized buffer, a per-channel one."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.register_buffer("bias_map", torch.randn(1, 4, 20, 20))
        self.register_buffer("scale", torch.rand(1, 4, 1, 1) + 0.5)
        self.conv2 = torch.nn.Conv2d(4, 4, 3, stride=2)

    def forward(self, x):
        y = self.conv((x - 0.5) / 0.25)
        y = torch.relu(2 * y + self.bias_map) * self.scale
        return self.conv2(y).mean((2, 3))


@pytest.mark.parametrize("net, shape", [
    (_Constants, (1, 3, 20, 20)),
    (_Zoo, (1, 3, 45, 37)),  # depthwise, grouped, dilated, pools, concat, a product, padding calls
    (_Paddings, (1, 3, 30, 30)),  # paddings folded into the convolution after them, or not
    (_Shared, (1, 3, 20, 20)),  # an in-place ReLU whose input shares its tensor with a value read later
    (lambda: _FunctionalInPlace(reread=False), (1, 3, 20, 20)),
])
def test_fast_path_equals_the_general_run_on_unusual_graphs(net, shape):
    net = net().eval()
    x = torch.randn(*shape)
    inc = IncrementalNet(net, x)
    boxes = _boxes(shape[2], shape[3], 7)
    _same(inc, x, boxes, (1.0, 0.5, 0.2))
    for t, l, h, w in boxes:  # and exact answers are the model's own
        patch = torch.zeros(1, shape[1], h, w)
        got = inc.run(Delta(patch, np.array([t]), np.array([l])))[0]
        assert (got.softmax(1) - naive(net, x, [(t, l, h, w)]).softmax(1)).abs().max() <= 1e-5


def test_fast_path_leaves_the_cache_as_it_found_it(efficientnet, coffee):
    inc = IncrementalNet(efficientnet.net, coffee)
    before = {n: v.clone() for n, v in inc.base.items() if isinstance(v, torch.Tensor)}
    for field in (1.0, 0.1):
        for t, l in [(0, 0), (96, 96), (190, 3)]:
            inc.run(Delta(torch.zeros(1, 3, 32, 32), np.array([t]), np.array([l])), None, field)
    assert all(torch.equal(inc.base[n], v) for n, v in before.items())
    cached = [v.clone() for v in inc.cache.values()]
    inc.run(Delta(torch.full((1, 3, 32, 32), 2.0), np.array([40]), np.array([50])))
    assert all(torch.equal(a, b) for a, b in zip(cached, inc.cache.values()))


def test_plan_is_compiled_again_after_unfold(efficientnet, coffee):
    inc = IncrementalNet(efficientnet.net, coffee)
    delta = Delta(torch.zeros(1, 3, 32, 32), np.array([64]), np.array([64]))
    inc.run(delta)
    assert isinstance(inc._plans[None], SinglePlan)
    conv = next(iter(inc.fused))
    inc.unfold(conv)  # its batch norm no longer folded: a plan compiled before would skip it
    assert not inc._plans
    fast, tapped = inc.run(delta, conv)
    slow, slow_tapped = inc.run(delta, conv, single=False)
    assert torch.equal(fast, slow) and torch.equal(tapped.patch, slow_tapped.patch)


def test_integer_box_arithmetic_equals_the_batched_one():
    from deconvviz.engine.incremental import boxes
    from deconvviz.engine.incremental.rules import _cap

    rng = np.random.default_rng(0)
    for _ in range(2000):
        k, s, p, d = (int(v) for v in rng.integers(1, 6, 4))
        p -= 1
        n_out = int(rng.integers(1, 30))
        size = int(rng.integers(1, 20))
        top = int(rng.integers(-3, 40))
        lo, n = boxes.out_range(np.array([top, top]), size, k, s, p, d, n_out)  # the batched branch
        assert out_range(top, size, k, s, p, d, n_out) == (int(lo[0]), n)
        field = float(rng.uniform(0.01, 1))
        lo2, n2 = _cap(lo, n, field, n_out)
        assert cap(int(lo[0]), n, field, n_out) == (int(lo2[0]), n2)
