"""Feature visualisation: the parametrisation, the objective's pull on hand-made detectors, the model left as it
was, cancellation, and images independent of their batch."""

import torch
from torch import nn

from deconvviz.engine.featvis import FourierImage, Objective, diversity, visualise
from deconvviz.errors import DeconvvizError
from deconvviz.models.preprocessing import Preprocessing

import pytest

RGB = Preprocessing(size=(32, 32), mode="RGB", mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
GREY = Preprocessing(size=(32, 32), mode="L", mean=(0.5,), std=(0.5,))


def test_fourier_parametrisation_round_trips_an_image():
    g = torch.Generator().manual_seed(0)
    pixels = torch.rand(2, 3, 24, 24, generator=g) * 0.9 + 0.05
    image = FourierImage([torch.Generator().manual_seed(i) for i in range(2)], 24, 3)
    image.set_pixels(pixels)
    assert torch.allclose(image.pixels(), pixels, atol=1e-4)


def test_the_start_is_near_grey_and_smooth():
    image = FourierImage([torch.Generator().manual_seed(0)], 64, 3)
    p = image.pixels().detach()
    assert (p - 0.5).abs().max() < 0.05


def _colour_net() -> nn.Module:
    conv = nn.Conv2d(3, 2, 3, padding=1, bias=False)
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[0, 0] = 1.0  # channel 0: red minus green and blue
        conv.weight[0, 1:] = -1.0
        conv.weight[1, 2] = 1.0  # channel 1: blue minus red and green
        conv.weight[1, :2] = -1.0
    return nn.Sequential(conv, nn.ReLU()).eval()


def test_a_colour_detector_gets_its_colour():
    result = visualise(_colour_net(), RGB, "0", [0, 1], steps=80, size=32)
    red, blue = result.images[0].mean((1, 2)), result.images[1].mean((1, 2))
    assert red[0] > red[1] + 0.1 and red[0] > red[2] + 0.1
    assert blue[2] > blue[0] + 0.1 and blue[2] > blue[1] + 0.1
    assert result.objectives[0, -1] > result.objectives[0, 0]


def _stripe_net() -> nn.Module:
    conv = nn.Conv2d(1, 1, 5, padding=2, bias=False)
    with torch.no_grad():  # vertical stripes, 4 px period: columns +, +, -, -
        conv.weight[:] = torch.tensor([1.0, 1.0, -1.0, -1.0, 0.0]).repeat(5, 1)[None, None]
    return nn.Sequential(conv, nn.ReLU()).eval()


def test_an_oriented_stripe_detector_gets_stripes_of_its_orientation():
    net = _stripe_net()
    result = visualise(net, GREY, "0", [0], steps=100, size=32)
    grey = result.images[0, :1]
    assert torch.equal(result.images[0, 0], result.images[0, 1])  # grey model: the grey picture in all three
    spectrum = torch.fft.rfft2(grey[0] - grey.mean()).abs()
    fy, fx = divmod(int(spectrum.argmax()), spectrum.shape[1])
    assert fy == 0 and fx > 0  # the strongest wave varies along the rows only: vertical structures
    with torch.no_grad():
        upright, turned = net((grey[None] - 0.5) / 0.5).mean(), net((grey[None].transpose(2, 3) - 0.5) / 0.5).mean()
    assert upright > 1.5 * turned  # an isotropic picture: about 1


def test_the_model_is_left_as_it_was():
    net = _colour_net()
    net.train()
    net[0].weight.requires_grad_(True)
    before = net[0].weight.detach().clone()
    extra = nn.BatchNorm2d(2)
    net.append(extra)
    extra.weight.requires_grad_(False)
    visualise(net, RGB, "0", [0], steps=3, size=16)
    assert net.training and extra.training
    assert net[0].weight.requires_grad and not extra.weight.requires_grad
    assert all(p.grad is None for p in net.parameters())
    assert torch.equal(net[0].weight, before)


def test_cancel_returns_what_was_found_so_far():
    calls = {"n": 0}

    def cancel():
        calls["n"] += 1
        return calls["n"] > 3

    result = visualise(_colour_net(), RGB, "0", [0, 1], steps=50, size=16, cancel=cancel)
    assert result.cancelled
    assert result.steps_done.tolist() == [3, 3]
    assert torch.isnan(result.objectives[:, 3:]).all() and not torch.isnan(result.objectives[:, :3]).any()
    assert (result.images - 0.5).abs().max() > 0.01  # three steps moved them from the grey start


def test_an_image_does_not_depend_on_its_batch():
    alone = visualise(_colour_net(), RGB, "0", [1], steps=5, size=16)
    together = visualise(_colour_net(), RGB, "0", [0, 1], steps=5, size=16, batch=1)
    assert torch.allclose(alone.images[0], together.images[1], atol=1e-5)


def test_negative_and_neuron_objectives_pull_their_way():
    neg = visualise(_colour_net(), RGB, "0", [0], Objective("channel", negative=True),
                    steps=30, size=16)
    assert neg.objectives[0, -1] > neg.objectives[0, 0]
    red = neg.images[0].mean((1, 2))
    assert red[0] < red[1]  # minimising red-minus-rest: less red
    neuron = visualise(_colour_net(), RGB, "0", [0], Objective("neuron", position=(2, 3)), steps=10, size=16)
    assert neuron.objectives[0, -1] > neuron.objectives[0, 0]
    with pytest.raises(DeconvvizError, match="outside"):
        visualise(_colour_net(), RGB, "0", [0], Objective("neuron", position=(99, 0)), steps=1, size=16)


def test_diversity_measures_similar_styles_and_pushes_copies_apart():
    maps = torch.rand(4, 3, 5, 5)
    same = diversity(torch.cat([maps[:1]] * 2), 2)
    assert torch.allclose(same, torch.ones(2))
    result = visualise(_colour_net(), RGB, "0", [0], steps=5, size=16, diversity_copies=2)
    assert result.targets == (0, 0)
    assert not torch.allclose(result.images[0], result.images[1])


def test_bad_inputs_get_one_line_errors():
    with pytest.raises(DeconvvizError, match="channel 5 out of range"):
        visualise(_colour_net(), RGB, "0", [5], steps=1, size=16)
    with pytest.raises(DeconvvizError, match="unknown layer"):
        visualise(_colour_net(), RGB, "nope", [0], steps=1, size=16)
    with pytest.raises(DeconvvizError, match="no channels"):
        visualise(_colour_net(), RGB, "0", [], steps=1, size=16)


def test_passes_through_the_model_in_parts_change_no_bit(monkeypatch):
    from deconvviz.engine.featvis import run

    monkeypatch.setattr(run, "CPU_PASS", 10 ** 6)
    whole = visualise(_colour_net(), RGB, "0", [0, 1, 0], steps=6, size=16, fast=False)
    monkeypatch.setattr(run, "CPU_PASS", 1)
    parts = visualise(_colour_net(), RGB, "0", [0, 1, 0], steps=6, size=16, fast=False)
    assert torch.equal(whole.images, parts.images)
    assert torch.allclose(whole.objectives, parts.objectives, rtol=1e-6, atol=0)  # a mean over other batch sizes


def test_channels_last_keeps_the_objective_and_gives_the_model_back():
    net = _colour_net()
    weight = net[0].weight
    data = weight.data
    fast = visualise(net, RGB, "0", [0, 1], steps=1, size=16, fast=True)
    plain = visualise(net, RGB, "0", [0, 1], steps=1, size=16, fast=False)
    assert torch.allclose(fast.objectives, plain.objectives, rtol=1e-5, atol=1e-6)
    assert net[0].weight is weight and weight.data.data_ptr() == data.data_ptr()
    assert weight.is_contiguous()


def test_the_model_runs_only_up_to_the_layer_with_the_same_objective():
    from deconvviz.engine.featvis.run import _objective
    from deconvviz.engine.layers import capture

    class Boom(nn.Module):
        def forward(self, x):
            raise AssertionError("ran past the layer")

    x = torch.randn(3, 3, 16, 16)
    targets = torch.tensor([0, 1, 1])
    head = nn.Sequential(*_colour_net(), nn.ReLU(inplace=True))
    truncated = _objective(nn.Sequential(*head, Boom()), x, "1", Objective(), targets, 1, 0.0)
    with capture(head, "1", stop=False) as box:
        head(x)  # the whole network, the layer's output copied before the in-place ReLU after it
    full = Objective().values(box["output"], None, targets)
    assert torch.equal(truncated, full)


def test_batch_norms_fold_into_their_convolutions_and_come_back():
    from deconvviz.engine.featvis.fold import conv_bn_pairs, folded

    torch.manual_seed(1)
    conv1, bn1, conv2, bn2 = nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4), nn.Conv2d(4, 4, 3), nn.BatchNorm2d(4)
    for bn in (bn1, bn2):
        bn.running_mean.uniform_(-1, 1), bn.running_var.uniform_(0.5, 2), bn.weight.data.uniform_(0.5, 2)
        bn.bias.data.uniform_(-1, 1)
    net = nn.Sequential(conv1, bn1, nn.ReLU(), conv2, bn2, nn.ReLU()).eval()
    x = torch.randn(2, 3, 12, 12)
    tensors = [conv1.weight, conv2.weight, conv2.bias]
    before = [(t.data_ptr(), t.detach().clone()) for t in tensors]
    with torch.no_grad():
        plain = net(x)
        with folded(net, "5", x[:1]) as count:
            assert count == 2 and not torch.equal(conv1.weight, before[0][1])
            fused = net(x)
    assert torch.allclose(fused, plain, atol=1e-5)
    assert all(t.data_ptr() == ptr and torch.equal(t, old) for t, (ptr, old) in zip(tensors, before))
    assert "forward" not in bn1.__dict__
    assert conv1.bias is None and "bias" in conv1._parameters
    assert len(conv_bn_pairs(net, lambda: net(x))) == 2


