"""The live square at the chooser's level: each moving answer is computed at the level the answer-time budget
picks (the engine's projective-field threshold), timed into that level's cost, and named in the result."""

from __future__ import annotations

import numpy as np

from deconvviz.data.images import default_photo
from deconvviz.engine.occlusion_ladder import LADDER, Level
from deconvviz.models import load_model
from deconvviz.session import messages as m
from deconvviz.session.budget import LevelChooser
from deconvviz.session.occlusion_adapter import Occluder

from .test_compute import loaded_compute


class TickingClock:
    """A fake clock that moves ``tick`` seconds every time it is read: every timed answer costs one tick."""

    def __init__(self, tick: float) -> None:
        self.now, self.tick = 0.0, tick

    def __call__(self) -> float:
        self.now += self.tick
        return self.now


def _occluder(tick_s: float, levels=LADDER):
    model = load_model("zf-fmnist")
    from deconvviz.data.images import load_image

    x = model.preprocess(load_image(default_photo()))
    chooser = LevelChooser(levels, budget_ms=16, clock=TickingClock(tick_s))
    return Occluder(model.net, x, model.preprocessing.mean_pixel(), chooser=chooser), chooser


def test_moving_answers_over_budget_step_down_the_ladder_and_equal_the_engine_at_that_level():
    occluder, chooser = _occluder(tick_s=0.030)  # every answer "costs" 30 ms: over a 16 ms budget
    layer = "features.4"
    session = occluder.session(layer, 2)
    used = []
    for col in range(len(LADDER) + 2):
        probs, total = occluder.occlude(5, col, 6, layer, 2, approximate=True, budget_ms=16)
        level = occluder.last_level
        used.append(level)
        expected, expected_total = session.occlude(5, col, 6, approximate=False if level.exact else level.field)
        np.testing.assert_array_equal(probs, expected)
        assert total == expected_total
    assert used == list(LADDER) + [LADDER[-1]] * 2  # one step per answer, never past the last level
    assert all(cost is not None for cost in chooser.cost)


def test_an_exact_answer_is_exact_and_timed_as_the_exact_level_whatever_the_choice():
    occluder, chooser = _occluder(tick_s=0.030)
    for col in range(3):
        occluder.occlude(5, col, 6, "features.4", 2, approximate=True)
    assert chooser.index == 3
    probs, _ = occluder.occlude(5, 9, 6, "features.4", 2, approximate=False)
    assert occluder.last_level.exact and chooser.index == 3
    np.testing.assert_array_equal(probs, occluder.session("features.4", 2).occlude(5, 9, 6)[0])


def test_a_cheap_model_under_budget_is_answered_exactly_while_moving():
    occluder, chooser = _occluder(tick_s=0.001)
    for col in range(5):
        occluder.occlude(5, col, 6, "features.4", 2, approximate=True, budget_ms=16)
        assert occluder.last_level == Level(1.0)


def test_compute_names_the_level_in_the_result_and_takes_the_budget_from_the_request():
    compute = loaded_compute()
    levels = []
    for g in range(3, 3 + len(LADDER) + 1):  # a budget no answer can meet: one step down per answer
        (r,) = compute.handle(m.Occlude(g, 5, g, 6, "features.4", 2, approximate=True, budget_ms=1e-6))
        assert isinstance(r, m.Occluded) and r.approximate == (r.level != "exact")
        levels.append(r.level)
    assert levels == [level.describe() for level in LADDER] + [LADDER[-1].describe()]
    (r,) = compute.handle(m.Occlude(20, 5, 9, 6, "features.4", 2, approximate=False))
    assert not r.approximate and r.level == "exact"


def test_a_bad_budget_in_a_request_is_a_message():
    compute = loaded_compute()
    (r,) = compute.handle(m.Occlude(3, 5, 5, 6, "features.4", 2, approximate=True, budget_ms=0))
    assert isinstance(r, m.Failed) and "budget must be a positive number" in r.message
