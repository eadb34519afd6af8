"""The GUI bugs issue 18 lists, one test each: each failed before its fix."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt

from deconvviz.data.video import Frame
from deconvviz.session import messages as m
from tests.clips import clip_frames, write_clip

from test_main_window import wait_shown
from test_main_window_video import FakeCamera, frame_loaded, open_clip
from settle import settled


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", clip_frames(32), fps=10)


@pytest.fixture(scope="module")
def other_clip(tmp_path_factory):
    return write_clip(tmp_path_factory.mktemp("clip2") / "other.mp4", clip_frames(24, 48, 48), fps=10)


def submitted(window, kind):
    """Return a list that collects every request of type ``kind`` the window sends from now on."""
    sent = []
    submit = window.backend.submit

    def spy(request):
        if isinstance(request, kind):
            sent.append(request)
        submit(request)

    window.backend.submit = spy
    return sent


def test_enter_in_the_model_box_loads_once_and_adds_no_item(qtbot, window):
    loads = submitted(window, m.LoadModel)
    items = window.model_chooser.count()
    edit = window.model_chooser.lineEdit()
    edit.selectAll()
    qtbot.keyClicks(edit, "zf-fmnist")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: settled(window.backend), timeout=20000)
    assert len(loads) == 1
    assert window.model_chooser.count() == items


def test_the_invariance_view_with_no_image_is_a_message(qtbot, settings):
    from deconvviz.gui.analyses.invariance import InvarianceView
    from deconvviz.gui.backend import Backend
    from deconvviz.session.state import Session

    backend = Backend(threaded=False)
    view = InvarianceView(Session(), backend, settings)
    qtbot.addWidget(view)
    view.others.setChecked(True)  # the bundled photos, but no input: nothing to transform
    assert "no image" in view.last_message


def test_switching_to_a_camera_while_a_video_plays_raises_nothing(qtbot, window, clip, monkeypatch):
    from deconvviz.gui import camera

    open_clip(qtbot, window, clip)
    window.play_video()
    wait_shown(qtbot, window, m.FrameAnalysed)
    monkeypatch.setattr(camera, "camera_support", lambda: camera.CameraSupport(("Test camera",), None))
    monkeypatch.setattr(camera, "CameraFrames", FakeCamera)
    window.open_camera(0)
    # a decoded frame queued before the switch arrives after it (the race, made certain)
    window.player._on_delivered(Frame(clip_frames(1)[0], 5, 0.5))
    wait_shown(qtbot, window, m.FrameAnalysed, check=lambda r: r.request.path == "Test camera")
    window.pause_video()
    qtbot.waitUntil(lambda: settled(window.backend), timeout=20000)


def test_opening_a_video_while_one_plays_stops_the_old_playback(qtbot, window, clip, other_clip):
    open_clip(qtbot, window, clip)
    window.play_video()
    wait_shown(qtbot, window, m.FrameAnalysed)
    with qtbot.waitSignal(window.shown, timeout=20000,
                          check_params_cb=lambda r: frame_loaded(r) and r.frame.video == str(other_clip)):
        window.open_video(str(other_clip))
    qtbot.wait(800)  # eight frames at 10 frames/s, had the decoder's timer kept running
    assert not window.player.is_playing
    assert window.player.last.index == 0
    assert window.session.input.video == str(other_clip) and window.session.input.index == 0


def test_pausing_holds_one_frame_and_keeps_an_occlusion_map_asked_for_while_playing(qtbot, window, clip):
    open_clip(qtbot, window, clip)
    window.occlusion.stride.setValue(4)
    window.play_video()
    wait_shown(qtbot, window, m.FrameAnalysed)
    holds = submitted(window, m.LoadFrame)
    window.request_map()  # pauses first: the map runs on the frame paused on
    # a frame decoded before the pause reached the decoder, then the decoder's answer to the pause
    window.player._on_delivered(Frame(clip_frames(1)[0], 30, 3.0))
    window.player._on_held(None)
    result = wait_shown(qtbot, window, (m.MapReady, m.Cancelled), timeout=30000)
    assert isinstance(result, m.MapReady)
    assert len(holds) == 1


def test_closing_an_analysis_view_cancels_its_job(qtbot, settings):
    from deconvviz.gui.analyses.base import AnalysisView
    from deconvviz.gui.backend import Backend
    from deconvviz.session.state import Session

    backend = Backend()
    view = AnalysisView(Session(), backend, settings)
    qtbot.addWidget(view)
    view.show()
    started = []

    def slow(_model, _progress, cancel):
        started.append(True)
        end = time.monotonic() + 30
        while time.monotonic() < end and not cancel():
            time.sleep(0.01)

    try:
        view.submit("slow", slow, lambda _: None, model=False, long=True)
        qtbot.waitUntil(lambda: bool(started), timeout=10000)
        with qtbot.waitSignal(view.done, timeout=5000, check_params_cb=lambda key: key == "cancelled slow"):
            view.close()
        assert not backend.busy("analysis")
    finally:
        backend.stop()


def test_a_new_layer_never_keeps_a_channel_it_does_not_have(qtbot, window):
    window.tree.select_layer("features.8")  # 128 channels
    wait_shown(qtbot, window, m.MapsReady, check=lambda r: r.request.layer == "features.8")
    window.grid.select(100)
    wait_shown(qtbot, window, m.ProjectionReady, check=lambda r: r.request.channel == 100)
    window.canvas.move_to(10, 10)
    errors = []
    window.message.connect(lambda text: errors.append(text) if "out of range" in text else None)
    window.tree.select_layer("features.4")  # 64 channels
    assert window.session.channel is None or window.session.channel < 64
    window.deconv.mode.setCurrentText("guided")  # asks for a projection before the new maps arrive
    window.canvas.move_to(12, 12)
    wait_shown(qtbot, window, m.MapsReady, check=lambda r: r.request.layer == "features.4")
    qtbot.waitUntil(lambda: settled(window.backend), timeout=20000)
    assert window.session.channel is not None and window.session.channel < 64
    assert not errors


def test_the_deconvnet_panes_titles_fit_their_columns_at_the_readmes_window_size(qtbot, window):
    from deconvviz.gui.image_view import ImageView

    window.resize(1560, 900)  # the README screenshot's size: five columns under the deconvnet pane
    qtbot.waitUntil(lambda: window.deconv.featvis.width() < 160)
    for view in window.deconv.findChildren(ImageView):
        if view.title:
            assert view.fontMetrics().horizontalAdvance(view.title) <= view.width() - 4, view.title
