"""Each attribution method against its reference: Captum where it has one, a hand computation where not."""

import numpy as np
import pytest
import torch
from torch import nn

from deconvviz.engine import methods
from deconvviz.engine.attribution import AttributionTarget
from deconvviz.engine.methods import attribute
from deconvviz.errors import DeconvvizError

captum = pytest.importorskip("captum.attr")

MEAN, STD = (0.4, 0.5, 0.6), (0.2, 0.25, 0.3)


class Tiny(nn.Module):
    def __init__(self, fail=False):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(4, 6, 3, padding=1)
        self.relu2 = nn.ReLU()
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(6, 5)
        self.fail = fail

    def forward(self, x):
        x = self.relu2(self.conv2(self.pool(self.relu1(self.conv1(x)))))
        if self.fail:
            raise RuntimeError("broken model")
        return self.fc(self.gap(x).flatten(1))


@pytest.fixture
def tiny():
    torch.manual_seed(1)
    return Tiny().double().eval()


@pytest.fixture
def x():
    torch.manual_seed(2)
    return torch.randn(1, 3, 12, 12, dtype=torch.float64)


def close(ours, reference, tol=1e-4):
    reference = np.asarray(reference.detach().numpy() if isinstance(reference, torch.Tensor) else reference)
    assert ours.shape == reference.shape
    scale = max(1.0, float(np.abs(reference).max()))
    np.testing.assert_allclose(ours, reference, atol=tol * scale, rtol=0)
    assert np.abs(reference).max() > 0  # a reference of zeros would prove nothing


def test_gradcam_is_captum_layer_gradcam_upsampled_bilinearly(tiny, x):
    ref = captum.LayerGradCam(tiny, tiny.relu2).attribute(x, target=3, relu_attributions=True)
    ref = captum.LayerAttribution.interpolate(ref, (12, 12), interpolate_mode="bilinear")[0, 0]
    close(attribute(tiny, x, "gradcam", AttributionTarget(3), "relu2"), ref)


def test_gradcam_default_layer_is_the_last_with_maps(tiny, x):
    ref = attribute(tiny, x, "gradcam", AttributionTarget(3), "relu2")
    np.testing.assert_array_equal(attribute(tiny, x, "gradcam", AttributionTarget(3)), ref)


def test_gradcam_of_a_channel_and_of_a_neuron(tiny, x):
    def channel(inp):
        return tiny.conv2(tiny.pool(tiny.relu1(tiny.conv1(inp))))[:, 2].sum((1, 2))[:, None]

    def neuron(inp):
        return tiny.conv2(tiny.pool(tiny.relu1(tiny.conv1(inp))))[:, 2, 1, 4][:, None]

    for func, position in ((channel, None), (neuron, (1, 4))):
        ref = captum.LayerGradCam(func, tiny.relu1).attribute(x, target=0, relu_attributions=True)
        ref = captum.LayerAttribution.interpolate(ref, (12, 12), interpolate_mode="bilinear")[0, 0]
        ours = attribute(tiny, x, "gradcam", AttributionTarget(layer="conv2", channel=2, position=position), "relu1")
        close(ours, ref)


def test_gradcam_default_layer_for_a_layer_target_runs_before_it(tiny, x):
    target = AttributionTarget(layer="conv2", channel=2, position=(1, 4))
    np.testing.assert_array_equal(attribute(tiny, x, "gradcam", target),
                                  attribute(tiny, x, "gradcam", target, "relu1"))


def test_guided_gradcam_is_captum(tiny, x):
    ref = captum.GuidedGradCam(tiny, tiny.relu2).attribute(x, target=1, interpolate_mode="bilinear")
    close(attribute(tiny, x, "guided-gradcam", AttributionTarget(1), "relu2"), ref[0].sum(0))


def test_guided_gradcam_at_a_layer_with_rectifiers_after_it_is_captum(tiny, x):
    # relu2 runs after conv2 under the guided rule, so the gradient at conv2 needs a pass of its own
    calls = count_forwards(tiny)
    try:
        ours = attribute(tiny, x, "guided-gradcam", AttributionTarget(1), "conv2")
    finally:
        calls.handle.remove()
    ref = captum.GuidedGradCam(tiny, tiny.conv2).attribute(x, target=1, interpolate_mode="bilinear")
    close(ours, ref[0].sum(0))
    assert len(calls) == 2


