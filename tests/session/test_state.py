"""The session model: setters emit only on change, blocking and batching, unknown fields refused; no Qt."""

from __future__ import annotations

import numpy as np
import pytest

from deconvviz.session.state import ImageFacts, ImageInput, ModelChoice, Session, Square


def recorder(session, *names):
    got = []
    for name in names:
        session.events.__getattr__(name).connect(lambda v, n=name: got.append((n, v)))
    return got


def test_a_setter_emits_the_new_value_once_and_only_on_change():
    session = Session()
    got = recorder(session, "layer", "channel")
    session.layer = "features.4"
    session.layer = "features.4"  # unchanged: nothing
    session.channel = 3
    session.channel = 3
    session.model = ModelChoice("zf-fmnist")
    session.model = ModelChoice("zf-fmnist")  # equal dataclass: unchanged
    assert got == [("layer", "features.4"), ("channel", 3)]
    assert session.layer == "features.4" and session.channel == 3


def test_callbacks_run_in_connection_order_and_can_be_disconnected():
    session = Session()
    got = []
    first = session.events.target.connect(lambda v: got.append(("first", v)))
    session.events.target.connect(lambda v: got.append(("second", v)))
    session.target = 5
    session.events.target.disconnect(first)
    session.target = 6
    assert got == [("first", 5), ("second", 5), ("second", 6)]


def test_blocked_changes_values_without_emitting():
    session = Session()
    got = recorder(session, "square", "mode")
    with session.events.blocked():
        session.square = Square(1, 2, 8)
        session.mode = "guided"
    with session.events.square.blocked():
        session.square = None
    session.mode = "backprop"
    assert got == [("mode", "backprop")]
    assert session.square is None


def test_a_batch_emits_each_changed_field_once_with_its_final_value():
    session = Session(layer="a")
    got = recorder(session, "layer", "channel", "target")
    with session.events.batch():
        session.layer = "b"
        session.channel = 1
        session.channel = 2
        session.target = 4
        session.target = 0  # back to where it was: no event
        assert got == []
    assert got == [("layer", "b"), ("channel", 2)]
    session.update(layer="c", channel=2)
    assert got[-1] == ("layer", "c") and len(got) == 3


def test_a_callback_can_write_another_field_and_sees_consistent_values():
    session = Session()
    seen = []
    session.events.layer.connect(lambda layer: setattr(session, "channel", None))
    session.events.channel.connect(lambda channel: seen.append((session.layer, channel)))
    session.channel = 4
    session.layer = "x"
    assert seen == [(None, 4), ("x", None)]


def test_arrays_compare_by_identity_and_unknown_fields_are_refused():
    session = Session()
    got = recorder(session, "image")
    facts = ImageFacts("a.png", np.zeros((2, 2, 3), np.uint8), np.array([0.2, 0.8], np.float32), (2, 2), (0, 0, 0))
    session.image = facts
    session.image = facts
    session.image = ImageFacts("a.png", facts.pixels, facts.probs, (2, 2), (0, 0, 0))  # a new load: emits
    assert len(got) == 2 and session.image.top_class == 1
    with pytest.raises(AttributeError, match="no field 'layr'"):
        session.layr = "x"
    with pytest.raises(TypeError, match="unknown session fields"):
        Session(colour="red")
    with pytest.raises(AttributeError, match="no event"):
        session.events.nothing


def test_model_args_and_input():
    session = Session(input=ImageInput("coffee.png"))
    assert session.model_args() == ("", None) and session.device() == "cpu"
    session.model = ModelChoice("zf-fmnist", None, "cuda")
    assert session.device() == "cuda" and session.input.path == "coffee.png"
