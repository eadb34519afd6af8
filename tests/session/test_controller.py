"""The main window's controller without Qt: its dispatch tables are complete, and it keeps the session's
invariants (a channel always belongs to the current layer; a result for an old input is never applied)."""

from __future__ import annotations

import dataclasses
import inspect

import numpy as np
import pytest

from deconvviz.data.images import default_photo, sample_photos
from deconvviz.session import messages as m
from deconvviz.session.compute import HANDLERS
from deconvviz.session.controller import NOT_MAIN, RESULTS, Controller, Screen
from deconvviz.session.runner import Runner
from deconvviz.session.state import Session, Square


def message_types(base):
    """Return every concrete dataclass in session/messages.py that derives from ``base`` (not ``base``)."""
    return {obj for _, obj in inspect.getmembers(m, inspect.isclass)
            if issubclass(obj, base) and obj is not base and dataclasses.is_dataclass(obj)}


def test_every_request_type_has_a_compute_handler():
    missing = message_types(m.Request) - set(HANDLERS)
    assert not missing, f"no Compute handler in HANDLERS for {sorted(t.__name__ for t in missing)}"


def test_every_result_type_has_a_result_handler():
    missing = message_types(m.Result) - set(RESULTS) - set(NOT_MAIN)
    assert not missing, f"no entry in controller.RESULTS for {sorted(t.__name__ for t in missing)}"
    assert not set(RESULTS) & set(NOT_MAIN)


def test_every_screen_method_is_a_noop_to_override():
    calls = [name for name, fn in inspect.getmembers(Screen, inspect.isfunction) if not name.startswith("_")]
    assert {"model_loaded", "image_loaded", "maps", "projection", "occluded", "frame", "occlusion_map"} <= set(calls)


class Recorder(Screen):
    """A screen that records what it is shown."""

    def __init__(self):
        self.calls = []

    def __getattribute__(self, name):
        attr = object.__getattribute__(self, name)
        if name in Screen.__dict__ and callable(attr) and not name.startswith("_"):
            def record(*args):
                self.calls.append((name, args))
                return attr(*args)
            return record
        return attr

    def kinds(self):
        return [name for name, _ in self.calls]


@pytest.fixture
def app():
    """A controller on a synchronous runner (each request answered inside submit), zf-fmnist and coffee loaded."""
    runner = Runner("cpu")
    session = Session()
    screen = Recorder()
    sent = []

    def submit(request):
        sent.append(request)
        runner.submit(request)

    c = Controller(session, submit, runner.generations, "cpu", screen, "zf-fmnist", str(default_photo()))
    runner.on_result = c.on_result
    c.observe()
    c.sent = sent
    c.open_model("zf-fmnist")
    c.open_image(str(default_photo()))
    assert session.loaded.name == "zf-fmnist" and session.image is not None
    assert session.layer == "features.0" and session.channel is not None
    return c


def test_a_new_layer_clears_the_channel_and_its_maps_choose_a_valid_one(app):
    s = app.session
    app.choose_layer("features.8")
    app.choose_channel(100)
    assert s.channel == 100
    seen = []
    s.events.channel.connect(lambda channel: seen.append((s.layer, channel)))
    app.choose_layer("features.4")  # 64 channels
    assert all(channel is None or channel < 64 for layer, channel in seen if layer == "features.4")
    assert s.layer == "features.4" and s.channel is not None and s.channel < 64
    failed = [r for r in app.sent if isinstance(r, (m.Project, m.Occlude)) and r.layer == "features.4"
              and r.channel is not None and r.channel >= 64]
    assert not failed


def test_a_channel_out_of_range_is_never_set(app):
    s = app.session
    app.choose_layer("features.4")
    before = s.channel
    app.choose_channel(64)
    assert s.channel == before and "no channel 64" in s.status


def test_a_layer_written_by_someone_else_drops_a_channel_it_does_not_have(app):
    s = app.session
    app.choose_layer("features.8")
    app.choose_channel(120)
    s.layer = "features.0"  # an analysis view writing the session directly: 32 channels
    assert s.channel is None or s.channel < 32


