"""The live square's level chooser, on a fake clock: it steps down over budget, up when well under, never past
the ladder's ends, and learns costs only from the answers it times."""

from __future__ import annotations

import pytest

from deconvviz.engine.occlusion_ladder import LADDER, Level
from deconvviz.errors import DeconvvizError
from deconvviz.session.budget import DEFAULT_BUDGET_MS, FIT, LevelChooser, budget_setting


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


LEVELS = (Level(1.0), Level(0.5), Level(0.2), Level(0.1))


def _answer(chooser, clock, costs_ms, gap_s=0.01):
    """Time one moving answer at the chooser's level, costing ``costs_ms[level index]`` on the fake clock."""
    index = chooser.index

    def work():
        clock.now += costs_ms[index] / 1000
        return index

    assert chooser.timed(index, work) == index
    clock.now += gap_s
    return index


def test_it_starts_exact_and_stays_there_when_exact_fits():
    clock = FakeClock()
    chooser = LevelChooser(LEVELS, budget_ms=16, clock=clock)
    assert chooser.level == Level(1.0) and chooser.cost == [None] * 4  # nothing learned before an answer
    used = [_answer(chooser, clock, [10, 8, 6, 5]) for _ in range(20)]
    assert used == [0] * 20
    assert chooser.cost[0] == pytest.approx(0.010)


def test_it_steps_down_one_level_per_answer_over_budget_and_stops_at_the_first_that_fits():
    clock = FakeClock()
    chooser = LevelChooser(LEVELS, budget_ms=16, clock=clock)
    used = [_answer(chooser, clock, [40, 25, 12, 9]) for _ in range(10)]
    assert used[:3] == [0, 1, 2] and set(used[2:]) == {2}  # 12 ms fits 16; 12 > 0.6 * 16: no step up
    assert chooser.cost[0] == pytest.approx(0.040) and chooser.cost[1] == pytest.approx(0.025)


def test_a_cost_just_under_the_budget_does_not_fit_it_leaves_room_for_the_repaint():
    clock = FakeClock()
    chooser = LevelChooser(LEVELS, budget_ms=16, clock=clock)
    assert chooser.fit == FIT == 0.85
    used = [_answer(chooser, clock, [14, 10, 6, 5]) for _ in range(8)]  # 14 ms > 0.85 * 16 = 13.6 ms
    assert used[:2] == [0, 1] and set(used[1:]) == {1}  # 10 ms fits; 10 > 0.6 * 16: no step back up
    loose = LevelChooser(LEVELS, budget_ms=16, clock=clock, fit=1.0)
    assert [_answer(loose, clock, [14, 10, 6, 5]) for _ in range(4)] == [0] * 4


@pytest.mark.parametrize("headroom, fit", [(0.9, 0.8), (0.5, 1.5), (0, 0.8)])
def test_a_headroom_above_the_fit_is_refused(headroom, fit):
    with pytest.raises(DeconvvizError, match="headroom"):
        LevelChooser(LEVELS, headroom=headroom, fit=fit)


def test_it_never_goes_below_the_last_level():
    clock = FakeClock()
    chooser = LevelChooser(LEVELS, budget_ms=1, clock=clock)
    used = [_answer(chooser, clock, [40, 30, 20, 10]) for _ in range(10)]
    assert used[:4] == [0, 1, 2, 3] and set(used[3:]) == {3}
    assert chooser.level == LEVELS[-1]


def test_it_steps_up_when_well_under_budget_and_the_level_above_fits():
    clock = FakeClock()
    chooser = LevelChooser(LEVELS, budget_ms=16, clock=clock)
    heavy, light = [40, 30, 20, 9], [12, 8, 6, 4]
    used = [_answer(chooser, clock, heavy) for _ in range(5)]
    assert used[-1] == 3
    # the load drops: level 3 is now well under budget, but the level above cost 20 ms a moment ago
    assert _answer(chooser, clock, light) == 3 and chooser.index == 3
    clock.now += 2.0  # long enough that the costs above are stale: try again
    used = [_answer(chooser, clock, light) for _ in range(6)]
    assert used[:4] == [3, 2, 1, 0] and set(used[3:]) == {0}


def test_a_level_that_went_over_budget_is_not_retried_before_its_cost_goes_stale():
    clock = FakeClock()
    chooser = LevelChooser(LEVELS, budget_ms=16, clock=clock, retry_s=2.0)
    costs = [30, 8, 6, 4]  # level 1 at 8 ms is under 0.6 * 16 = 9.6 ms: it would like to step up
    used = [_answer(chooser, clock, costs, gap_s=0.05) for _ in range(30)]  # 30 answers over 1.5 s
    assert used[0] == 0 and set(used[1:]) == {1}
    clock.now += 1.0
    assert _answer(chooser, clock, costs) == 1 and chooser.index == 0  # stale now: one try at exact
    assert _answer(chooser, clock, costs) == 0 and chooser.index == 1  # still 30 ms: back down


def test_answers_at_another_level_refresh_its_cost_without_moving_the_choice():
    clock = FakeClock()
    chooser = LevelChooser(LEVELS, budget_ms=16, clock=clock)
    for _ in range(3):
        _answer(chooser, clock, [40, 30, 12, 9])
    assert chooser.index == 2
    chooser.timed(0, lambda: setattr(clock, "now", clock.now + 0.050))  # the exact answer on release
    assert chooser.index == 2 and chooser.cost[0] == pytest.approx(0.040 + 0.3 * (0.050 - 0.040))


def test_the_default_ladder_and_budget():
    chooser = LevelChooser()
    assert chooser.levels == LADDER and chooser.levels[0].exact and chooser.budget_ms == DEFAULT_BUDGET_MS == 16


@pytest.mark.parametrize("budget", [0, -5, float("nan")])
def test_a_bad_budget_is_refused_in_one_line(budget):
    with pytest.raises(DeconvvizError, match="budget must be a positive number"):
        LevelChooser(LEVELS, budget_ms=budget)


def test_an_empty_ladder_is_refused():
    with pytest.raises(DeconvvizError, match="empty"):
        LevelChooser(())


@pytest.mark.parametrize("stored, budget", [(None, 16.0), ("8", 8.0), (33.5, 33.5), ("0", 16.0), ("-1", 16.0),
                                            ("fast", 16.0), ("nan", 16.0)])
def test_the_stored_setting_reads_as_a_budget_or_the_default(stored, budget):
    assert budget_setting(stored) == budget
