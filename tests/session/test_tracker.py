"""Request generations: stale answers are dropped, a failed reset restores the epoch, live kinds follow the screen."""

from __future__ import annotations

from dataclasses import dataclass

from deconvviz.session.tracker import Generations, Tracker


@dataclass(frozen=True)
class Req:
    generation: int
    kind: str = "maps"

    @property
    def key(self):
        return self.kind


def tracker(generations=None):
    return Tracker(generations, is_reset=lambda r: r.kind == "load", is_live=lambda r: r.kind == "drag")


def test_only_the_newest_request_of_a_kind_is_current():
    t = tracker()
    a = t.stamp(lambda g: Req(g))
    b = t.stamp(lambda g: Req(g))
    other = t.stamp(lambda g: Req(g, "project"))
    assert (a.generation, b.generation, other.generation) == (1, 2, 3)
    assert not t.is_current(a) and t.is_current(b) and t.is_current(other)
    assert t.is_latest(b) and not t.is_latest(a)


def test_a_reset_makes_older_answers_stale_and_a_failed_reset_restores_them():
    t = tracker()
    maps = t.stamp(lambda g: Req(g))
    load = t.stamp(lambda g: Req(g, "load"))
    assert not t.is_current(maps) and t.is_current(load)
    t.failed(load)  # nothing was replaced
    assert t.is_current(maps)
    later = t.stamp(lambda g: Req(g, "load"))
    t.failed(load)  # an older failure does not undo the newer load
    assert t.epoch == later.generation


def test_live_answers_are_current_when_newer_than_the_one_on_screen():
    t = tracker()
    drags = [t.stamp(lambda g: Req(g, "drag")) for _ in range(3)]
    assert t.is_current(drags[0])  # a drag shows answers as they come
    t.show(drags[1])
    assert not t.is_current(drags[0]) and t.is_current(drags[2])


def test_trackers_sharing_generations_never_reuse_one():
    shared = Generations()
    one, two = tracker(shared), tracker(shared)
    got = [one.stamp(lambda g: Req(g)).generation, two.stamp(lambda g: Req(g)).generation,
           one.stamp(lambda g: Req(g)).generation]
    assert got == [1, 2, 3]


def test_a_late_approximate_occlusion_answer_never_replaces_the_exact_one_on_screen():
    """The live square: approximate answers while it moves, one exact when it stops; whatever order they
    arrive in, an approximate answer older than the exact one on screen is not current."""
    from deconvviz.session import messages as m

    t = Tracker(is_reset=lambda r: isinstance(r, m.LoadImage), is_live=lambda r: isinstance(r, m.Occlude))
    moving = [t.stamp(lambda g: m.Occlude(g, 0, i, 4, approximate=True)) for i in range(3)]
    stopped = t.stamp(lambda g: m.Occlude(g, 0, 2, 4, approximate=False))
    assert t.is_current(moving[0])  # a drag shows approximate answers as they come
    t.show(moving[0])
    assert t.is_current(stopped)
    t.show(stopped)
    assert not any(t.is_current(r) for r in moving)  # late approximate answers: dropped
    again = t.stamp(lambda g: m.Occlude(g, 0, 3, 4, approximate=True))
    assert t.is_current(again)  # the square moves again: its answers show
