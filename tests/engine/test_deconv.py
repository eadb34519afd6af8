"""The deconvnet against hand-computed cases and against an independent layer-by-layer formulation."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from deconvviz.engine.deconv import project, top_positions
from deconvviz.engine.probe import probe
from deconvviz.errors import DeconvvizError


def _frozen(net: nn.Module) -> nn.Module:
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def _overlap_net() -> nn.Module:
    """conv 1x2 (weights [1, 2], bias -1) -> ReLU -> max-pool 1x3 stride 2 (windows overlap at column 2)."""
    conv = nn.Conv2d(1, 1, (1, 2))
    conv.weight.data = torch.tensor([[[[1.0, 2.0]]]])
    conv.bias.data = torch.tensor([-1.0])
    return _frozen(nn.Sequential(conv, nn.ReLU(inplace=True), nn.MaxPool2d((1, 3), stride=(1, 2))))


def test_hand_computed_overlapping_pool():
    # conv output [-1, 1, 5, 1.5, -1] -> ReLU [0, 1, 5, 1.5, 0]; both pooling windows pick column 2 (value 5).
    x = torch.tensor([0.0, 0.0, 1.0, 2.5, 0.0, 0.0]).view(1, 1, 1, 6)
    net = _overlap_net()
    assert net(x).flatten().tolist() == [5.0, 5.0]

    # Whole map: both 5s unpool onto column 2 and add (10); the transposed filter spreads 10 * [1, 2].
    whole = project(net, x, "2", 0, whole_map=True).images
    assert whole.flatten().tolist() == [0.0, 0.0, 10.0, 20.0, 0.0, 0.0]

    # One activation keeps its own value and nothing else: 5 * [1, 2] at columns 2-3.
    one = project(net, x, "2", 0, position=(0, 1)).images
    assert one.flatten().tolist() == [0.0, 0.0, 5.0, 10.0, 0.0, 0.0]


def _sign_net(w2: float, b2: float) -> nn.Module:
    """1x1 conv (w=-1) -> ReLU -> 1x1 conv (w=w2, b=b2): the rectifier rule decides everything."""
    c1, c2 = nn.Conv2d(1, 1, 1, bias=False), nn.Conv2d(1, 1, 1)
    c1.weight.data.fill_(-1.0)
    c2.weight.data.fill_(w2)
    c2.bias.data.fill_(b2)
    return _frozen(nn.Sequential(c1, nn.ReLU(), c2))


@pytest.mark.parametrize("mode, expected", [("deconvnet", [-5.0, 0.0]), ("guided", [0.0, 0.0]), ("backprop", [0.0, 0.0])])
def test_rectifier_rule_where_forward_was_negative(mode, expected):
    # x = [1, -2] -> conv1 [-1, 2] -> ReLU [0, 2] -> conv2 (w=1, b=5) [5, 7]. Project position 0 (value 5):
    # 5 reaches the ReLU where its forward input was negative; only the deconvnet lets it through.
    x = torch.tensor([1.0, -2.0]).view(1, 1, 1, 2)
    got = project(_sign_net(1.0, 5.0), x, "2", 0, position=(0, 0), mode=mode).images
    assert got.flatten().tolist() == expected


@pytest.mark.parametrize("mode, expected", [("deconvnet", [0.0, 0.0]), ("guided", [0.0, 0.0]), ("backprop", [0.0, 8.0])])
def test_rectifier_rule_on_negative_signal(mode, expected):
    # conv2 (w=-1, b=10) -> [10, 8]; position 1 (value 8) sends -8 down where the forward was positive.
    x = torch.tensor([1.0, -2.0]).view(1, 1, 1, 2)
    got = project(_sign_net(-1.0, 10.0), x, "2", 0, position=(0, 1), mode=mode).images
    assert got.flatten().tolist() == expected


# --- an independent formulation: explicit unpool / rectify / transposed filter, layer by layer -----------------

def _sequence(net: nn.Module) -> list[tuple[str, nn.Module]]:
    """The leaf modules of a sequential network (zfnet, alexnet, vgg) in forward order, with their names."""
    return [(n, m) for n, m in net.named_modules() if n and not list(m.children())]


def reference_deconvnet(net: nn.Module, x: torch.Tensor, layer: str, seed: torch.Tensor) -> torch.Tensor:
    """Zeiler & Fergus's deconvnet written out directly from the paper, for sequential networks."""
    steps = _sequence(net)
    inputs = []
    h = x
    for name, module in steps:
        inputs.append(h)
        h = module(h.clone())
        if name == layer:
            break
    g = seed
    for (name, module), inp in zip(reversed(steps[: len(inputs)]), reversed(inputs)):
        if isinstance(module, nn.MaxPool2d):
            _, switches = F.max_pool2d(inp, module.kernel_size, module.stride, module.padding,
                                       ceil_mode=module.ceil_mode, return_indices=True)
            flat = torch.zeros(inp.shape[0], inp.shape[1], inp.shape[2] * inp.shape[3])
            flat.scatter_add_(2, switches.flatten(2), g.flatten(2))  # overlapping windows add
            g = flat.view_as(inp)
        elif isinstance(module, nn.ReLU):
            g = g.clamp_min(0)
        elif isinstance(module, nn.Conv2d):
            out_h = (g.shape[2] - 1) * module.stride[0] - 2 * module.padding[0] + module.kernel_size[0]
            out_w = (g.shape[3] - 1) * module.stride[1] - 2 * module.padding[1] + module.kernel_size[1]
            pad = (inp.shape[2] - out_h, inp.shape[3] - out_w)
            g = F.conv_transpose2d(g, module.weight, None, module.stride, module.padding, output_padding=pad)
        elif isinstance(module, nn.Linear):
            g = g @ module.weight
        elif isinstance(module, nn.Flatten):
            g = g.view_as(inp)
        elif isinstance(module, (nn.LocalResponseNorm, nn.Dropout)):
            pass  # no normalisation in the reconstruction path; dropout is off
        elif isinstance(module, nn.AdaptiveAvgPool2d):
            assert inp.shape == g.shape, "reference handles only identity pooling (224 px input)"
        else:
            raise AssertionError(f"reference does not know {type(module).__name__}")
    return g


