"""Verdicts in words from a randomisation test's numbers."""

import numpy as np

from deconvviz.analyses.sanity import sanity_rows, verdict
from deconvviz.engine.sanity import SanityResult, SanityTarget, score_maps


def _result(test, maps):
    return SanityResult(test, SanityTarget(class_index=0), tuple(maps), ["none", "a", "b"], maps, score_maps(maps), 0)


def test_a_map_that_survives_randomisation_fails_and_one_that_changes_passes():
    rng = np.random.default_rng(0)
    image = rng.normal(size=(16, 16))
    same = [image, image * 2.0, image * 0.5]  # only scaled: the picture is the same
    other = [image, rng.normal(size=(16, 16)), rng.normal(size=(16, 16))]
    result = _result("cascading", {"guided": same, "saliency": [np.abs(m) for m in other]})
    assert verdict(result, "guided").startswith("guided: 1.00 similar on average over the 2 steps")
    assert "fails" in verdict(result, "guided")
    assert "passes" in verdict(result, "saliency")
    header, rows = sanity_rows(result)
    assert header[:4] == ["method", "randomised", "spearman", "ssim"] and rows[0][:4] == ["guided", "none", 1.0, 1.0]


def test_steps_that_cannot_change_the_map_do_not_count():
    image = np.random.default_rng(1).normal(size=(16, 16))
    flipped = image[::-1].copy()
    result = _result("independent", {"deconvnet": [image, image, flipped]})
    assert "over the 1 layer that change" in verdict(result, "deconvnet")