def test_a_convolution_whose_output_goes_elsewhere_too_is_not_folded():
    from deconvviz.engine.featvis.fold import folded

    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.bn = nn.Conv2d(3, 3, 3, padding=1), nn.BatchNorm2d(3)
            self.bn.running_mean.fill_(0.5)

        def forward(self, x):
            y = self.conv(x)
            return self.bn(y) + y  # the convolution's output is used twice: folding would change the sum

    net = Residual().eval()
    x = torch.randn(1, 3, 8, 8)
    with torch.no_grad(), folded(net, None, x) as count:
        assert count == 0
        assert torch.allclose(net(x), net.bn(net.conv(x)) + net.conv(x))


def test_a_symmetric_same_padding_becomes_the_convolutions_own():
    import torch.nn.functional as F

    from deconvviz.engine.featvis.fold import folded, symmetric_pads

    class SamePadded(nn.Conv2d):  # as efficientnet's Conv2dStaticSamePadding
        def __init__(self, pad):
            super().__init__(3, 4, 3, stride=1 if pad[0] == pad[1] else 2)
            self.static_padding = nn.ZeroPad2d(pad)

        def forward(self, x):
            return F.conv2d(self.static_padding(x), self.weight, self.bias, self.stride, self.padding)

    same, odd = SamePadded((1, 1, 1, 1)), SamePadded((0, 1, 0, 1))
    net = nn.Sequential(same, nn.ReLU(), nn.Conv2d(4, 3, 1), odd).eval()
    assert [c for c, _ in symmetric_pads(net)] == [same]
    x = torch.randn(1, 3, 10, 10)
    with torch.no_grad():
        plain = net(x)
        with folded(net, None, x):
            assert same.padding == (1, 1) and odd.padding == (0, 0)
            fused = net(x)
    assert torch.allclose(fused, plain, atol=1e-6) and same.padding == (0, 0) and "forward" not in same.static_padding.__dict__