def test_a_result_for_an_old_input_is_never_applied(app):
    s = app.session
    layer = s.layer
    old = app.tracker.stamp(lambda g: m.LayerMaps(g, layer))  # asked for, answered late
    app.open_image(str(sample_photos()[1]))
    image = s.image
    late = m.MapsReady(old, np.zeros((32, 2, 2), np.float32), np.zeros(32, np.float32), (0.0, 1.0), None)
    calls = len(app.screen.calls)
    assert not app.on_result(late)
    assert len(app.screen.calls) == calls and s.image is image


def test_an_answer_older_than_the_newest_of_its_kind_is_dropped(app):
    s = app.session
    first = app.tracker.stamp(lambda g: m.Project(g, s.layer, 0))
    app.tracker.stamp(lambda g: m.Project(g, s.layer, 1))
    result = m.ProjectionReady(first, None, np.zeros((2, 2, 3)), np.zeros((1, 1, 3)),
                               np.zeros((1, 1, 3)), (), ())
    assert not app.on_result(result)


def test_a_playing_frame_answered_after_the_pause_is_dropped(app):
    request = app.tracker.stamp(lambda g: m.AnalyseFrame(g, "clip.mp4", 3, 0.3, None))
    result = m.FrameAnalysed(request, np.zeros((28, 28, 3), np.uint8), np.full(10, 0.1), None, None, None)
    assert not app.on_result(result)  # not playing
    app.playing = lambda: True
    assert app.on_result(result)


def test_following_the_top_class_sets_the_target_from_each_frame_until_the_user_chooses_one(app):
    s = app.session
    app.playing = lambda: True
    probs = np.full(10, 0.05)
    probs[7] = 0.55

    def frame_answer(index):
        request = app.tracker.stamp(lambda g: m.AnalyseFrame(g, "clip.mp4", index, index / 10, None))
        return m.FrameAnalysed(request, np.zeros((28, 28, 3), np.uint8), probs, None, None, None)

    app.choose_target(2)
    assert app.on_result(frame_answer(1)) and s.target == 2  # not following: the user's class stays
    s.follow_top = True
    assert app.on_result(frame_answer(2)) and s.target == 7
    app.choose_target(3)
    assert s.target == 3 and not s.follow_top
    assert app.on_result(frame_answer(3)) and s.target == 3


def test_the_same_model_while_it_loads_is_asked_for_once():
    sent = []
    c = Controller(Session(), sent.append)
    c.open_model("zf-fmnist")
    c.open_model("zf-fmnist")
    c.open_model(" zf-fmnist ")
    assert [type(r) for r in sent] == [m.LoadModel]


def test_a_model_that_fails_keeps_the_loaded_one_and_says_why(app):
    s = app.session
    app.open_model("no-such-model")
    assert s.loaded.name == "zf-fmnist" and s.model.name == "zf-fmnist"
    assert "unknown model" in s.status
    assert ("model_reverted", ("zf-fmnist",)) in app.screen.calls


def test_a_remembered_model_that_no_longer_loads_falls_back_to_the_default():
    runner = Runner("cpu")
    session = Session()
    c = Controller(session, runner.submit, runner.generations, "cpu", Screen(), "zf-fmnist", str(default_photo()))
    runner.on_result = c.on_result
    c.observe()
    c.open_model("gone-model")
    assert session.loaded is not None and session.loaded.name == "zf-fmnist"


def test_the_square_asks_approximately_while_dragged_and_exactly_when_it_stops(app):
    app.dragging = lambda: True
    app.choose_square(Square(4, 4, 6))
    assert app.last_occlude.approximate
    app.dragging = lambda: False
    app.square_stopped()
    assert not app.last_occlude.approximate
    assert app.screen.kinds().count("occluded") >= 1


def test_exporting_with_nothing_to_export_is_a_message(tmp_path):
    screen = Recorder()
    c = Controller(Session(), lambda r: None, screen=screen)
    assert c.export("deconv", str(tmp_path / "x.png")) is None
    assert screen.calls[-1][0] == "error" and "nothing to export" in screen.calls[-1][1][0]


def test_an_export_writes_the_pane(app, tmp_path):
    out = tmp_path / "grid.png"
    app.export("grid", str(out), (("sort", "index"), ("filters", False)))
    assert out.is_file() and app.session.status == f"wrote {out}"
    assert app.suggested_name("deconv").startswith("zf-fmnist_coffee_features.0_ch")
