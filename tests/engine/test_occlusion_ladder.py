"""The ladder of live-occlusion levels: its order, its bound, and the error of an answer against the exact one."""

from __future__ import annotations

import numpy as np
import pytest

from deconvviz.engine.occlusion_ladder import (BOUND, CANDIDATES, LADDER, ErrorBound, Level, LevelError, allowed,
                                               answer_error, worst)
from deconvviz.errors import DeconvvizError


def test_the_ladder_runs_from_exact_to_cheaper_fields_and_is_a_prefix_of_the_candidates():
    assert LADDER[0].exact and LADDER == CANDIDATES[:len(LADDER)]
    fields = [level.field for level in LADDER]
    assert fields == sorted(fields, reverse=True) and len(set(fields)) == len(fields)
    assert [level.describe() for level in LADDER[:2]] == ["exact", "field 0.7"]


def test_answer_error_is_the_largest_change_and_the_rank_of_the_exact_top_class():
    exact = np.array([0.6, 0.3, 0.1])
    assert answer_error(exact, exact) == LevelError(0.0, 0)
    e = answer_error(np.array([0.3, 0.45, 0.25]), exact)
    assert e.max_dp == pytest.approx(0.3) and e.worst_rank == 1  # class 0 fell to second
    assert worst([e, LevelError(0.05, 2)]) == LevelError(pytest.approx(0.3), 2)


def test_allowed_stops_at_the_first_level_outside_the_bound():
    levels = (Level(1.0), Level(0.5), Level(0.2), Level(0.1))
    errors = [LevelError(0, 0), LevelError(0.05, 1), LevelError(0.25, 0), LevelError(0.01, 0)]
    assert allowed(levels, errors, ErrorBound(0.2, 2)) == levels[:2]  # 0.1 is fine but below a level that is not
    assert allowed(levels, errors[:2] + [LevelError(0.1, 3)] + errors[3:], ErrorBound(0.2, 2)) == levels[:2]
    assert allowed(levels, [LevelError(0, 0)] * 4, BOUND) == levels


@pytest.mark.parametrize("field", [0, -0.5, 1.5])
def test_a_bad_field_is_refused_in_one_line(field):
    with pytest.raises(DeconvvizError, match="must be in \\(0, 1\\]"):
        Level(field)