def _faults_per_step(steps: int = 7) -> list[int]:
    """Return the page faults of each step after the first two of a visualisation whose activations are 4 x 64 x
    256 x 256 floats (64 MiB, above glibc's largest mmap threshold)."""
    import resource

    net = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 4, 1)).eval()
    counts = []
    visualise(net, Preprocessing(size=(256, 256), mode="RGB", mean=(0.5,) * 3, std=(0.5,) * 3), "2", [0, 1, 2, 3],
              steps=steps, size=32, fast=False,
              progress=lambda done, total: counts.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt))
    return [b - a for a, b in zip(counts[1:], counts[2:])]


def test_a_visualisation_reuses_its_large_blocks_instead_of_faulting_them_in_every_step(monkeypatch):
    import contextlib

    from deconvviz.engine.featvis import run
    from deconvviz.engine.heap import _LIBC

    if _LIBC is None:
        pytest.skip("not glibc")
    pages = (64 << 20) // 4096  # one activation's
    assert sorted(_faults_per_step())[2] < pages // 4  # kept heap: the step before's blocks reused (the median)
    monkeypatch.setattr(run, "kept_heap", lambda: contextlib.nullcontext(False))
    # glibc's default: each step maps at least one activation afresh and faults it in (two in a fresh process;
    # one where earlier work left glibc's threshold where kept_heap's exit puts it)
    assert min(_faults_per_step()) > pages // 2


