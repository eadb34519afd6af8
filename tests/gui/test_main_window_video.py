"""Video in the main window (zf-fmnist, clips made here with PyAV): open, play, pause, step, seek, what the panes
show, export, bad input, the camera as far as this machine allows, and no UI block or thread left behind."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from PySide6.QtCore import QObject, QTimer, Signal

from deconvviz.analyses.frames import FrameAnalyser
from deconvviz.data.video import Frame, open_video
from deconvviz.figures.png import read_facts
from deconvviz.models import load_model
from deconvviz.session import messages as m
from deconvviz.session.state import FrameInput
from tests.clips import clip_frames, rotate_mp4, write_clip

from stall_meter import StallMeter, allowed_stall, idle_heartbeat
from test_main_window import wait_shown
from settle import settled


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", clip_frames(32), fps=10)


@pytest.fixture(scope="module")
def model():
    return load_model("zf-fmnist")


@pytest.fixture(scope="module")
def decoded(clip):
    with open_video(clip) as video:
        return list(video.frames())


def frame_loaded(r):
    return isinstance(r, m.ImageLoaded) and r.frame is not None


def open_clip(qtbot, window, path):
    """Open ``path`` in ``window``; return the ImageLoaded of its first frame."""
    with qtbot.waitSignal(window.shown, timeout=20000, check_params_cb=frame_loaded) as got:
        window.open_video(str(path))
    qtbot.waitUntil(lambda: settled(window.backend), timeout=20000)
    return got.args[0]


def direct_probs(model, pixels):
    with torch.no_grad():
        return torch.softmax(model.net(model.preprocess(Frame(pixels, 0, 0.0).image())), 1)[0].numpy()


def test_opening_a_video_holds_its_first_frame_as_the_input(qtbot, window, clip, model, decoded):
    loaded = open_clip(qtbot, window, clip)
    assert window.session.input == FrameInput(str(clip), 0, 0.0)
    assert np.array_equal(window.session.image.source, decoded[0].pixels)
    assert np.allclose(window.base_probs, direct_probs(model, decoded[0].pixels), atol=1e-6)
    assert np.array_equal(window.table.values, loaded.probs)
    assert "clip.mp4 frame 0 at 0.00 s" in window.windowTitle()
    assert window.video.isVisible() and window.video.slider.maximum() == 31
    assert window.grid.count() > 0 and window.deconv.projection.has_image()  # every pane on the frame


def test_playing_analyses_frames_newest_first_and_pause_holds_one(qtbot, window, clip, model):
    open_clip(qtbot, window, clip)
    window.tree.select_layer("features.4")
    qtbot.waitUntil(lambda: window.grid_title.text().startswith("features.4") and settled(window.backend),
                    timeout=20000)
    rates = []
    window.message.connect(lambda text: rates.append(text) if text.startswith("analysing") else None)
    window.video.play_button.click()
    assert window.player.is_playing and window.video.play_button.text() == "Pause"
    seen = [wait_shown(qtbot, window, m.FrameAnalysed) for _ in range(4)]
    r = seen[-1]
    # the class table, the grid and the deconvnet pane show this frame, as computed directly
    direct = FrameAnalyser(model, "features.4", window.channel)(Frame(r.request.pixels, 0, 0.0).image())
    assert np.allclose(window.table.values, direct.probs, atol=1e-6)
    assert r.maps.request.layer == "features.4" and window.grid.count() == len(direct.maps) == 64
    assert np.allclose(window.grid._maps, direct.maps, atol=1e-5)
    assert f"features.4 · channel {window.channel}" in window.deconv.info.text()
    assert np.allclose(r.projection.full, _rgb_of(direct.projection), atol=1)
    assert [s.request.index for s in seen] == sorted(s.request.index for s in seen)
    qtbot.waitUntil(lambda: bool(rates), timeout=5000)
    assert re.fullmatch(r"analysing [\d.]+ of [\d.]+ frames/s \(\d+ of \d+ dropped\)"
                        r"(; grid and projection every other frame)?", rates[0])
    with qtbot.waitSignal(window.shown, timeout=20000, check_params_cb=frame_loaded) as got:
        window.video.play_button.click()  # pause
    assert not window.player.is_playing
    held = got.args[0].frame
    assert window.session.input == held and held.index == window.player.last.index
    assert window.video.slider.value() == held.index
    qtbot.wait(300)
    assert window.session.input == held  # nothing played on after the pause


def test_slow_panes_go_to_every_other_frame_and_the_class_table_gets_every_one(qtbot, window, tmp_path, monkeypatch):
    """A projection that takes 0.3 s against a 10 fps clip (0.1 s a frame): the grid and the projection come
    with every other analysed frame, the probabilities with every one, and the status line says so."""
    import time

    slow = FrameAnalyser.__call__

    def slower(self, x):
        if self.channel is not None:
            time.sleep(0.3)  # a machine three times too slow for this clip's panes
        return slow(self, x)

    monkeypatch.setattr(FrameAnalyser, "__call__", slower)
    clip = write_clip(tmp_path / "long.mp4", clip_frames(100), fps=10)
    open_clip(qtbot, window, clip)
    window.tree.select_layer("features.4")
    qtbot.waitUntil(lambda: window.grid_title.text().startswith("features.4") and settled(window.backend),
                    timeout=20000)
    rates, shown = [], []
    window.message.connect(lambda text: rates.append(text) if text.startswith("analysing") else None)
    window.shown.connect(lambda r: shown.append((r, window.table.values.copy(), window.grid.count()))
                         if isinstance(r, m.FrameAnalysed) else None)
    window.play_video()
    qtbot.waitUntil(lambda: len(shown) >= 10 and any(t.endswith("every other frame") for t in rates), timeout=30000)
    window.pause_video()
    text = next(t for t in rates if t.endswith("every other frame"))
    assert re.fullmatch(r"analysing [\d.]+ of [\d.]+ frames/s \(\d+ of \d+ dropped\); "
                        r"grid and projection every other frame", text)
    first_light = next(i for i, (r, _, _) in enumerate(shown) if not r.request.panes)
    later = shown[first_light:]
    assert len(later) >= 6
    for r, table, grid in later:
        assert np.array_equal(table, r.probs)  # the class table: every analysed frame
        assert (r.maps is None) == (r.projection is None) == (not r.request.panes)
        assert grid == 64  # the grid keeps the maps of the frame before
    panes = [r.request.panes for r, _, _ in later]
    assert all(a != b for a, b in zip(panes, panes[1:]))  # grid and projection: every other analysed frame


def _rgb_of(projection):
    from deconvviz.figures.render import projection_rgb

    return projection_rgb(torch.from_numpy(projection))


def test_step_and_the_slider_choose_the_frame(qtbot, window, clip, decoded, model):
    open_clip(qtbot, window, clip)
    with qtbot.waitSignal(window.shown, timeout=20000, check_params_cb=frame_loaded):
        window.video.step_button.click()
    assert window.session.input == FrameInput(str(clip), 1, pytest.approx(0.1))
    with qtbot.waitSignal(window.shown, timeout=20000, check_params_cb=frame_loaded):
        window.video.slider.setValue(20)  # a click or a key on the slider: seek
    assert (window.session.input.index, window.session.input.time_s) == (20, pytest.approx(2.0))
    assert np.array_equal(window.session.image.source, decoded[20].pixels)
    assert np.allclose(window.base_probs, direct_probs(model, decoded[20].pixels), atol=1e-6)
    assert window.video.where.text().startswith("clip.mp4 · frame 20 · 2.00 s")


def test_the_square_stays_on_the_moving_picture(qtbot, window, clip, model):
    open_clip(qtbot, window, clip)
    with qtbot.waitSignal(window.shown, timeout=20000, check_params_cb=lambda r: isinstance(r, m.Occluded)):
        window.canvas.move_to(10, 12)
    square = window.canvas.square + (window.canvas.size,)
    window.play_video()
    r = wait_shown(qtbot, window, m.FrameAnalysed, check=lambda r: r.occluded is not None)
    assert r.request.square == square and window.canvas.square == square[:2]
    x = model.preprocess(Frame(r.request.pixels, 0, 0.0).image()).clone()
    top, left, size = square
    x[..., top:top + size, left:left + size] = model.preprocessing.mean_pixel().reshape(-1, 1, 1)
    with torch.no_grad():
        expected = torch.softmax(model.net(x), 1)[0].numpy()
    assert np.allclose(r.occluded.probs, expected, atol=1e-6)
    assert np.array_equal(window.table.values, r.occluded.probs)
    assert window.occlusion.map_total.text() != "–"
    window.pause_video()


def test_export_while_paused_names_the_video_frame_and_time(qtbot, window, clip, tmp_path):
    open_clip(qtbot, window, clip)
    with qtbot.waitSignal(window.shown, timeout=20000, check_params_cb=frame_loaded):
        window.video.slider.setValue(7)
    qtbot.waitUntil(lambda: settled(window.backend), timeout=20000)
    assert "frame7" in window.suggested_name("grid")
    for pane in ("grid", "deconv", "occlusion"):
        out = tmp_path / f"{pane}.png"
        with qtbot.waitSignal(window.shown, timeout=20000, check_params_cb=lambda r: isinstance(r, m.Exported)):
            window.export_pane(pane, str(out))
        facts = read_facts(out)
        assert (facts["video"], facts["frame"], float(facts["time_s"])) == (str(clip), "7", pytest.approx(0.7))
        assert "clip.mp4 frame 7 at 0.70 s" in facts["Title"] and facts["image"] == "clip.mp4 frame 7 at 0.70 s"
        if pane != "occlusion":  # (the occlusion pane without a square or map has no command, as for an image)
            assert f"--image {clip} --frame 7 " in facts["command"]  # `deconvviz COMMAND --image VIDEO --frame N`


@pytest.mark.parametrize("pane", ["grid", "deconv"])
def test_the_export_of_a_paused_frame_is_the_png_its_command_writes(qtbot, window, clip, tmp_path, pane):
    import shlex

    from deconvviz.cli import main as cli_main

    open_clip(qtbot, window, clip)
    with qtbot.waitSignal(window.shown, timeout=20000, check_params_cb=frame_loaded):
        window.video.slider.setValue(13)
    qtbot.waitUntil(lambda: settled(window.backend), timeout=20000)
    out = tmp_path / f"{pane}.png"
    with qtbot.waitSignal(window.shown, timeout=20000, check_params_cb=lambda r: isinstance(r, m.Exported)):
        window.export_pane(pane, str(out))
    exported = out.read_bytes()
    command = read_facts(out)["command"]
    assert f"--frame 13 --" in command and read_facts(out)["frame"] == "13"
    out.unlink()
    assert cli_main(shlex.split(command)[1:]) == 0  # writes ``out`` again
    assert out.read_bytes() == exported


def test_a_file_that_is_not_a_video_is_a_message_and_keeps_the_image(qtbot, window, clip, tmp_path):
    open_clip(qtbot, window, clip)
    bad = tmp_path / "holiday.mp4"
    bad.write_text("this is not a video\n" * 50)
    pixels, held = window.pixels, window.session.input
    with qtbot.waitSignal(window.message, timeout=10000, check_params_cb=lambda t: "holiday.mp4 is not a video" in t):
        window.open_video(str(bad))
    assert "not a video" in window.banner.text() and window.banner.isVisible()
    assert window.pixels is pixels and window.session.input == held
    with qtbot.waitSignal(window.shown, timeout=20000, check_params_cb=frame_loaded):
        window.player.step()  # the clip is still open and playable
    assert window.session.input.index == 1


def test_a_portrait_video_says_so_and_plays(qtbot, window, tmp_path):
    rotated = rotate_mp4(write_clip(tmp_path / "wide.mp4", clip_frames(8, 64, 48)), tmp_path / "phone.mp4")
    texts = []
    window.message.connect(texts.append)
    loaded = open_clip(qtbot, window, rotated)
    assert loaded.original_size == (48, 64)  # upright: 48 wide, 64 high
    assert any("phone.mp4: 48×64" in t and "portrait" in t for t in texts)


def test_closing_the_window_ends_the_decoder_thread(qtbot, settings, open_window, clip):
    window = open_window(settings)
    open_clip(qtbot, window, clip)
    window.play_video()
    wait_shown(qtbot, window, m.FrameAnalysed)
    thread = window.player._thread
    assert thread.isRunning()
    window.close()
    assert not thread.isRunning() and not window.player.thread_running()


def test_the_app_opens_straight_into_a_video(qtbot, settings, clip):
    from deconvviz.cli import _app_parser
    from deconvviz.gui.main_window import MainWindow

    assert _app_parser().parse_args(["--video", "a.mp4"]).video == "a.mp4"
    assert _app_parser().parse_args(["--camera"]).camera == 0
    assert _app_parser().parse_args(["--camera", "2"]).camera == 2
    window = MainWindow(settings, model="zf-fmnist", video=str(clip))
    qtbot.addWidget(window, before_close_func=lambda w: w.close())
    qtbot.waitUntil(lambda: isinstance(window.session.input, FrameInput) and window.session.image is not None
                    and window.session.image.frame is not None, timeout=20000)
    assert window.session.input.video == str(clip) and not window.video.isHidden()


def test_without_qt_multimedia_the_camera_menu_says_why(qtbot, window, monkeypatch):
    from deconvviz.gui import camera

    window.videos.fill_camera_menu()  # whatever this machine has: cameras, or one disabled line saying why
    actions = window.camera_menu.actions()
    assert actions and (camera.camera_support().cameras or not actions[-1].isEnabled())

    def broken():
        raise ImportError("libpulse.so.0: cannot open shared object file: No such file or directory")

    monkeypatch.setattr(camera, "_multimedia", broken)
    window.camera_menu.aboutToShow.emit()
    (only,) = window.camera_menu.actions()
    assert "libpulse0" in only.text() and not only.isEnabled()
    with qtbot.waitSignal(window.message, timeout=5000, check_params_cb=lambda t: "libpulse0" in t):
        window.open_camera(0)
    assert window.session.input.__class__.__name__ == "ImageInput"


class FakeCamera(QObject):
    """Stands in for CameraFrames: a few frames on a timer, then (when told) the camera goes away."""

    frame = Signal(object)
    failed = Signal(str)

    def __init__(self, number=0, parent=None):
        super().__init__(parent)
        self.index = 0
        self.timer = QTimer(self, interval=40)
        self.timer.timeout.connect(self._tick)

    def start(self):
        self.timer.start()

    def _tick(self):
        pixels = clip_frames(1 + self.index % 8, 40, 30)[-1]
        self.frame.emit(Frame(pixels, self.index, self.index * 0.04))
        self.index += 1

    def unplug(self):
        self.timer.stop()
        self.failed.emit("camera 0 stopped (unplugged?)")

    def stop(self):
        self.timer.stop()


def test_a_camera_that_goes_away_is_a_message_and_keeps_its_last_frame(qtbot, window, monkeypatch):
    from deconvviz.gui import camera

    monkeypatch.setattr(camera, "camera_support", lambda: camera.CameraSupport(("Test camera",), None))
    monkeypatch.setattr(camera, "CameraFrames", FakeCamera)
    window.videos.fill_camera_menu()
    (action,) = window.camera_menu.actions()
    assert action.text() == "Test camera" and action.isEnabled()
    action.trigger()
    assert window.player.is_playing and not window.video.slider.isVisible()
    wait_shown(qtbot, window, m.FrameAnalysed)
    with qtbot.waitSignal(window.shown, timeout=20000, check_params_cb=frame_loaded) as got:
        window.player.camera.unplug()
    assert "unplugged" in window.last_error and not window.player.is_playing
    assert got.args[0].frame == window.session.input and window.session.input.video == "Test camera"
    assert window.session.input.index == window.player.last.index


def test_the_ui_thread_never_blocks_while_a_video_plays(qtbot, window, clip, app_heap):
    """A 5 ms heartbeat keeps firing while frames are decoded, analysed and shown and the square is dragged
    over the moving picture: its worst gap stays within allowed_stall of the same heartbeat idle (before,
    a fixed 50 ms bound that flaked on 2 loaded cores)."""
    open_clip(qtbot, window, clip)
    window.tree.select_layer("features.4")
    qtbot.waitUntil(lambda: settled(window.backend), timeout=20000)
    shown = []
    window.shown.connect(lambda r: shown.append(r) if isinstance(r, m.FrameAnalysed) else None)
    idle = idle_heartbeat(qtbot)
    with StallMeter(busy=window.backend.busy) as meter:
        window.play_video()
        h, w = window.pixels.shape[:2]
        for i in range(120):
            window.canvas.move_to(h / 2, (i * 2) % w)
            qtbot.wait(20)
    delivered = window.video_rate.delivered
    window.pause_video()
    assert len(shown) > 10 and sum(meter.busy) > 20, "hardly any frame was analysed: the test measured nothing"
    print(f"\nworst UI gap while playing: {meter.longest:.0f} ms over {len(meter.gaps)} ticks (idle {idle:.0f} ms); "
          f"{len(shown)} frames shown of {delivered} delivered")
    assert meter.longest < allowed_stall(idle), f"the UI thread blocked for {meter.longest:.0f} ms (idle {idle:.0f})"


def test_an_analysis_view_works_on_the_frame_paused_on(qtbot, window, clip, model, decoded, tmp_path):
    from analyses_helpers import export_and_read, open_from_menu, wait_for

    from deconvviz.analyses.actmax import class_saliency

    open_clip(qtbot, window, clip)
    with qtbot.waitSignal(window.shown, timeout=20000, check_params_cb=frame_loaded):
        window.video.slider.setValue(12)
    view = open_from_menu(window, "saliency")
    wait_for(qtbot, view, lambda: view.panel is not None and "frame 12" in view.panel.caption)
    x = model.preprocess(Frame(decoded[12].pixels, 12, 1.2).image())
    from deconvviz.figures.saliency import saliency_panel

    expected = saliency_panel(model, x, class_saliency(model, x, None), "clip.mp4 frame 12 at 1.20 s", "")
    assert view.panel.caption == expected.caption and np.array_equal(view.panel.pixels, expected.pixels)
    _, facts = export_and_read(qtbot, view, tmp_path / "saliency.png")
    assert (facts["video"], facts["frame"]) == (str(clip), "12")
    assert f"--image {clip} --frame 12 --out {tmp_path / 'saliency.png'}" in facts["command"]


def test_invariance_runs_on_the_frame_paused_on_and_its_command_reads_that_frame(qtbot, window, clip, model, decoded,
                                                                                 tmp_path):
    from analyses_helpers import export_and_read, open_from_menu, wait_for

    open_clip(qtbot, window, clip)
    with qtbot.waitSignal(window.shown, timeout=20000, check_params_cb=frame_loaded):
        window.video.slider.setValue(5)
    view = open_from_menu(window, "invariance")
    wait_for(qtbot, view, lambda: view.result is not None and view.result.names == ["clip.mp4 frame 5 at 0.50 s"])
    with torch.no_grad():
        p = torch.softmax(model.net(model.preprocess(decoded[5].image())), 1)[0]
    _, probs = view.curve(2)
    assert probs[view.result.amounts.index(0.0)] == pytest.approx(float(p.max()), abs=1e-4)  # that frame, untransformed
    _, facts = export_and_read(qtbot, view, tmp_path / "invariance.png")
    assert f"--images {clip} --frame 5 --transform translate" in facts["command"]
    assert facts["images"] == "clip.mp4 frame 5 at 0.50 s"


def test_correspondence_takes_the_frame_paused_on_first_and_its_command_writes_the_same(qtbot, window, clip, tmp_path):
    import shlex

    from analyses_helpers import export_and_read, open_from_menu, run_and_wait, wait_for
    from PIL import Image

    from deconvviz.cli import main as cli_main

    open_clip(qtbot, window, clip)
    with qtbot.waitSignal(window.shown, timeout=20000, check_params_cb=frame_loaded):
        window.video.slider.setValue(3)
    view = open_from_menu(window, "correspondence")
    wait_for(qtbot, view, lambda: view.list.count() == 5)
    view.add_main_image()
    wait_for(qtbot, view, lambda: view.list.count() == 6)
    assert view.images[0] == str(clip) and view.list.item(0).text() == "clip.mp4 frame 3 at 0.30 s"
    for part in view.part_names():
        view.set_box(str(clip), part, [4, 4, 12, 12])
    view.random.setValue(0)
    assert run_and_wait(qtbot, view, "correspondence", view.run) == "correspondence"
    pixels, facts = export_and_read(qtbot, view, tmp_path / "parts.png")
    assert f"--images {clip} " in facts["command"] and " --frame 3 " in facts["command"]
    assert facts["images"].startswith("clip.mp4 frame 3 at 0.30 s,")
    again = tmp_path / "again"
    argv = [a.replace(str(tmp_path / "parts.png"), f"{again}.png").replace(str(tmp_path / "parts.csv"), f"{again}.csv")
            for a in shlex.split(facts["command"])]
    assert cli_main(argv[1:]) == 0
    assert np.array_equal(np.asarray(Image.open(f"{again}.png").convert("RGB")), pixels)
    assert (tmp_path / "again.csv").read_text() == (tmp_path / "parts.csv").read_text()


def press_space(qtbot, window):
    from PySide6.QtCore import Qt

    window.activateWindow()
    qtbot.keyClick(window.grid, Qt.Key.Key_Space)


def test_space_plays_and_pauses_and_says_so_when_no_video_is_open(qtbot, window, clip):
    said = []
    window.message.connect(said.append)
    press_space(qtbot, window)
    assert not window.player.is_playing and any("no video open" in text for text in said)
    open_clip(qtbot, window, clip)
    press_space(qtbot, window)
    assert window.player.is_playing and window.video.play_button.text() == "Pause"
    wait_shown(qtbot, window, m.FrameAnalysed)
    press_space(qtbot, window)
    assert not window.player.is_playing and window.video.play_button.text() == "Play"


def test_the_class_box_follows_each_frames_top_class_while_ticked(qtbot, window, clip):
    open_clip(qtbot, window, clip)
    other = (int(np.argmax(window.base_probs)) + 1) % 10
    window.occlusion.target.setCurrentIndex(other)  # the user's class: not the top one
    assert window.target == other
    window.occlusion.follow_top.click()
    assert window.session.follow_top
    window.video.play_button.click()
    for _ in range(3):
        r = wait_shown(qtbot, window, m.FrameAnalysed)
        top = int(np.argmax(r.probs))
        assert window.target == top and window.occlusion.target.currentIndex() == top
        assert window.occlusion.target_prob.text() == f"{float(r.probs[top]):.4f}"
    window.video.play_button.click()
    chosen = (window.target + 1) % 10
    window.occlusion.target.setCurrentIndex(chosen)  # choosing a class yourself stops following
    assert window.target == chosen and not window.occlusion.follow_top.isChecked()
