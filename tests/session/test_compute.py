"""The runner's synchronous core: a Compute answers every request with results, errors as messages; no Qt."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import pytest

from deconvviz.data.images import default_photo
from deconvviz.session import messages as m
from deconvviz.session.compute import Compute


def loaded_compute() -> Compute:
    compute = Compute("cpu")
    assert [type(r) for r in compute.handle(m.LoadModel(1, "zf-fmnist"))] == [m.ModelLoaded]
    assert [type(r) for r in compute.handle(m.LoadImage(2, str(default_photo())))] == [m.ImageLoaded]
    return compute


def test_errors_come_back_as_messages_and_keep_the_state():
    compute = loaded_compute()
    x = compute.x
    (failed,) = compute.handle(m.LoadImage(3, "/nonexistent/photo.png"))
    assert isinstance(failed, m.Failed) and "image not found" in failed.message
    (failed,) = compute.handle(m.LoadModel(4, "no-such-model"))
    assert isinstance(failed, m.Failed) and "unknown model" in failed.message
    (failed,) = compute.handle(m.Project(5, "features.4", 999))
    assert isinstance(failed, m.Failed) and "channel 999 out of range" in failed.message
    assert compute.x is x and compute.model.name == "zf-fmnist"


def test_live_occlusion_matches_a_full_forward_pass():
    import torch

    compute = loaded_compute()
    (result,) = compute.handle(m.Occlude(3, top=5, left=7, size=6, layer="features.4", channel=2))
    x = compute.x.clone()
    x[..., 5:11, 7:13] = 0.0  # the mean pixel is 0 after normalisation
    with torch.no_grad():
        expected = torch.softmax(compute.model.net(x), 1)[0].numpy()
    np.testing.assert_allclose(result.probs, expected, atol=1e-6)
    assert result.map_total is not None


def test_occlusion_map_reports_progress_and_can_be_cancelled():
    compute = loaded_compute()
    seen = []
    (done,) = compute.handle(m.OcclusionMap(3, patch=8, stride=4, target=1), progress=lambda d, t: seen.append((d, t)))
    assert done.prob.shape == ((28 - 8) // 4 + 1,) * 2
    assert seen[-1] == (36, 36)
    (cancelled,) = compute.handle(m.OcclusionMap(4, patch=8, stride=4, target=1), cancel=lambda: True)
    assert isinstance(cancelled, m.Cancelled)


def test_a_request_it_has_no_handler_for_is_a_failed_result_not_an_exception():
    """Before: the handler was looked up outside the try, so an unknown request raised inside the worker."""

    @dataclass(frozen=True)
    class Unknown(m.Request):
        pass

    compute = loaded_compute()
    (failed,) = compute.handle(Unknown(3))
    assert isinstance(failed, m.Failed) and "Unknown" in failed.message


def test_the_apps_probe_keeps_no_max_pool_switches():
    """Nothing in the app reads the switches (the deconvnet gets them from autograd): they are not computed."""
    compute = loaded_compute()
    assert compute.probe.switches == {}
    assert "features.2" in compute.probe.activations  # zf-fmnist's first max-pool is still recorded


def test_a_playing_frame_in_one_pass_equals_the_same_frame_loaded_and_asked_pane_by_pane():
    """AnalyseFrame (one forward + backward, a plain forward for the square) against LoadFrame then LayerMaps,
    Project and Occlude (the probe and the incremental occluder), on the same pixels."""
    from tests.clips import clip_frames

    compute = loaded_compute()
    pixels = clip_frames(5, 64, 48)[-1]
    fast, = compute.handle(m.AnalyseFrame(3, "clip.mp4", 4, 0.4, pixels, "features.4", 7, "deconvnet", (5, 6, 8)))
    assert isinstance(fast, m.FrameAnalysed)
    assert compute.frame is None and compute.image_path == str(default_photo())  # the input stays the photo
    loaded, = compute.handle(m.LoadFrame(4, "clip.mp4", 4, 0.4, pixels))
    assert loaded.frame.label() == "clip.mp4 frame 4 at 0.40 s" and np.array_equal(loaded.source, pixels)
    assert np.array_equal(fast.pixels, loaded.pixels)
    assert fast.probs is None  # the square is in place: its probabilities are the ones shown
    bare, = compute.handle(m.AnalyseFrame(9, "clip.mp4", 4, 0.4, pixels, "features.4", 7, "deconvnet"))
    assert np.allclose(bare.probs, loaded.probs, atol=1e-6)
    assert np.array_equal(bare.maps.maps, fast.maps.maps) and np.array_equal(bare.projection.full, fast.projection.full)
    maps, = compute.handle(m.LayerMaps(5, "features.4"))
    assert np.allclose(fast.maps.maps, maps.maps, atol=1e-5) and fast.maps.levels == pytest.approx(maps.levels)
    proj, = compute.handle(m.Project(6, "features.4", 7))
    assert proj.positions == fast.projection.positions
    assert np.abs(fast.projection.full.astype(int) - proj.full).max() <= 1  # rgb of float projections equal to 1e-5
    np.testing.assert_allclose(fast.projection.feature_map, proj.feature_map, rtol=0, atol=1e-5)  # a channels-last pass
    occluded, = compute.handle(m.Occlude(7, 5, 6, 8, "features.4", 7))
    assert np.allclose(fast.occluded.probs, occluded.probs, atol=1e-6)
    assert fast.occluded.map_total == pytest.approx(occluded.map_total, rel=1e-5)
    bad, = compute.handle(m.AnalyseFrame(8, "clip.mp4", 5, 0.5, np.zeros((4, 4), np.uint8)))
    assert isinstance(bad, m.Failed) and "clip.mp4: a frame must be RGB uint8" in bad.message


def test_a_frame_without_panes_has_the_same_probabilities_and_square_but_no_maps_or_projection():
    """Playback's light frame (every other one when frames come too fast): the class table and the square's
    answer as with the panes, the grid and the projection left out."""
    from tests.clips import clip_frames

    compute = loaded_compute()
    pixels = clip_frames(5, 64, 48)[-1]
    full, = compute.handle(m.AnalyseFrame(3, "clip.mp4", 4, 0.4, pixels, "features.4", 7, "deconvnet", (5, 6, 8)))
    light, = compute.handle(m.AnalyseFrame(4, "clip.mp4", 4, 0.4, pixels, "features.4", 7, "deconvnet", (5, 6, 8),
                                           panes=False))
    assert full.maps is not None and full.projection is not None
    assert light.maps is None and light.projection is None and np.array_equal(light.pixels, full.pixels)
    assert light.probs is None and full.probs is None  # with the square in place the table shows its probabilities
    assert np.allclose(light.occluded.probs, full.occluded.probs, atol=1e-6)
    assert light.occluded.map_total == pytest.approx(full.occluded.map_total, rel=1e-5)
    assert light.seconds > 0 and full.seconds > 0
    bare, = compute.handle(m.AnalyseFrame(6, "clip.mp4", 4, 0.4, pixels, "features.4", 7, "deconvnet", panes=False))
    assert bare.occluded is None and bare.maps is None
    again, = compute.handle(m.AnalyseFrame(7, "clip.mp4", 4, 0.4, pixels, "features.4", 7, "deconvnet"))
    assert np.allclose(bare.probs, again.probs, atol=1e-6)
    assert again.projection is not None and np.array_equal(again.projection.full, full.projection.full)


def test_a_model_whose_copy_fails_in_channels_last_order_answers_as_loaded():
    """The plain forward passes of playback run on a channels-last copy; a model whose code needs its own
    memory order (a .view on a permuted tensor) answers from the model as loaded, with the same numbers."""
    compute = loaded_compute()
    pixels = np.full((28, 28, 3), 128, np.uint8)
    first, = compute.handle(m.AnalyseFrame(3, "clip.mp4", 0, 0.0, pixels, panes=False))
    assert compute._fast[1] is not compute.model.net  # the copy answered

    class Fussy(torch.nn.Module):
        def forward(self, x):
            if x.dim() == 4 and not x.is_contiguous():
                raise RuntimeError("view size is not compatible with input tensor's size and stride")
            return x

    compute._fast[1].features.insert(1, Fussy())  # after the first convolution: channels-last there
    again, = compute.handle(m.AnalyseFrame(4, "clip.mp4", 0, 0.0, pixels, panes=False))
    assert isinstance(again, m.FrameAnalysed) and compute._fast[1] is compute.model.net
    assert np.allclose(again.probs, first.probs, atol=1e-6)


def test_efficientnet_frames_crop_the_projection_and_read_folded_layers_from_the_model():
    """EfficientNet-Lite0's playing frame: the plain passes on the folded channels-last copy, the projection
    on a crop; against the same frame loaded and asked pane by pane (probe, project, the occluder). A layer
    that is a folded convolution (its own output, before its batch norm) is read from the model as loaded."""
    from deconvviz.data.images import load_image

    compute = Compute("cpu")
    compute.handle(m.LoadModel(1, "efficientnet-lite0"))
    pixels = np.asarray(load_image(default_photo()).convert("RGB").resize((320, 240)))
    compute.handle(m.LoadFrame(2, "clip.mp4", 0, 0.0, pixels))
    for layer, channel in (("_blocks.4", 7), ("_blocks.4._project_conv", 3)):
        fast, = compute.handle(m.AnalyseFrame(3, "clip.mp4", 4, 0.4, pixels, layer, channel, "deconvnet", (96, 96, 32)))
        assert isinstance(fast, m.FrameAnalysed), fast
        assert compute._frames.cropped is True
        copy = compute._fast_net()
        expected = compute.model.net if layer.endswith("_conv") else copy  # a folded convolution: the model's
        assert len(copy.folded) == 61 and compute._fast_net(layer) is expected
        maps, = compute.handle(m.LayerMaps(5, layer))
        np.testing.assert_allclose(fast.maps.maps, maps.maps, rtol=0, atol=1e-4 * float(np.abs(maps.maps).max()))
        proj, = compute.handle(m.Project(6, layer, channel))
        assert proj.positions == fast.projection.positions
        assert np.abs(fast.projection.full.astype(int) - proj.full).max() <= 1
        occluded, = compute.handle(m.Occlude(7, 96, 96, 32, layer, channel))
        assert np.allclose(fast.occluded.probs, occluded.probs, atol=1e-5)
        assert fast.occluded.map_total == pytest.approx(occluded.map_total, rel=1e-4, abs=1e-3)


def test_a_playing_frame_says_where_its_cpu_time_went():
    """Compute.frame_stages (bench/video.py prints it): the stages each frame ran, in order, and only those."""
    from tests.clips import clip_frames

    compute = loaded_compute()
    pixels = clip_frames(5, 64, 48)[-1]
    compute.handle(m.AnalyseFrame(3, "clip.mp4", 4, 0.4, pixels, "features.4", 7, "deconvnet", (5, 6, 8)))
    assert list(compute.frame_stages) == ["frame", "forward to the layer", "projection pass", "grid", "projection",
                                          "square", "pixels"]
    assert all(s >= 0 for s in compute.frame_stages.values()) and compute.frame_stages["square"] > 0
    compute.handle(m.AnalyseFrame(4, "clip.mp4", 4, 0.4, pixels, "features.4", 7, "deconvnet", (5, 6, 8), panes=False))
    assert list(compute.frame_stages) == ["frame", "square", "pixels"]  # the square's probabilities are shown
    compute.handle(m.AnalyseFrame(5, "clip.mp4", 4, 0.4, pixels, "features.4", 7, "deconvnet", None, panes=False))
    assert list(compute.frame_stages) == ["frame", "class table", "pixels"]
