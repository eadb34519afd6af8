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
from deconvviz.engine.receptive_field import Box
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


def test_the_projection_on_a_crop_equals_the_whole_pass_at_the_corners_edges_and_inside(efficientnet, coffee):
    """Playback's projection on a crop around the receptive field (stride-aligned, pasted into zeros) against
    the whole pass's projection of the same position, in every mode, on and off the input's edges."""
    from deconvviz.analyses.frames import _crop_window
    from deconvviz.engine.fast_forward import fast_copy
    from deconvviz.engine.receptive_field import FieldTable

    fast = fast_copy(efficientnet.net, "cpu", coffee)
    cases = [("_blocks.4", 7, "deconvnet"), ("_blocks.2", 3, "guided"), ("_blocks.4", 2, "backprop")]
    for layer, channel, mode in cases:
        table = FieldTable(efficientnet.net, tuple(coffee.shape), layer)
        analyser = FrameAnalyser(efficientnet, layer, channel, mode, probs=False, net=fast, fields=table.box)
        got = analyser(coffee)
        assert analyser.cropped is True, (layer, mode)
        direct = project(efficientnet.net, coffee, layer, channel, mode=mode)
        assert got.position == direct.positions[0]
        scale = float(direct.images[0].abs().max())
        np.testing.assert_allclose(got.projection, direct.images[0].numpy(), rtol=0, atol=1e-5 * scale)
        h, w = got.maps.shape[1:]
        for position in [(0, 0), (h - 1, w - 1), (0, w - 1), (h // 2, 0), (h - 1, w // 2), (h // 2, w // 3)]:
            window = _crop_window(table.box(position), tuple(coffee.shape), (h, w))
            assert window is not None and (window[2] - window[0]) * (window[3] - window[1]) < 0.2 * 224 * 224
            whole = project(efficientnet.net, coffee, layer, channel, position, mode)
            crop = analyser._crop_projection(coffee, window, position, whole.values[0])  # the seed's value as there
            whole = whole.images[0].numpy()
            scale = max(1e-6, float(np.abs(whole).max()))
            np.testing.assert_allclose(crop, whole, rtol=0, atol=1e-5 * scale, err_msg=f"{layer} {mode} {position}")


class _Ramp(nn.Module):
    """Adds a ramp across the width of whatever it is given: its values depend on the input's size."""

    def forward(self, x):
        return x + torch.linspace(-10, 10, x.shape[-1])


class _Position(nn.Module):
    """Adds a learned map of the whole input's size: a crop does not fit it."""

    def __init__(self) -> None:
        super().__init__()
        self.map = nn.Parameter(torch.randn(1, 4, 32, 32))

    def forward(self, x):
        return x + self.map


def _boxes(net, size, layer="3"):
    from deconvviz.engine.receptive_field import FieldTable

    return FieldTable(net, (1, 3, size, size), layer).box


@pytest.mark.parametrize("middle", [_Ramp, _Position])
def test_a_crop_that_answers_otherwise_or_not_at_all_gives_way_to_the_whole_pass(middle):
    """A network that needs its whole input (values that depend on the input's size, a map of its size): the
    first frame's check (or the crop's failure) hands the projection to the whole pass, for good."""
    torch.manual_seed(4)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), middle(), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1),
                        nn.ReLU(), nn.Flatten(), nn.LazyLinear(3))
    net(torch.zeros(1, 3, 32, 32))
    model = LoadedModel("tiny", net.eval(), Preprocessing((32, 32), "RGB", (0.5,) * 3, (0.5,) * 3), [], "random")
    def around(p):
        return Box(max(0, p[0] - 2), max(0, p[1] - 2), p[0] + 3, p[1] + 3)

    fields = _boxes(net, 32) if middle is _Ramp else around
    analyser = FrameAnalyser(model, "3", 1, "guided", fields=fields)
    for seed in (5, 6):
        x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(seed))
        got = analyser(x)
        assert analyser.cropped is False
        direct = project(net, x, "3", 1, mode="guided")
        assert got.position == direct.positions[0]
        np.testing.assert_allclose(got.projection, direct.images[0].numpy(), rtol=0, atol=1e-6)


def test_a_field_too_large_to_crop_gets_the_whole_pass_for_that_frame_only():
    torch.manual_seed(7)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, stride=2, padding=1),
                        nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1), nn.Flatten(), nn.LazyLinear(3))
    net(torch.zeros(1, 3, 32, 32))
    model = LoadedModel("tiny", net.eval(), Preprocessing((32, 32), "RGB", (0.5,) * 3, (0.5,) * 3), [], "random")
    table, whole_image = _boxes(net, 32, "4"), [True]

    def fields(position):
        return Box(0, 0, 32, 32) if whole_image[0] else table(position)

    analyser = FrameAnalyser(model, "4", 2, "deconvnet", fields=fields)
    for seed, big in ((8, True), (9, False), (10, False)):
        whole_image[0] = big
        x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(seed))
        got = analyser(x)
        assert analyser.cropped is (None if big else True), seed
        direct = project(net, x, "4", 2)
        assert got.position == direct.positions[0]
        np.testing.assert_allclose(got.projection, direct.images[0].numpy(), rtol=0, atol=1e-6)
