"""Playback's frame dropping by priority, on a fake clock: the grid and the projection go to every other
analysed frame when a frame carrying them takes longer than the frame interval, the class table keeps every
analysed frame, the alternation survives the runner's coalescing, and every frame carries them again once
they fit."""

from __future__ import annotations

import pytest

from deconvviz.session.playback import PlaybackPlan, rate_text


class FakeClock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def play(plan, clock, frames, interval_s, full_s, light_s):
    """Simulate playback: a frame every ``interval_s``; one worker computing the newest waiting request (a newer
    one replaces the waiting one, as the runner coalesces), a frame with panes costing ``full_s`` and one
    without ``light_s`` (``full_s`` may be a list: the cost of each full answer in turn, the last one repeated).
    Return the analysed requests in order, as (generation, panes)."""
    costs = list(full_s) if isinstance(full_s, (list, tuple)) else [full_s]
    fulls = 0

    def cost(panes):
        return costs[min(fulls, len(costs) - 1)] if panes else light_s

    events = [(i * interval_s, "frame") for i in range(frames)]
    waiting, busy_until, computing, analysed, generation = None, None, None, [], 0
    t = 0.0
    times = sorted(t for t, _ in events)
    i = 0
    while i < len(times) or waiting is not None or computing is not None:
        next_frame = times[i] if i < len(times) else float("inf")
        if computing is not None and busy_until <= next_frame:
            t = busy_until
            clock.now = 50.0 + t
            g, panes = computing
            plan.answered(g, panes, cost(panes))
            fulls += panes
            analysed.append(computing)
            computing = None
        else:
            t = next_frame
            clock.now = 50.0 + t
            i += 1
            panes = plan.next_frame()
            generation += 1
            plan.sent(generation, panes)
            waiting = (generation, panes)  # replaces a waiting one
        if computing is None and waiting is not None:
            computing, waiting = waiting, None
            busy_until = t + cost(computing[1])
    return analysed


def test_every_frame_carries_the_panes_when_they_fit_the_interval():
    clock = FakeClock()
    plan = PlaybackPlan(clock)
    analysed = play(plan, clock, 60, 0.040, full_s=0.030, light_s=0.010)
    assert len(analysed) == 60 and all(panes for _, panes in analysed)
    assert not plan.every_other and plan.skipping(True, True) == ""


def test_slow_panes_go_to_every_other_analysed_frame_and_the_class_table_keeps_up():
    clock = FakeClock()
    plan = PlaybackPlan(clock)
    analysed = play(plan, clock, 100, 0.040, full_s=0.060, light_s=0.010)
    assert plan.every_other
    assert plan.skipping(True, True) == "grid and projection every other frame"
    assert plan.skipping(True, False) == "grid every other frame" and plan.skipping(False, False) == ""
    later = [panes for _, panes in analysed[10:]]
    assert all(a != b for a, b in zip(later, later[1:]))  # strictly alternating, despite the coalescing
    # every analysed frame has its probabilities: a full and a light answer per 70 ms, two frames per 80 ms
    assert len(analysed) >= 90
    without = play(PlaybackPlan(FakeClock()), FakeClock(), 100, 0.040, full_s=0.060, light_s=0.060)
    assert len(without) < 70  # the same frames, every one carrying the panes: a third dropped whole


def test_alternation_holds_when_even_the_light_frames_fall_behind():
    clock = FakeClock()
    plan = PlaybackPlan(clock)
    analysed = play(plan, clock, 100, 0.010, full_s=0.050, light_s=0.020)
    later = [panes for _, panes in analysed[5:]]
    assert plan.every_other and len(later) > 10
    assert all(a != b for a, b in zip(later, later[1:]))


def test_every_frame_carries_the_panes_again_once_they_fit_and_reset_forgets():
    clock = FakeClock()
    plan = PlaybackPlan(clock)
    play(plan, clock, 40, 0.040, full_s=0.060, light_s=0.010)
    assert plan.every_other
    analysed = play(plan, clock, 60, 0.040, full_s=0.020, light_s=0.010)
    assert not plan.every_other and all(panes for _, panes in analysed[-20:])
    play(plan, clock, 40, 0.040, full_s=0.060, light_s=0.010)
    assert plan.every_other
    plan.reset()
    assert not plan.every_other and plan.interval_s is None and plan.next_frame()


def test_a_few_slow_answers_move_the_plan_neither_way():
    """The median of the recent answers decides: two slow first frames (a cold receptive-field table) do not send
    the panes to every other frame, nor do two fast ones bring them back, while a steady cost does either."""
    clock = FakeClock()
    plan = PlaybackPlan(clock)
    analysed = play(plan, clock, 60, 0.040, full_s=[0.150, 0.150, 0.030], light_s=0.010)
    assert not plan.every_other and all(panes for _, panes in analysed[10:])
    assert plan.full_s == pytest.approx(0.030)
    play(plan, clock, 40, 0.040, full_s=0.060, light_s=0.010)
    assert plan.every_other and plan.full_s == pytest.approx(0.060)
    play(plan, clock, 60, 0.040, full_s=[0.020, 0.020, 0.060], light_s=0.010)
    assert plan.every_other  # two fast answers among slow ones: the median is still slow
    play(plan, clock, 40, 0.040, full_s=0.031, light_s=0.010)  # 31 ms: within 0.8 of the 40 ms interval
    assert not plan.every_other


def test_the_panes_come_back_only_below_the_share_of_the_interval():
    clock = FakeClock()
    plan = PlaybackPlan(clock)
    play(plan, clock, 40, 0.040, full_s=0.060, light_s=0.010)
    play(plan, clock, 60, 0.040, full_s=0.033, light_s=0.010)  # fits the interval, not 0.8 of it
    assert plan.every_other
    play(plan, clock, 60, 0.040, full_s=0.030, light_s=0.010)
    assert not plan.every_other


def test_the_interval_is_the_median_of_the_recent_deliveries():
    clock = FakeClock()
    plan = PlaybackPlan(clock, window=4)
    assert plan.interval_s is None
    for gap in (0.04, 0.04, 0.5, 0.04, 0.04):  # one late frame does not move it
        plan.next_frame()
        clock.now += gap
    plan.next_frame()
    assert plan.interval_s == pytest.approx(0.04)


def test_the_status_line_says_what_goes_to_every_other_frame():
    assert rate_text(14.84, 25.0, 3, 50) == "analysing 14.8 of 25.0 frames/s (3 of 50 dropped)"
    assert rate_text(14.84, 25.0, 3, 50, "grid and projection every other frame") == \
        "analysing 14.8 of 25.0 frames/s (3 of 50 dropped); grid and projection every other frame"
