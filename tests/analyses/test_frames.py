"""Per-frame analysis in one pass equals the separate computations (probe, project)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from deconvviz.analyses.frames import FrameAnalyser
from deconvviz.engine.deconv import project
from deconvviz.engine.probe import probe
from deconvviz.errors import DeconvvizError
from deconvviz.models import LoadedModel
from deconvviz.models.preprocessing import Preprocessing


@pytest.fixture(scope="module")
def fmnist():
    from deconvviz import load_model

    return load_model("zf-fmnist")


def _check(model, x, layer, channel, mode="deconvnet"):
    got = FrameAnalyser(model, layer, channel, mode)(x)
    reference = probe(model.net, x, keep=[layer])
    assert np.array_equal(got.probs, torch.softmax(reference.output.float(), 1)[0].numpy())
    act = reference.activations[layer][0].numpy()
    assert np.array_equal(got.maps, act if act.ndim == 3 else act[:, None, None])
    direct = project(model.net, x, layer, channel, mode=mode)
    assert got.position == direct.positions[0] and got.value == pytest.approx(direct.values[0])
    np.testing.assert_allclose(got.projection, direct.images[0].numpy(), rtol=0, atol=1e-6)
    return got


@pytest.mark.parametrize("layer,channel,mode", [("features.14", 5, "deconvnet"), ("features.3", 2, "guided"),
                                                ("features.7", 0, "backprop"), ("classifier.1", 3, "deconvnet")])
def test_one_pass_equals_probe_and_project_on_zf_fmnist(fmnist, layer, channel, mode):
    x = torch.randn(1, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    _check(fmnist, x, layer, channel, mode)


def test_one_pass_equals_probe_and_project_on_a_reused_activation(efficientnet, coffee):
    got = _check(efficientnet, coffee, "_swish", 4)
    assert efficientnet.class_name(got.top) == "espresso"


def test_in_place_layers_after_the_kept_one_do_not_change_it():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(inplace=True), nn.MaxPool2d(2), nn.Flatten(), nn.LazyLinear(3))
    net(torch.zeros(1, 3, 10, 10))
    model = LoadedModel("tiny", net.eval(), Preprocessing((10, 10), "RGB", (0.5,) * 3, (0.5,) * 3), [], "random")
    x = torch.randn(1, 3, 10, 10)
    got = _check(model, x, "0", 1)
    assert got.maps.min() < 0  # the convolution's output before the in-place ReLU


def test_lighter_passes_and_images_go_through_the_preprocessing(fmnist):
    image = Image.fromarray(np.random.default_rng(0).integers(0, 255, (2160, 3840, 3), dtype=np.uint8))
    x = fmnist.preprocess(image)
    plain = FrameAnalyser(fmnist)(image)  # a 4K frame: resized and cropped as a photo would be
    assert torch.equal(plain.x, x) and plain.maps is None and plain.projection is None
    maps = FrameAnalyser(fmnist, "features.14")(image)
    assert np.array_equal(maps.probs, plain.probs) and maps.projection is None
    assert maps.maps.shape == tuple(probe(fmnist.net, x).record("features.14").output_shape)


def test_bad_arguments_are_one_line_errors(fmnist):
    x = torch.zeros(1, 1, 28, 28)
    with pytest.raises(DeconvvizError, match="unknown layer"):
        FrameAnalyser(fmnist, "nope")
    with pytest.raises(DeconvvizError, match="needs a layer"):
        FrameAnalyser(fmnist, None, 3)
    with pytest.raises(DeconvvizError, match="out of range"):
        FrameAnalyser(fmnist, "features.14", 10_000)(x)


@pytest.mark.parametrize("channel", [None, 5])
def test_without_probabilities_the_pass_stops_at_the_layer_with_the_same_maps_and_projection(fmnist, channel):
    """Playback with the square in place shows the square's probabilities: the frame's own pass ends at the
    layer (nothing after it runs) and its maps and projection are those of the whole pass."""
    x = torch.randn(1, 1, 28, 28, generator=torch.Generator().manual_seed(2))
    whole = FrameAnalyser(fmnist, "features.4", channel)(x)
    after = []
    handle = fmnist.net.classifier.register_forward_hook(lambda *args: after.append(1))
    try:
        cut = FrameAnalyser(fmnist, "features.4", channel, probs=False)(x)
    finally:
        handle.remove()
    assert cut.probs is None and cut.top is None and not after
    assert np.array_equal(cut.maps, whole.maps)
    if channel is not None:
        assert cut.position == whole.position and np.array_equal(cut.projection, whole.projection)
    assert FrameAnalyser(fmnist, None, None, probs=False)(x).probs is not None  # no layer: the probabilities
