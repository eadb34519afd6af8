"""Incremental inference equals full re-inference, on every architecture deconvviz must support."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from deconvviz import load_model
from deconvviz.engine.incremental import Delta, IncrementalNet, Unsupported


def naive(net, x, boxes, fill=0.0):
    """Return net(x) with each (top, left, h, w) box filled, one batch row per box."""
    xs = x.repeat(len(boxes), 1, 1, 1)
    for i, (t, l, h, w) in enumerate(boxes):
        xs[i, :, t:t + h, l:l + w] = fill
    with torch.no_grad():
        return net(xs)


def incremental(inc, x, boxes, fill=0.0):
    """Return the incremental output for equally sized boxes (one batch) or each box on its own."""
    sizes = {(h, w) for _, _, h, w in boxes}
    if len(sizes) == 1:
        h, w = sizes.pop()
        patch = torch.full((len(boxes), x.shape[1], h, w), fill)
        return inc.run(Delta(patch, np.array([b[0] for b in boxes]), np.array([b[1] for b in boxes])))[0]
    return torch.cat([incremental(inc, x, [b], fill) for b in boxes])


def assert_exact(net, x, boxes, fill=0.0, inc=None):
    inc = inc or IncrementalNet(net, x)
    got = incremental(inc, x, boxes, fill).softmax(1)
    want = naive(net, x, boxes, fill).softmax(1)
    assert (got - want).abs().max().item() <= 1e-5


def _boxes(size, patch):
    """Corners, a border-straddling row, an odd offset, the centre."""
    last = size - patch
    return [(0, 0, patch, patch), (last, last, patch, patch), (0, last, patch, patch), (last // 2 + 1, 3, patch, patch),
            (5, last - 1, patch, patch)]


@pytest.mark.parametrize("name, size, patch", [
    ("zf-fmnist", 28, 6),
    ("zfnet", 224, 32),
    ("alexnet", 64, 12),
    ("vgg16", 64, 12),
    ("resnet18", 64, 12),
])
def test_exact_on_architectures(name, size, patch):
    model = load_model(name)
    x = torch.randn(1, model.preprocessing.channels, size, size)
    inc = IncrementalNet(model.net, x)  # one cache for all: runs must leave it as they found it
    assert_exact(model.net, x, _boxes(size, patch), inc=inc)
    assert_exact(model.net, x, [(0, 0, size, size)], inc=inc)  # the whole image
    assert_exact(model.net, x, [(size // 2, size // 3, 1, 1), (0, size - 2, 2, 2)], inc=inc)  # tiny boxes, one by one
    assert_exact(model.net, x, _boxes(size, patch)[:2], inc=inc)


def test_exact_on_efficientnet(efficientnet, coffee):
    boxes = [(0, 0, 32, 32), (192, 192, 32, 32), (100, 37, 32, 32), (8, 192, 32, 32)]
    inc = IncrementalNet(efficientnet.net, coffee)
    assert len(inc.lazy_pads) >= 10  # the "same" paddings before its stride-1 depthwise convolutions
    assert_exact(efficientnet.net, coffee, boxes, inc=inc)
    assert_exact(efficientnet.net, coffee, [(0, 0, 224, 224)], inc=inc)
    assert_exact(efficientnet.net, coffee, [(111, 5, 3, 40)], fill=1.5, inc=inc)


class _Zoo(nn.Module):
    """Depthwise, grouped, dilated and strided convolutions, avg/ceil pools, padding, concat, a product."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.dw = nn.Conv2d(8, 8, 5, padding=2, groups=8)
        self.g = nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=2)
        self.pool = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.avg = nn.AvgPool2d(2, 2)
        self.same = nn.Conv2d(16, 6, (3, 5), padding="same")
        self.fc = nn.Linear(6, 4)

    def forward(self, x):
        x = F.relu6(self.a(x))
        y = torch.sigmoid(self.dw(x)) * x + self.g(x)
        y = torch.cat([y, x], 1)
        y = self.pool(F.pad(y, (0, 1, 1, 0)))
        y = self.avg(y)
        y = F.max_pool2d(self.same(y), 2, 1, 1)
        y = y.mean((2, 3))
        return self.fc(y)


def test_exact_on_unusual_geometry():
    net = _Zoo().eval()
    x = torch.randn(1, 3, 45, 37)
    assert_exact(net, x, [(0, 0, 7, 7), (38, 30, 7, 7), (17, 3, 7, 7), (1, 29, 7, 7)])
    assert_exact(net, x, [(44, 36, 1, 1)])


