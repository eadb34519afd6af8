"""The answer-time budget of the live square: which level of the ladder a moving square is answered at.

:class:`LevelChooser` learns each level's cost on this machine from the answers it times (an exponential
moving average per level; no benchmark at start-up) and keeps the most accurate level whose cost fits the
budget: it starts at the ladder's first level (exact), steps one level down after an answer that does not
fit, and one level up when the answers are well under budget and the level above last fitted (or was last
timed so long ago that the machine's load may have changed: then its old cost is replaced by the new timing
rather than averaged with it).

A cost fits when it is at most :data:`FIT` of the budget: the budget is the time of one update of the
square, and the rest of it goes to what follows the answer (the hand-over to the window and its repaint)
and to the answers slower than the average (bench.live_occlusion: with answers at 14 ms, just under a
16 ms budget, the square updated 57 times a second, not 60).
"""

from __future__ import annotations

import time
from typing import Callable, TypeVar

from ..engine.occlusion_ladder import LADDER, Level
from ..errors import DeconvvizError

T = TypeVar("T")

DEFAULT_BUDGET_MS = 16.0
"""The live square's default answer-time budget: one frame at 60 Hz."""

FIT = 0.85
"""The fraction of the budget a level's cost may take and still fit (module docstring)."""


def budget_setting(value) -> float:
    """Return the answer-time budget (ms) a stored setting holds (a number or its text): the default where it is
    unset or not a positive number."""
    try:
        budget = float(value)
    except (TypeError, ValueError):
        return DEFAULT_BUDGET_MS
    return budget if budget > 0 else DEFAULT_BUDGET_MS  # NaN fails the comparison too


class LevelChooser:
    """Picks the level for each moving answer from ``levels`` (most accurate first) and ``budget_ms``.

    ``clock()`` returns seconds (tests pass a fake one). ``alpha`` weighs a new timing in a level's moving
    average; ``fit``: a cost fits when it is at most this fraction of the budget (:data:`FIT`); ``headroom``:
    answers cheaper than this fraction of the budget may step up; ``retry_s``: a level above whose cost is
    older than this is tried again (the load may have dropped).
    """

    def __init__(self, levels=LADDER, budget_ms: float = DEFAULT_BUDGET_MS, clock: Callable[[], float] = time.perf_counter,
                 alpha: float = 0.3, headroom: float = 0.6, retry_s: float = 2.0, fit: float = FIT) -> None:
        self.levels: tuple[Level, ...] = tuple(levels)
        if not self.levels:
            raise DeconvvizError("the ladder of occlusion levels is empty")
        self.budget_ms = budget_ms
        if not 0 < headroom <= fit <= 1:
            raise DeconvvizError(f"the chooser needs 0 < headroom <= fit <= 1, got headroom {headroom:g}, fit {fit:g}")
        self.clock, self.alpha, self.headroom, self.retry_s, self.fit = clock, alpha, headroom, retry_s, fit
        self.cost: list[float | None] = [None] * len(self.levels)  # seconds, moving average
        self.timed_at: list[float | None] = [None] * len(self.levels)
        self.index = 0

    @property
    def budget_ms(self) -> float:
        """Return the budget per answer in milliseconds."""
        return self._budget_ms

    @budget_ms.setter
    def budget_ms(self, value: float) -> None:
        value = float(value)
        if not value > 0:
            raise DeconvvizError(f"the answer-time budget must be a positive number of milliseconds, got {value:g}")
        self._budget_ms = value

    @property
    def level(self) -> Level:
        """Return the level the next moving answer uses."""
        return self.levels[self.index]

    def record(self, index: int, seconds: float) -> None:
        """Learn that an answer at level ``index`` took ``seconds``; step the chosen level down or up by it."""
        now = self.clock()
        old, at = self.cost[index], self.timed_at[index]
        stale = old is None or now - at >= self.retry_s  # a cost from another load is forgotten, not averaged in
        self.cost[index] = seconds if stale else old + self.alpha * (seconds - old)
        self.timed_at[index] = now
        if index != self.index:  # an exact answer after a drag: it refreshes the exact level's cost only
            return
        budget = self._budget_ms / 1000
        fits = self.fit * budget
        if self.cost[index] > fits and index + 1 < len(self.levels):
            self.index += 1
        elif self.cost[index] < self.headroom * budget and index > 0:
            above, at = self.cost[index - 1], self.timed_at[index - 1]
            if above is None or above <= fits or now - at >= self.retry_s:
                self.index -= 1

    def timed(self, index: int, answer: Callable[[], T]) -> T:
        """Return ``answer()``, having recorded how long it took as a level-``index`` answer."""
        start = self.clock()
        value = answer()
        self.record(index, self.clock() - start)
        return value
