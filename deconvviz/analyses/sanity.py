"""Sanity checks (Adebayo et al. 2018) for a LoadedModel: the randomisation test, its table and its verdicts."""

from __future__ import annotations

import math

import numpy as np
import torch

from ..engine.sanity import ALL_METHODS, DEFAULT_METHODS, METHODS, SanityResult, SanityTarget, randomisation_test
from ..engine.similarity import MEASURES
from ..models import LoadedModel

HEADER = ["method", "randomised", "spearman", "ssim", "spearman_signed", "hog", "step", "test"]
# The mean Spearman rank correlation of |map| with the unrandomised map over the steps: at or above FAIL_AT
# a method "fails" (its picture survives randomisation), below PASS_BELOW it "passes".
FAIL_AT, PASS_BELOW = 0.5, 0.2


def sanity_check(model: LoadedModel, x: torch.Tensor, layer: str | None = None, channel: int | None = None,
                 position: tuple[int, int] | None = None, class_index: int | None = None,
                 methods=DEFAULT_METHODS, test: str = "cascading", seed: int = 0, progress=None, cancel=None,
                 options: dict | None = None) -> SanityResult:
    """Return the SanityResult of the ``test`` for input ``x`` (1, C, H, W): the projections and saliency of
    ``layer``'s ``channel`` (its strongest activation on the learnt weights, or ``position``), or with no
    layer of ``class_index``'s score (default: the top class), at every randomisation step. ``methods`` may
    name any of :data:`ALL_METHODS` (the registry's); ``options`` maps a method to its options."""
    target = SanityTarget(layer, channel, position, class_index if layer is None else None)
    prep = model.preprocessing
    return randomisation_test(model.net, x.to(model.device), target, methods, test, seed, progress=progress,
                              cancel=cancel, options=options, normalisation=(prep.mean, prep.std))


def sanity_rows(result: SanityResult) -> tuple[list[str], list[list]]:
    """Return (HEADER, rows): one row per method and step, ``randomised`` = "none" for the learnt weights."""
    rows = []
    for method in result.methods:
        s = result.scores[method]
        for k, step in enumerate(result.steps):
            rows.append([method, step, s["spearman"][k], s["ssim"][k], s["spearman_signed"][k], s["hog"][k], k,
                         result.test])
    return HEADER, rows


def changed_steps(result: SanityResult, method: str) -> list[int]:
    """Return the steps (1..) whose map differs from the unrandomised one at all: a layer above a layer
    target, for instance, cannot change its projection."""
    ref = result.maps[method][0]
    return [k for k in range(1, len(result.steps)) if not np.array_equal(result.maps[method][k], ref)]


def summary_similarity(result: SanityResult, method: str, measure: str = "spearman") -> tuple[float, str]:
    """Return (similarity, what it is): the mean over the steps that change the map (1.0 if none does).

    For ``cascading`` that is the area under the similarity curve: a method whose map survives the top
    layers' randomisation scores high even if the very last step changes it; for ``independent`` the
    mean effect of randomising one layer.
    """
    values = result.scores[method][measure]
    changed = changed_steps(result, method)
    finite = [values[k] for k in changed if math.isfinite(values[k])]
    if not changed:
        return 1.0, "at every step (no layer changes it)"
    if not finite:
        return float("nan"), "at every step that changes it"
    n = len(changed)
    if result.test == "cascading":
        return float(np.mean(finite)), f"on average over the {n} step{'s' * (n > 1)} that change{'s' * (n == 1)} it"
    return float(np.mean(finite)), f"on average over the {n} layer{'s' * (n > 1)} that change{'s' * (n == 1)} it, one at a time"


def verdict(result: SanityResult, method: str) -> str:
    """Return a one-line verdict in plain words, e.g. "guided: 0.83 similar on average ...: fails: ..."."""
    value, what = summary_similarity(result, method)
    if not math.isfinite(value):
        return (f"{method}: cannot tell: the map is empty {what} (the random weights switch the target off, "
                "so there is no picture to compare)")
    numbers = f"{method}: {value:.2f} similar {what}"
    last = result.scores[method]["spearman"][-1]
    if result.test == "cascading" and math.isfinite(last):
        numbers += f", {last:.2f} with every layer randomised"
    numbers += " (Spearman of |map|)"
    if value >= FAIL_AT:
        return f"{numbers}: fails: this picture mostly shows the image, not the weights"
    if value >= PASS_BELOW:
        return f"{numbers}: partly: some of this picture is the image, some the weights"
    return f"{numbers}: passes: this picture depends on the learnt weights"


def verdicts(result: SanityResult) -> list[str]:
    """Return one verdict line per method."""
    return [verdict(result, m) for m in result.methods]


__all__ = ["ALL_METHODS", "DEFAULT_METHODS", "HEADER", "MEASURES", "METHODS", "sanity_check", "sanity_rows", "summary_similarity", "verdict", "verdicts"]