def _close(a: torch.Tensor, b: torch.Tensor) -> None:
    scale = b.abs().max()
    assert scale > 0
    assert ((a - b).abs().max() / scale) < 1e-5


@pytest.fixture(scope="module")
def sequential_nets():
    from torchvision.models import alexnet, vgg11

    from deconvviz.models.zfnet import zfnet

    torch.manual_seed(0)
    return {"zfnet": _frozen(zfnet()), "alexnet": _frozen(alexnet()), "vgg11": _frozen(vgg11())}


@pytest.mark.parametrize("name, layer", [
    ("zfnet", "features.2"), ("zfnet", "features.7"), ("zfnet", "features.14"),
    ("alexnet", "features.5"), ("alexnet", "features.12"),
    ("vgg11", "features.10"), ("vgg11", "features.20"),
])
def test_matches_independent_formulation(sequential_nets, name, layer):
    net = sequential_nets[name]
    torch.manual_seed(1)
    x = torch.randn(1, 3, 224, 224)
    act = probe(net, x, keep=[layer]).activations[layer]
    channel = int(act[0].flatten(1).amax(1).argmax())  # a channel that is alive
    got = project(net, x, layer, channel)
    seed = torch.zeros_like(act)
    row, col = got.positions[0]
    seed[0, channel, row, col] = act[0, channel, row, col]
    _close(got.images, reference_deconvnet(net, x, layer, seed))
    whole = project(net, x, layer, channel, whole_map=True)
    seed = torch.zeros_like(act)
    seed[0, channel] = act[0, channel]
    _close(whole.images, reference_deconvnet(net, x, layer, seed))


def test_fully_connected_unit_matches_reference(sequential_nets):
    net = sequential_nets["zfnet"]
    x = torch.randn(1, 3, 224, 224)
    got = project(net, x, "classifier.4", 7)
    act = probe(net, x, keep=["classifier.4"]).activations["classifier.4"]
    seed = torch.zeros_like(act)
    seed[0, 7] = act[0, 7]
    _close(got.images, reference_deconvnet(net, x, "classifier.4", seed))


def test_backprop_mode_is_the_gradient(sequential_nets):
    net = sequential_nets["vgg11"]
    x = torch.randn(1, 3, 224, 224, requires_grad=True)
    got = project(net, x, "features.15", 3, position=(5, 6), mode="backprop").images
    with torch.enable_grad():
        out = net.features[:16](x)
        (grad,) = torch.autograd.grad(out[0, 3, 5, 6] * out[0, 3, 5, 6].detach(), x)
    _close(got, grad)


def test_top_k_batched_equals_single_projections(sequential_nets):
    net = sequential_nets["zfnet"]
    x = torch.randn(1, 3, 224, 224)
    batch = project(net, x, "features.7", 11, top_k=4)
    assert len(batch.positions) == 4 and batch.values == sorted(batch.values, reverse=True)
    for image, position in zip(batch.images, batch.positions):
        single = project(net, x, "features.7", 11, position=position).images[0]
        assert torch.allclose(image, single, atol=1e-6, rtol=1e-5)


def test_general_graphs_give_finite_nonzero_projections(efficientnet, coffee):
    from torchvision.models import resnet18

    net = _frozen(resnet18())
    x = torch.randn(1, 3, 224, 224)
    for layer in ("layer2.1", "layer4.0.relu#1"):
        p = project(net, x, layer, 5, top_k=2).images
        assert torch.isfinite(p).all() and p.abs().sum() > 0
    for layer in ("_blocks.3", "_blocks.9._bn1", "_conv_head"):
        for mode in ("deconvnet", "guided", "backprop"):
            p = project(efficientnet.net, coffee, layer, 2, mode=mode).images
            assert torch.isfinite(p).all() and p.abs().sum() > 0, (layer, mode)
    # The second call of a reused ReLU6. (Its strongest activation is often saturated at 6, where guided
    # backprop and backprop are zero by definition: the forward mask of ReLU6 is 0 < x < 6.)
    p = project(efficientnet.net, coffee, "_blocks.9._swish#1", 2).images
    assert torch.isfinite(p).all() and p.abs().sum() > 0


def test_bad_channel_and_position_name_the_valid_range():
    net = _overlap_net()
    x = torch.zeros(1, 1, 1, 6)
    with pytest.raises(DeconvvizError, match=r"valid 0\.\.0"):
        project(net, x, "2", 3)
    with pytest.raises(DeconvvizError, match=r"valid rows 0\.\.0, cols 0\.\.1"):
        project(net, x, "2", 0, position=(0, 2))
    with pytest.raises(DeconvvizError, match="unknown layer"):
        project(net, x, "7", 0)


def test_tied_activations_are_ordered_by_position():
    fmap = torch.tensor([[1.0, 3.0, 3.0], [0.0, 3.0, 2.0]])
    assert [p for p, _ in top_positions(fmap, 4)] == [(0, 1), (0, 2), (1, 1), (1, 2)]