def test_gradcam_records_no_graph_before_its_layer(tiny, x):
    seen = []
    handle = tiny.conv1.register_forward_hook(lambda m, i, out: seen.append(out.requires_grad))
    try:
        attribute(tiny, x, "gradcam", AttributionTarget(1), "relu2")
    finally:
        handle.remove()
    assert seen == [False]


class TupleLayer(nn.Module):
    """A layer whose output is (maps, extra), as an attention block's (output, weights)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        y = self.conv(x)
        return y, y.mean()


class TupleNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = TupleLayer()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        maps, _ = self.block(x)
        return self.fc(torch.relu(maps).mean((2, 3)))


def test_gradcam_of_a_layer_with_a_tuple_output_is_its_hand_computation(x):
    torch.manual_seed(3)
    net = TupleNet().double().eval()
    act = net.block.conv(x).detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(net.fc(torch.relu(act).mean((2, 3)))[0, 2], act)
    cam = torch.relu((grad.mean((2, 3), keepdim=True) * act).sum(1, keepdim=True))
    ref = torch.nn.functional.interpolate(cam, size=(12, 12), mode="bilinear", align_corners=False)[0, 0]
    close(attribute(net, x, "gradcam", AttributionTarget(2), "block"), ref)


@pytest.mark.parametrize("name,reference,reduce", [
    ("saliency", lambda net: captum.Saliency(net), "max"),
    ("backprop", lambda net: captum.Saliency(net), "sum"),
    ("guided", lambda net: captum.GuidedBackprop(net), "sum"),
    ("deconvnet", lambda net: captum.Deconvolution(net), "sum"),
])
def test_gradient_methods_are_captum(tiny, x, name, reference, reduce):
    kwargs = {"abs": name == "saliency"} if name in ("saliency", "backprop") else {}
    ref = reference(tiny).attribute(x, target=4, **kwargs)[0]
    ref = ref.abs().amax(0) if reduce == "max" else ref.sum(0)
    close(attribute(tiny, x, name, AttributionTarget(4)), ref)


@pytest.mark.parametrize("kind", ["zero", "mean", "blur"])
def test_integrated_gradients_is_captum(tiny, x, kind):
    from deconvviz.engine.integrated_gradients import baseline

    base = baseline(x, kind, MEAN, STD, 2.0)
    ref = captum.IntegratedGradients(tiny).attribute(x, baselines=base, target=2, n_steps=16, method="riemann_middle")
    ours = attribute(tiny, x, "integrated-gradients", AttributionTarget(2),
                     options={"steps": 16, "baseline": kind, "sigma": 2.0, "batch": 5}, mean=MEAN, std=STD)
    close(ours, ref[0].sum(0))


def test_baselines_mean_what_they_say(x):
    from deconvviz.engine.integrated_gradients import baseline

    black = baseline(x, "zero", MEAN, STD)
    assert torch.allclose(black * torch.tensor(STD).view(1, 3, 1, 1).double()
                          + torch.tensor(MEAN).view(1, 3, 1, 1).double(), torch.zeros_like(x))
    assert torch.equal(baseline(x, "mean", MEAN, STD), torch.zeros_like(x))
    blurred = baseline(x, "blur", MEAN, STD, 2.0)
    assert blurred.shape == x.shape and blurred.std() < x.std() / 2
    assert torch.allclose(blurred.mean((2, 3)), x.mean((2, 3)), atol=0.2)


def test_integrated_gradients_completeness_within_the_riemann_error():
    torch.manual_seed(3)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Softplus(), nn.Flatten(), nn.Linear(4 * 10 * 10, 3),
                        nn.Tanh()).double().eval()
    x = torch.randn(1, 3, 12, 12, dtype=torch.float64)
    with torch.no_grad():
        gap = float(net(x)[0, 1] - net(torch.zeros_like(x))[0, 1])
    errors = []
    for steps in (4, 16, 64):
        total = attribute(net, x, "integrated-gradients", AttributionTarget(1),
                          options={"steps": steps, "baseline": "zero"}).astype(np.float64).sum()
        errors.append(abs(total - gap))
    # the midpoint rule's error falls as 1/steps^2: 16x per 4x the steps; ask for 8x
    assert errors[1] < errors[0] / 8 and errors[2] < errors[1] / 8 + 1e-5
    assert errors[2] < 1e-3 * abs(gap)


def test_smoothgrad_is_captum_noise_tunnel(tiny, x):
    noise, samples, seed = 0.1, 6, 7
    stdev = noise * float(x.max() - x.min())
    torch.manual_seed(seed)
    ref = captum.NoiseTunnel(captum.Saliency(tiny)).attribute(x, nt_type="smoothgrad", nt_samples=samples,
                                                               stdevs=stdev, target=0, abs=True)
    ours = attribute(tiny, x, "smoothgrad", AttributionTarget(0),
                     options={"base": "saliency", "samples": samples, "noise": noise, "seed": seed, "batch": 4})
    close(ours, ref[0].abs().amax(0))


@pytest.mark.parametrize("base", ["saliency", "guided", "integrated-gradients", "gradcam"])
def test_smoothgrad_without_noise_is_its_base(tiny, x, base):
    options = {"steps": 8} if base == "integrated-gradients" else {}
    plain = attribute(tiny, x, base, AttributionTarget(2), options=options)
    smooth = attribute(tiny, x, "smoothgrad", AttributionTarget(2),
                       options={"base": base, "noise": 0.0, "samples": 3, **options})
    np.testing.assert_allclose(smooth, plain, rtol=1e-12, atol=1e-12)


def test_gradcam_plus_plus_by_hand():
    """A layer A of two 2x2 maps (A_0 = x, A_1 = 2x) and the score Y = sum(A_0^2)/2 + 3 sum(A_1), so that
    dY/dA_0 = A_0 and dY/dA_1 = 3: the weights worked out from the formula, by hand."""

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(1, 2, 1, bias=False)
            with torch.no_grad():
                self.a.weight[:] = torch.tensor([1.0, 2.0]).view(2, 1, 1, 1)

        def forward(self, x):
            a = self.a(x)
            return torch.stack([(a[:, 0] ** 2).sum((1, 2)) / 2 + 3 * a[:, 1].sum((1, 2))], 1)

    x = torch.tensor([[[[1.0, 2.0], [0.0, 3.0]]]], dtype=torch.float64)
    ours = attribute(Net().double(), x, "gradcam++", AttributionTarget(0), "a")
    a0, a1 = np.array([[1.0, 2.0], [0.0, 3.0]]), 2 * np.array([[1.0, 2.0], [0.0, 3.0]])
    # channel 0: g = A_0 = [1, 2, 0, 3], sum A_0 = 6: a = g^2 / (2 g^2 + 6 g^3) where g != 0
    alpha0 = [1 / (2 + 6), 4 / (8 + 48), 0.0, 9 / (18 + 162)]
    w0 = 1 * alpha0[0] + 2 * alpha0[1] + 0 + 3 * alpha0[3]
    # channel 1: g = 3 everywhere, sum A_1 = 12: a = 9 / (18 + 12 * 27) at each of 4 positions
    w1 = 4 * 3 * 9 / (18 + 12 * 27)
    cam = np.maximum(w0 * a0 + w1 * a1, 0)
    np.testing.assert_allclose(ours, cam, rtol=1e-6)  # a 2x2 map at a 2x2 input: upsampling is the identity


def test_gradcam_on_a_channels_last_layer_reads_it_as_maps():
    class Permute(nn.Module):
        def __init__(self, dims):
            super().__init__()
            self.dims = dims

        def forward(self, x):
            return x.permute(*self.dims)

    torch.manual_seed(4)
    net = nn.Sequential(nn.Conv2d(3, 5, 3, padding=1), Permute((0, 2, 3, 1)), nn.Linear(5, 5), nn.GELU(),
                        Permute((0, 3, 1, 2)), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(5, 4)).double().eval()
    x = torch.randn(1, 3, 8, 8, dtype=torch.float64)
    ref = captum.LayerGradCam(net, net[4]).attribute(x, target=1, relu_attributions=True)  # channels first again
    ref = captum.LayerAttribution.interpolate(ref, (8, 8), interpolate_mode="bilinear")[0, 0]
    close(attribute(net, x, "gradcam", AttributionTarget(1), "3"), ref)


def test_no_hook_remains_after_an_error(x):
    net = Tiny(fail=True).double().eval()
    for name in ("gradcam", "guided-gradcam", "saliency", "integrated-gradients"):
        with pytest.raises(RuntimeError, match="broken"):
            attribute(net, x, name, AttributionTarget(layer="fc", channel=0), "relu1" if "cam" in name else None)
    for module in net.modules():
        assert not module._forward_hooks and not module._forward_pre_hooks and not module._backward_hooks


@pytest.mark.parametrize("kwargs,message", [
    ({"name": "gradcm"}, "unknown attribution method 'gradcm'"),
    ({"name": "saliency", "layer": "relu2"}, "saliency reads no layer"),
    ({"name": "gradcam", "layer": "relx"}, "unknown layer 'relx'"),
    ({"name": "gradcam", "layer": "fc"}, "has no spatial maps"),
    ({"name": "gradcam", "target": AttributionTarget(9)}, "class 9 out of range"),
    ({"name": "gradcam", "target": AttributionTarget(layer="conv2", channel=8)}, "channel 8 out of range"),
    ({"name": "integrated-gradients", "options": {"stpes": 3}}, "has no option 'stpes'"),
    ({"name": "integrated-gradients", "options": {"baseline": "grey"}}, "unknown baseline 'grey'"),
    ({"name": "integrated-gradients", "options": {"steps": 0}}, "steps must be 1..10000"),
    ({"name": "smoothgrad", "options": {"base": "smoothgrad"}}, "not smoothgrad itself"),
    ({"name": "smoothgrad", "options": {"noise": -1.0}}, "noise is a fraction"),
])
def test_bad_input_is_one_clear_message(tiny, x, kwargs, message):
    name = kwargs.pop("name")
    with pytest.raises(DeconvvizError, match=message.replace("(", r"\(")):
        attribute(tiny, x, name, **kwargs)


def test_every_method_gives_an_input_sized_float_map(tiny, x):
    for name in methods.NAMES:
        out = attribute(tiny, x, name, AttributionTarget(0))
        assert out.shape == (12, 12) and out.dtype == np.float32 and np.isfinite(out).all()


def count_forwards(net):
    """Return a list that gets one entry per forward pass of ``net`` (a pre-hook; remove with .handle)."""

    class Calls(list):
        pass

    calls = Calls()
    calls.handle = net.register_forward_pre_hook(lambda *_: calls.append(1))
    return calls


@pytest.mark.parametrize("name,passes", [("gradcam", 1), ("gradcam++", 1), ("guided-gradcam", 1), ("saliency", 1),
                                         ("guided", 1), ("deconvnet", 1), ("backprop", 1)])
def test_the_top_class_comes_from_the_methods_own_pass(tiny, x, name, passes):
    with torch.no_grad():
        top = int(tiny(x)[0].argmax())
    layer = "relu2" if methods.get(name).layer else None
    calls = count_forwards(tiny)
    try:
        found = methods.explain(tiny, x, name, None, layer)
    finally:
        calls.handle.remove()
    assert found.target == AttributionTarget(top)
    assert len(calls) == passes  # no pass of its own to find the class
    np.testing.assert_array_equal(found.map, attribute(tiny, x, name, AttributionTarget(top), layer))


def test_noisy_and_path_methods_explain_the_top_class_of_the_image(tiny, x):
    with torch.no_grad():
        top = int(tiny(x)[0].argmax())
    for name, options in (("integrated-gradients", {"steps": 4}), ("smoothgrad", {"samples": 3, "noise": 0.5})):
        found = methods.explain(tiny, x, name, options=options)
        assert found.target == AttributionTarget(top)
        np.testing.assert_array_equal(found.map, attribute(tiny, x, name, AttributionTarget(top), options=options))


def test_the_default_layer_is_found_again_when_the_modules_change(tiny, x):
    from deconvviz.engine.gradcam import default_layer

    assert default_layer(tiny, x, AttributionTarget(0)) == "relu2"
    tiny.relu2 = nn.Sequential(nn.ReLU())
    assert default_layer(tiny, x, AttributionTarget(0)) == "relu2.0"
    assert default_layer(tiny, x[:, :, :8, :8], AttributionTarget(0)) == "relu2.0"


def test_gradcam_default_layer_of_a_class_token_vit_is_its_last_blocks_first_norm():
    # The head reads the class token only, so after the last attention no patch token gets a gradient:
    # Grad-CAM at the last layer with maps (the final norm) is 0 everywhere, and the default steps back.
    import deconvviz
    from deconvviz.engine.gradcam import default_layer
    from deconvviz.engine.attribution import resolve_class

    model = deconvviz.load_model("timm:test_vit.r160_in1k")
    x = model.preprocess(deconvviz.load_image("resources/photos/coffee.png"))
    assert not deconvviz.attribution(model, x, "gradcam", layer="norm").any()
    target = resolve_class(model.net, x, AttributionTarget())
    norm1 = f"blocks.{len(model.net.blocks) - 1}.norm1"
    assert default_layer(model.net, x, target) == norm1
    default = deconvviz.attribution(model, x, "gradcam")
    np.testing.assert_array_equal(default, deconvviz.attribution(model, x, "gradcam", layer=norm1))
    assert default.any()
