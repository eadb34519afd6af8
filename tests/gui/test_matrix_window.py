"""The layer-kind matrix in the real window (offscreen): for each kind, the grid's tiles and title and the
deconvnet pane on the image file, then the same panes while the clip plays (the app's frame path), then the
camera stand-in's frames. Asserted on what the user sees: tile counts, titles, the pane's text."""

from __future__ import annotations

import pytest

from deconvviz.session import messages as m
from tests.clips import clip_frames, write_clip
from tests.matrix.kinds import KINDS

from test_main_window import wait_shown
from test_main_window_video import FakeCamera
from settle import settled


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", clip_frames(24), fps=10)


def maps_of(layer):
    return lambda r: isinstance(r, m.MapsReady) and r.request.layer == layer


@pytest.mark.parametrize("kind", KINDS)
def test_each_input_shows_the_layer_kind(kind, qtbot, settings, open_window, clip, monkeypatch):
    from deconvviz.gui import camera

    k = KINDS[kind]
    window = open_window(settings, model=k.model)
    channels, h, w = k.shape
    with qtbot.waitSignal(window.shown, timeout=20000, check_params_cb=maps_of(k.layer)):
        window.tree.select_layer(k.layer)
    # the image file
    assert window.grid.count() == channels
    shape = f"{channels}×{h}×{w}" if k.spatial else f" {channels} "  # a Linear's 10 units, as 10 tiles
    assert window.grid_title.text().startswith(f"{k.layer} · ") and shape in window.grid_title.text()
    qtbot.waitUntil(lambda: f"{k.layer} · channel {window.channel}" in window.deconv.info.text(), timeout=20000)
    # a playing frame: the one-pass frame path must read the layer as the still did
    with qtbot.waitSignal(window.shown, timeout=20000,
                          check_params_cb=lambda r: isinstance(r, m.ImageLoaded) and r.frame is not None):
        window.open_video(str(clip))
    qtbot.waitUntil(lambda: settled(window.backend), timeout=20000)
    window.play_video()
    played = wait_shown(qtbot, window, m.FrameAnalysed)
    assert played.maps is not None and played.maps.maps.shape == k.shape
    assert window.grid.count() == channels and played.projection is not None
    assert played.projection.full.std() > 0 or played.projection.values == (0.0,)
    # the pause is answered by the decoder's held frame; the camera opens after it (a held frame that arrives
    # after the switch stops the camera: the decoder race the issue lists, not this matrix's)
    with qtbot.waitSignal(window.shown, timeout=20000,
                          check_params_cb=lambda r: isinstance(r, m.ImageLoaded) and r.frame is not None):
        window.pause_video()
    qtbot.waitUntil(lambda: not window.player.is_playing and settled(window.backend), timeout=20000)
    assert window.grid.count() == channels and not window.last_error
    # the camera (a stand-in source of 40 x 30 frames)
    monkeypatch.setattr(camera, "camera_support", lambda: camera.CameraSupport(("Test camera",), None))
    monkeypatch.setattr(camera, "CameraFrames", FakeCamera)
    window.open_camera(0)
    live = wait_shown(qtbot, window, m.FrameAnalysed, check=lambda r: r.request.path == "Test camera")
    assert live.maps.maps.shape == k.shape and window.grid.count() == channels
    window.pause_video()
    qtbot.waitUntil(lambda: not window.player.is_playing and settled(window.backend), timeout=20000)
    assert not window.last_error, window.last_error