class _Paddings(nn.Module):
    """Paddings before convolutions: some fold into the convolution on a full batch, some must not."""

    def __init__(self):
        super().__init__()
        self.zero = nn.ZeroPad2d(2)
        self.a = nn.Conv2d(3, 6, 5, padding=1)  # its own padding adds to the folded one
        self.weight = nn.Parameter(torch.randn(6, 1, 3, 3))
        self.const = nn.ConstantPad2d(1, 2.0)
        self.b = nn.Conv2d(6, 6, 3)
        self.uneven = nn.ZeroPad2d((0, 1, 0, 1))
        self.c = nn.Conv2d(6, 6, 3, stride=2)
        self.shared = nn.ZeroPad2d(1)
        self.d = nn.Conv2d(6, 6, 3)

    def forward(self, x):
        y = torch.relu(self.a(self.zero(x)))
        y = F.conv2d(F.pad(y, (1, 1, 1, 1)), self.weight, None, 1, 0, 1, 6)  # a call: folds too
        y = self.b(self.const(y))  # pads with 2: not a convolution's zero padding
        y = self.c(self.uneven(y))  # more on one side: no convolution padding says that
        p = self.shared(y)
        y = self.d(p) + F.max_pool2d(p, 3, 1)  # read twice
        return y.mean((2, 3))


def test_paddings_fold_into_the_convolution_after_them():
    net = _Paddings().eval()
    x = torch.randn(1, 3, 30, 30)
    inc = IncrementalNet(net, x)
    assert sorted(n.name for n in inc.lazy_pads) == ["pad", "zero"]
    # A large box turns every layer full, where the folding acts; small ones stay boxes.
    assert_exact(net, x, [(0, 0, 30, 30), (2, 3, 25, 26)], inc=inc)
    assert_exact(net, x, [(0, 0, 5, 5), (20, 11, 5, 5)], inc=inc)
    assert_exact(net, x, [(0, 0, 30, 30)], fill=-1.0, inc=inc)


