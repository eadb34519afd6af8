"""timm's architectures read as feature maps by the shared layout code, and a timm ViT gives the very maps and
projections of torchvision's ViT holding the same weights."""

import pytest
import torch

import deconvviz
from deconvviz.engine.deconv import project
from deconvviz.engine.layout import CHANNELS_LAST, FLAT, MAPS, TOKENS
from deconvviz.engine.probe import probe
from deconvviz.figures.feature_maps import layer_maps

# (model, layer, layout kind, maps as people read them): one row per family the layout code must read.
LAYOUTS = [
    ("test_resnet.r160_in1k", "layer2.0", MAPS, "48x20x20"),
    ("test_efficientnet.r160_in1k", "blocks.2.0.conv_pwl", MAPS, "32x20x20"),
    ("test_convnext.r160_in1k", "stages.1", MAPS, "32x20x20"),  # NCHW between blocks
    ("test_convnext.r160_in1k", "stages.1.blocks.0.mlp.fc1", CHANNELS_LAST, "128x20x20 (HxWxC)"),  # NHWC inside
    ("swin_tiny_patch4_window7_224", "layers.1.blocks.0", CHANNELS_LAST, "192x28x28 (HxWxC)"),
    ("swin_tiny_patch4_window7_224", "layers.1.blocks.0.mlp.fc1", TOKENS, "768x28x28 (784 tokens: 0 + 28x28)"),
    ("swin_tiny_patch4_window7_224", "layers.1.blocks.0.attn", FLAT, "49x192"),  # 16 windows x batch: no maps
    ("test_vit.r160_in1k", "blocks.1", TOKENS, "64x10x10 (101 tokens: 1 + 10x10)"),  # a class token
    ("vit_little_patch16_reg4_gap_256", "blocks.0", TOKENS, "320x16x16 (260 tokens: 4 + 16x16)"),  # 4 registers
]


@pytest.fixture(scope="module")
def models():
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = deconvviz.load_model(f"timm:{name}")
        return cache[name]

    return get


@pytest.mark.parametrize("name,layer,kind,described", LAYOUTS, ids=[f"{n}:{layer}" for n, layer, *_ in LAYOUTS])
def test_timm_layers_read_as_maps(models, name, layer, kind, described):
    m = models(name)
    record = next(r for r in m.layers() if r.name == layer)
    assert record.layout.kind == kind and record.layout.describe() == described
    x = torch.randn(1, 3, *m.preprocessing.size)
    result = probe(m.net, x, keep=[layer])
    if kind == FLAT:
        with pytest.raises(deconvviz.errors.DeconvvizError, match="no spatial maps"):
            project(m.net, x, layer, 0)
        return
    maps = layer_maps(result.activations[layer], result.record(layer).layout)
    assert maps.shape == record.map_shape
    channel = int(maps.reshape(len(maps), -1).max(1).argmax())  # random weights leave some channels dead
    p = project(m.net, x, layer, channel)
    assert p.images.shape == x.shape and torch.isfinite(p.images).all() and p.images.abs().sum() > 0
    c, h, w = record.map_shape
    row, col = p.positions[0]
    assert p.values[0] == pytest.approx(float(maps[channel].max()), rel=1e-5) == float(maps[channel, row, col])


BLOCK_NAMES = {"ln_1.": "norm1.", "ln_2.": "norm2.", "self_attention.in_proj_": "attn.qkv.",
               "self_attention.out_proj.": "attn.proj.", "mlp.0.": "mlp.fc1.", "mlp.3.": "mlp.fc2."}
TOP_NAMES = {"class_token": "cls_token", "encoder.pos_embedding": "pos_embed", "conv_proj.": "patch_embed.proj.",
             "encoder.ln.": "norm.", "heads.head.": "head."}


def timm_vit_from_torchvision(tv: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Return torchvision ViT weights ``tv`` under timm's VisionTransformer names (the tensors are the same:
    both keep q, k, v stacked in one projection, in that order)."""
    out = {}
    for key, value in tv.items():
        if key.startswith("encoder.layers.encoder_layer_"):
            index, rest = key.removeprefix("encoder.layers.encoder_layer_").split(".", 1)
            old = next(o for o in BLOCK_NAMES if rest.startswith(o))
            out[f"blocks.{index}.{BLOCK_NAMES[old]}{rest.removeprefix(old)}"] = value
        else:
            old = next(o for o in TOP_NAMES if key.startswith(o))
            out[TOP_NAMES[old] + key.removeprefix(old)] = value
    return out


@pytest.fixture(scope="module")
def vit_pair():
    """torchvision:vit_b_32 (random weights) and timm:vit_base_patch32_224 holding the very same weights."""
    torch.manual_seed(0)
    tv = deconvviz.load_model("torchvision:vit_b_32")
    tm = deconvviz.load_model("timm:vit_base_patch32_224")
    tm.net.load_state_dict(timm_vit_from_torchvision(tv.net.state_dict()))  # strict: every key, every shape
    return tv, tm


# (torchvision layer, timm layer, projections): a block's output, and the GELU inside its MLP
LAYER_PAIRS = [("encoder.layers.encoder_layer_5", "blocks.5", ({}, {"position": (2, 5), "mode": "guided"})),
               ("encoder.layers.encoder_layer_5.mlp.1", "blocks.5.mlp.act", ({},))]


@pytest.mark.parametrize("tv_layer,timm_layer,projections", LAYER_PAIRS, ids=["block", "mlp-gelu"])
def test_timm_vit_maps_and_projections_equal_torchvisions(vit_pair, tv_layer, timm_layer, projections):
    tv, tm = vit_pair
    x = torch.randn(1, 3, 224, 224)  # one input for both: their preprocessing differs (mean, resize)
    tv_probe, tm_probe = probe(tv.net, x, keep=[tv_layer]), probe(tm.net, x, keep=[timm_layer])
    assert torch.allclose(tv_probe.output, tm_probe.output, atol=1e-4, rtol=1e-4)  # the class scores
    assert tv_probe.record(tv_layer).layout == tm_probe.record(timm_layer).layout  # tokens: 1 + 7 x 7
    tv_maps = layer_maps(tv_probe.activations[tv_layer], tv_probe.record(tv_layer).layout)
    tm_maps = layer_maps(tm_probe.activations[timm_layer], tm_probe.record(timm_layer).layout)
    assert tv_maps.shape == tm_maps.shape == (768, 7, 7) or tv_maps.shape == tm_maps.shape == (3072, 7, 7)
    assert abs(tv_maps - tm_maps).max() < 1e-4 * abs(tv_maps).max()
    for kwargs in projections:
        a = project(tv.net, x, tv_layer, 7, **kwargs)
        b = project(tm.net, x, timm_layer, 7, **kwargs)
        assert a.positions == b.positions
        assert a.values == pytest.approx(b.values, rel=1e-4)
        scale = a.images.abs().max()
        assert scale > 0 and (a.images - b.images).abs().max() <= 1e-4 * scale