def test_convolutions_fuse_with_their_activation_and_depthwise_pads_go_into_the_kernel():
    import torch.nn.functional as F

    from deconvviz.engine.featvis import fuse as fusing
    from deconvviz.engine.featvis.fold import folded

    if not fusing.available():
        pytest.skip("no oneDNN")

    class SamePadded(nn.Conv2d):  # efficientnet's Conv2dStaticSamePadding, stride 2: pad (0, 1, 0, 1)
        def __init__(self, channels, groups):
            super().__init__(channels, channels, 3, stride=2, groups=groups, bias=False)
            self.static_padding = nn.ZeroPad2d((0, 1, 0, 1))

        def forward(self, x):
            return F.conv2d(self.static_padding(x), self.weight, self.bias, self.stride, self.padding, 1, self.groups)

    class OwnIdentity(nn.Module):  # efficientnet's own utils.Identity, not nn.Identity
        def forward(self, x):
            return x

    class Pointwise(SamePadded):  # efficientnet's 1x1 Conv2dStaticSamePadding holds its own Identity
        def __init__(self, cin, cout):
            nn.Conv2d.__init__(self, cin, cout, 1, bias=False)
            self.static_padding = OwnIdentity()

    torch.manual_seed(0)
    act = nn.ReLU6()  # one module called after several convolutions, as efficientnet's _swish
    depthwise, dense = SamePadded(8, 8), SamePadded(3, 1)
    net = nn.Sequential(dense, nn.BatchNorm2d(3), act, Pointwise(3, 8), nn.BatchNorm2d(8), act, depthwise,
                        nn.BatchNorm2d(8), act, nn.Conv2d(8, 4, 1)).eval()
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1), m.running_var.uniform_(0.5, 2)
    x = (torch.randn(2, 3, 20, 20) * 3).contiguous(memory_format=torch.channels_last).requires_grad_(True)
    calls = []
    plain = net(x)
    (g_plain,) = torch.autograd.grad(plain.square().sum(), x)
    original = fusing._ConvAct.forward
    fusing._ConvAct.forward = staticmethod(lambda ctx, *a: calls.append(1) or original(ctx, *a))
    try:
        with folded(net, None, x[:1].detach(), fused=True) as count:
            assert count == 3 and "forward" in depthwise.__dict__ and "forward" in act.__dict__
            calls.clear()  # the check against the plain network ran them too
            out = net(x)
            (g_out,) = torch.autograd.grad(out.square().sum(), x)
    finally:
        fusing._ConvAct.forward = original
    assert len(calls) == 3  # the three convolutions before the ReLU6s ran fused; the last one as it was
    assert torch.allclose(out, plain, atol=1e-5) and torch.allclose(g_out, g_plain, rtol=1e-4, atol=1e-4)
    assert all("forward" not in m.__dict__ for m in net.modules())  # given back
    assert torch.equal(net(x), plain)
