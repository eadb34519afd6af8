"""Token and channels-last layers read as feature maps, the same way in every engine function."""

import numpy as np
import pytest
import torch
from torch import nn
from torchvision.models import VisionTransformer
from torchvision.ops.misc import Permute

from deconvviz.engine.deconv import project
from deconvviz.engine.layout import CHANNELS_LAST, MAPS, TOKENS, layout_for, token_prefix
from deconvviz.engine.occlusion import occlusion_map
from deconvviz.engine.probe import probe
from deconvviz.engine.topk import build_index, empty_index
from deconvviz.errors import DeconvvizError
from deconvviz.figures.feature_maps import layer_maps

LAYER = "encoder.layers.encoder_layer_1"


@pytest.fixture(scope="module")
def vit():
    torch.manual_seed(0)
    net = VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32,
                            num_classes=5).eval()
    for p in net.parameters():
        p.requires_grad_(False)
    x = torch.randn(1, 3, 32, 32)
    return net, x


def _direct(net, x, layer, token, dim):
    """Return (value, value * d out[0, token, dim] / dx): the projection computed by plain autograd."""
    module = dict(net.named_modules())[layer]
    box = {}
    handle = module.register_forward_hook(lambda m, i, o: box.setdefault("out", o))
    try:
        x = x.clone().requires_grad_(True)
        with torch.enable_grad():
            net(x)
            value = box["out"][0, token, dim]
            (grad,) = torch.autograd.grad(value, x)
    finally:
        handle.remove()
    return float(value.detach()), grad * value.detach()


def test_token_prefix_and_shapes():
    assert token_prefix(197) == 1 and token_prefix(196) == 0 and token_prefix(261) == 5
    assert token_prefix(3) is None
    lay = layout_for((197, 768))
    assert lay.kind == TOKENS and lay.map_shape == (768, 14, 14)
    assert layout_for((56, 56, 96)).kind == CHANNELS_LAST and layout_for((56, 56, 96)).map_shape == (96, 56, 56)
    assert layout_for((96, 56, 56)).kind == MAPS
    # the module decides where the shape cannot: a Linear's features are last, a convolution's first
    assert layout_for((7, 7, 7), nn.Linear(7, 7)).kind == CHANNELS_LAST
    assert layout_for((7, 7, 7), nn.Conv2d(7, 7, 1)).kind == MAPS
    assert layout_for((8, 8, 8), Permute([0, 2, 3, 1])).kind == CHANNELS_LAST
    assert layout_for((1000,)).spatial is False


def test_maps_and_back_put_each_token_at_its_row_and_col():
    lay = layout_for((1 + 9, 4))
    tokens = torch.arange(10 * 4, dtype=torch.float32).reshape(1, 10, 4)
    maps = lay.maps(tokens)
    assert maps.shape == (1, 4, 3, 3)
    assert maps[0, 2, 1, 2] == tokens[0, 1 + 1 * 3 + 2, 2]  # channel = dim, (row, col) of patch token 1 + 5
    back = lay.unmaps(maps)
    assert torch.equal(back[:, 1:], tokens[:, 1:]) and torch.equal(back[:, 0], torch.zeros(1, 4))


@pytest.mark.parametrize("mode", ["deconvnet", "guided", "backprop"])
def test_vit_token_projection_equals_direct_autograd(vit, mode):
    net, x = vit
    # No rectifier in a ViT: every mode is the gradient (times the seed's value).
    p = project(net, x, LAYER, channel=3, position=(1, 2), mode=mode)
    value, expected = _direct(net, x, LAYER, 1 + 1 * 4 + 2, 3)
    assert p.positions == [(1, 2)] and p.values[0] == pytest.approx(value)
    assert torch.allclose(p.images, expected, atol=1e-6) and expected.abs().max() > 0


def test_vit_top_k_and_strongest_are_map_positions(vit):
    net, x = vit
    maps = probe(net, x, keep=[LAYER]).activations[LAYER][0, 1:, 5].reshape(4, 4)
    p = project(net, x, LAYER, channel=5, top_k=3)
    flat = maps.flatten().argsort(descending=True, stable=True)[:3]
    assert p.positions == [(int(i) // 4, int(i) % 4) for i in flat]
    for (row, col), image in zip(p.positions, p.images):
        _, expected = _direct(net, x, LAYER, 1 + row * 4 + col, 5)
        assert torch.allclose(image[None], expected, atol=1e-6)
    whole = project(net, x, LAYER, channel=5, whole_map=True)
    assert whole.values[0] == pytest.approx(float(maps.sum()), rel=1e-5)
    with pytest.raises(DeconvvizError, match="outside layer"):
        project(net, x, LAYER, channel=5, position=(4, 0))


def test_probe_maps_and_topk_index_read_tokens(vit):
    net, x = vit
    result = probe(net, x, keep=[LAYER])
    rec = result.record(LAYER)
    assert rec.spatial and rec.map_shape == (16, 4, 4) and rec.channels == 16
    maps = layer_maps(result.activations[LAYER], rec.layout)
    assert np.array_equal(maps[7], result.activations[LAYER][0, 1:, 7].reshape(4, 4).numpy())
    xs = torch.randn(3, 3, 32, 32)
    index = build_index(net, [(torch.arange(3), xs)], empty_index(LAYER, [0, 7], k=2, distinct=False))
    with torch.no_grad():
        acts = torch.stack([probe(net, xs[i:i + 1], keep=[LAYER]).activations[LAYER][0, 1:, 7] for i in range(3)])
    best = acts.flatten().argsort(descending=True)[:2]
    got = [(im, r, c) for im, r, c, _ in index.entries(7)]
    assert got == [(int(b) // 16, (int(b) % 16) // 4, int(b) % 4) for b in best]


def test_occlusion_activity_of_a_token_map_is_its_sum(vit):
    net, x = vit
    res = occlusion_map(net, x, patch=8, stride=8, layer=LAYER)
    assert res.method == "full" and res.activity.shape == (4, 4)
    occluded = x.clone()
    occluded[:, :, 8:16, 16:24] = 0
    act = probe(net, occluded, keep=[LAYER]).activations[LAYER][0, 1:, res.channel]
    assert res.activity[1, 2] == pytest.approx(float(act.sum()), rel=1e-5, abs=1e-5)


class _ChannelsLast(nn.Module):
    """A conv, then a channels-last stage like ConvNeXt's block interior, then back."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, padding=1)
        self.to_last = Permute([0, 2, 3, 1])
        self.fc = nn.Linear(6, 5)
        self.act = nn.GELU()
        self.head = nn.Linear(5, 4)

    def forward(self, x):
        return self.head(self.act(self.fc(self.to_last(self.conv(x)))).mean((1, 2)))


def test_channels_last_projection_and_maps():
    torch.manual_seed(1)
    net = _ChannelsLast().eval()
    x = torch.randn(1, 3, 8, 8)
    rec = probe(net, x, keep=()).record("act")
    assert rec.layout.kind == CHANNELS_LAST and rec.map_shape == (5, 8, 8)
    p = project(net, x, "act", channel=2, position=(3, 4), mode="backprop")
    box = {}
    handle = net.act.register_forward_hook(lambda m, i, o: box.setdefault("out", o))
    xg = x.clone().requires_grad_(True)
    net(xg)
    handle.remove()
    value = box["out"][0, 3, 4, 2]
    (grad,) = torch.autograd.grad(value, xg)
    assert torch.allclose(p.images, grad * value.detach(), atol=1e-6)