class _Shared(nn.Module):
    """A ReLU whose input shares its tensor with a value read later (a padding only moves the box)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.pad = nn.ZeroPad2d(1)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(4, 4, 3)

    def forward(self, x):
        y = self.conv(x)
        return (self.conv2(self.relu(self.pad(y))) + y).mean((2, 3))


def test_in_place_ops_never_overwrite_a_value_read_later():
    net = _Shared().eval()
    x = torch.randn(1, 3, 20, 20)
    inc = IncrementalNet(net, x)
    assert [n.name for n in inc.overwriters] == ["relu"]
    assert_exact(net, x, [(3, 4, 5, 5), (0, 0, 20, 20)], inc=inc)


def test_pointwise_ops_run_in_place_where_nothing_else_reads_their_input(efficientnet, coffee):
    inc = IncrementalNet(efficientnet.net, coffee)
    assert len(inc.overwriters) >= 16  # the ReLU6 after each expanding and depthwise convolution
    before = {n: v.clone() for n, v in inc.base.items() if isinstance(v, torch.Tensor)}
    assert_exact(efficientnet.net, coffee, [(0, 0, 224, 224), (96, 96, 32, 32)], inc=inc)
    assert all(torch.equal(inc.base[n], v) for n, v in before.items())  # the cache is never written


class _FunctionalInPlace(nn.Module):
    """``F.relu(..., inplace=True)`` as DenseNet, GoogLeNet and Inception call it; ``reread`` reads its input
    again afterwards (which running it out of place would change)."""

    def __init__(self, reread: bool):
        super().__init__()
        self.reread = reread
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 4, 3)

    def forward(self, x):
        y = self.conv(x)
        z = F.relu(y, inplace=True)
        out = self.conv2(z)
        return (out + y[:, :, 1:-1, 1:-1] if self.reread else out).mean((2, 3))


def test_functional_in_place_relu_runs_out_of_place_where_that_changes_nothing():
    x = torch.randn(1, 3, 20, 20)
    net = _FunctionalInPlace(reread=False).eval()
    inc = IncrementalNet(net, x)
    conv = next(n for n in inc.nodes if n.target == "conv")
    with torch.no_grad():
        assert torch.equal(inc.base[conv], net.conv(x))  # the cache holds the convolution's own output
    assert_exact(net, x, [(3, 4, 5, 5), (12, 0, 5, 5)], inc=inc)
    assert_exact(net, x, [(0, 0, 20, 20)], inc=inc)
    with pytest.raises(Unsupported, match="read later"):
        IncrementalNet(_FunctionalInPlace(reread=True).eval(), x)


class _Unknown(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(torch.roll(self.conv(x), 1, dims=3).amax((2, 3)))


def test_unknown_op_is_refused():
    with pytest.raises(Unsupported, match="roll"):
        IncrementalNet(_Unknown().eval(), torch.randn(1, 1, 12, 12))


class _DataDependent(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 3)

    def forward(self, x):
        y = self.conv(x)
        return y.mean((2, 3)) if y.sum() > 0 else -y.mean((2, 3))


def test_untraceable_model_is_refused():
    with pytest.raises(Unsupported, match="trace"):
        IncrementalNet(_DataDependent().eval(), torch.randn(1, 1, 12, 12))


class _RunsAnotherThread(torch.nn.Module):
    """Its forward, while being traced, waits for ``other`` to run on a tensor in a second thread."""

    def __init__(self, other):
        super().__init__()
        self.conv, self.others, self.outcome = torch.nn.Conv2d(3, 4, 3), [other], []  # not a submodule

    def forward(self, x):
        import threading

        def run():
            try:
                self.outcome.append(self.others[0](torch.ones(1, 3, 8, 8)))
            except Exception as exc:  # what fx's process-wide patches made of the other thread's call
                self.outcome.append(exc)

        worker = threading.Thread(target=run)
        worker.start()
        worker.join()
        return self.conv(x).relu()


@pytest.mark.parametrize("tracer", ["deconvviz", "torch.fx"])
def test_tracing_leaves_a_model_running_in_another_thread_alone(tracer):
    import torch.fx as fx

    from deconvviz.engine.incremental.net import trace

    other = torch.nn.Sequential(torch.nn.Conv2d(3, 2, 3), torch.nn.ReLU()).eval()
    net = _RunsAnotherThread(other)
    gm = trace(net) if tracer == "deconvviz" else fx.symbolic_trace(net)
    outcome = net.outcome[0]
    if tracer == "torch.fx":  # the failure this tracer exists for: the other thread's call broke
        assert isinstance(outcome, NameError)
        return
    assert isinstance(outcome, torch.Tensor)
    with torch.no_grad():
        assert torch.equal(outcome, other(torch.ones(1, 3, 8, 8)))
    assert [n.target for n in gm.graph.nodes if n.op == "call_module"] == ["conv"]  # nothing of the other's


def test_overlapping_traces_in_two_threads_leave_nn_module_as_it_was():
    """Trace A opens, trace B opens inside it and ends after it: unserialised, B would put back A's patch."""
    import threading

    from deconvviz.engine.incremental.net import trace

    call_before = torch.nn.Module.__call__
    opened = {"a": threading.Event(), "b": threading.Event()}
    release = {"a": threading.Event(), "b": threading.Event()}

    class Held(torch.nn.Module):  # its trace stays open until released
        def __init__(self, name):
            super().__init__()
            self.name, self.conv = name, torch.nn.Conv2d(3, 2, 3)

        def forward(self, x):
            opened[self.name].set()
            release[self.name].wait(timeout=2)
            return self.conv(x)

    a = threading.Thread(target=lambda: trace(Held("a")))
    b = threading.Thread(target=lambda: trace(Held("b")))
    a.start()
    assert opened["a"].wait(timeout=5)
    b.start()
    opened["b"].wait(timeout=0.5)  # serialised: b's trace waits for a's to end
    release["a"].set()
    a.join()
    release["b"].set()
    b.join()
    assert torch.nn.Module.__call__ is call_before
    inner = torch.nn.Sequential(torch.nn.Conv2d(3, 2, 3), torch.nn.ReLU())
    with torch.no_grad():
        assert inner(torch.ones(1, 3, 8, 8)).shape == (1, 2, 6, 6)


class _Means(nn.Module):
    """Global average pooling written three ways, and two means that are not global."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 5, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.rows = nn.AdaptiveAvgPool2d((2, 1))

    def forward(self, x):
        y = torch.relu(self.conv(x))
        a = self.pool(y).flatten(1)
        b = F.adaptive_avg_pool2d(y, (1, 1)).flatten(1)
        c = y.mean((-1, -2)) + torch.mean(y, dim=[2, 3], keepdim=True).flatten(1)
        d = self.rows(y).flatten(1)[:, :5] + y.mean(2).mean(2)
        return torch.cat([a, b, c, d], 1)


def test_global_mean_is_the_cached_mean_plus_the_box_change():
    from deconvviz.engine.incremental.rules import _global_mean

    net = _Means().eval()
    x = torch.randn(1, 3, 17, 13)
    inc = IncrementalNet(net, x)
    means = {n.name for n in inc.nodes if n in inc.rules and _global_mean(inc, n, *inc._base_args(n))}
    assert means == {"pool", "adaptive_avg_pool2d", "mean", "mean_1"}  # not the 2 x 1 pool, nor one axis's means
    boxes = [(0, 0, 4, 4), (13, 9, 4, 4), (6, 2, 4, 4)]
    for fill in (0.0, 3.0):
        got = incremental(inc, x, boxes, fill)  # one batch of three
        want = naive(net, x, boxes, fill)
        assert (got - want).abs().max() <= 1e-5 * want.abs().max()
        for box in boxes:  # and one box at a time
            one = incremental(inc, x, [box], fill)
            assert (one - naive(net, x, [box], fill)).abs().max() <= 1e-5 * want.abs().max()
