"""The ladder of live-occlusion levels: from the exact answer down to the cheapest approximation allowed.

A moving square is answered at one level of :data:`LADDER` (:class:`~deconvviz.session.budget.LevelChooser`
picks it from the answer-time budget); the exact answer follows when the square stops. Each level is a
projective-field threshold (:class:`~deconvviz.engine.occlusion.Approximation`'s ``field``): the recomputed
box at every convolution and pooling is capped to that fraction of the layer.

The ladder stops where the error passes :data:`BOUND`, or where a level no longer costs clearly less than the
one above it. Measured by ``python -m bench.live_occlusion``
(EfficientNet-Lite0, its default layer, a 32 px square dragged across the middle row of each bundled photo
in 4 px steps, against the exact answer at the same position; see docs/performance.md for the table):
every field down to 0.05 stays inside the bound (the largest |p difference| 0.184, field 0.2 on the cat photo;
the exact top class never below second), and field 0.05 saves only 4-7 % of 0.1's CPU time at the same error
(5.4 against 5.8 ms on 2 shared AVX-512 cores, 6.7 against 7.0 with AVX2): what is left of a cheap answer is
reading every layer's weights once, which no field threshold reduces. So 0.1 is the last level.

Levels below the field thresholds that were measured and left out (docs/performance.md): bfloat16 weights and
activations (a cheap answer's convolutions are bound by reading their weights; 1 x 1 convolutions of 1-4
positions took 1.7x (AVX-512 BF16) and 2.6x (AVX2) their float32 time in bfloat16).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DeconvvizError


@dataclass(frozen=True)
class Level:
    """One way to answer a live square: ``field`` (0, 1] is the projective-field threshold (1: exact)."""

    field: float

    def __post_init__(self):
        if not 0 < self.field <= 1:
            raise DeconvvizError(f"a level's field (the projective-field threshold) must be in (0, 1], got {self.field}")

    @property
    def exact(self) -> bool:
        """Return whether this level computes the exact answer."""
        return self.field == 1

    def describe(self) -> str:
        """Return the level in words: "exact" or "field 0.3"."""
        return "exact" if self.exact else f"field {self.field:g}"


@dataclass(frozen=True)
class ErrorBound:
    """How far a level's answer may be from the exact one: ``max_dp`` the largest |p difference| of any
    class, ``top_rank`` the worst rank (0 = first) the exact answer's top class may fall to."""

    max_dp: float = 0.2
    top_rank: int = 2


BOUND = ErrorBound()
"""max |dp| <= 0.2 and the exact top class kept in the top 3 (a bound of 0.1 would admit no approximate level:
field 0.5, the app's one setting before the ladder, reaches 0.114 on the cat photo)."""

CANDIDATES = (Level(1.0), Level(0.7), Level(0.5), Level(0.3), Level(0.2), Level(0.1), Level(0.05))
"""The levels the benchmark measures, most accurate first."""

LADDER = CANDIDATES[:6]
"""The levels a moving square may use, most accurate first (exact, field 0.7, 0.5, 0.3, 0.2, 0.1): the
candidates within :data:`BOUND` down to the last that costs clearly less than the level above it (module
docstring)."""


@dataclass(frozen=True)
class LevelError:
    """A level's error against the exact answer over a drag: ``max_dp`` the largest |p difference| of any
    class at any position, ``worst_rank`` the lowest rank (0 = first) the exact top class fell to."""

    max_dp: float
    worst_rank: int

    def within(self, bound: ErrorBound = BOUND) -> bool:
        """Return whether this error is inside ``bound``."""
        return self.max_dp <= bound.max_dp and self.worst_rank <= bound.top_rank


def answer_error(approx: np.ndarray, exact: np.ndarray) -> LevelError:
    """Return one answer's LevelError: approx and exact are class probabilities (K,) at one position."""
    approx, exact = np.asarray(approx, np.float64), np.asarray(exact, np.float64)
    top = int(np.argmax(exact))
    return LevelError(float(np.abs(approx - exact).max()), int((approx > approx[top]).sum()))


def worst(errors) -> LevelError:
    """Return the worst of several LevelErrors (the largest max_dp and the lowest rank)."""
    errors = list(errors)
    return LevelError(max((e.max_dp for e in errors), default=0.0), max((e.worst_rank for e in errors), default=0))


def allowed(levels, errors, bound: ErrorBound = BOUND) -> tuple[Level, ...]:
    """Return the ladder's allowed prefix: ``levels`` (most accurate first) up to, not including, the first
    whose LevelError in ``errors`` (one per level, same order) is outside ``bound``."""
    kept = []
    for level, error in zip(levels, errors):
        if not error.within(bound):
            break
        kept.append(level)
    return tuple(kept)
