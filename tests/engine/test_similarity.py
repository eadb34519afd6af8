"""The similarity measures: exactly 1 for a map against itself, against scipy, and on known cases."""

import math

import numpy as np
import pytest
from scipy.stats import spearmanr

from deconvviz.engine.similarity import MEASURES, hog_similarity, pearson, similarities, spearman, ssim


def test_a_map_against_itself_is_exactly_1_on_every_measure():
    rng = np.random.default_rng(0)
    for shape in ((28, 28), (224, 224), (9, 13)):
        signed = rng.normal(size=shape).astype(np.float32)
        scores = similarities(np.abs(signed), signed, np.abs(signed), signed)
        assert set(scores) == set(MEASURES)
        assert all(v == 1.0 for v in scores.values()), scores


def test_spearman_agrees_with_scipy_including_ties():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 5, (20, 20)).astype(float)  # many ties
    b = a + rng.normal(scale=2.0, size=a.shape)
    assert spearman(a, b) == pytest.approx(spearmanr(a.ravel(), b.ravel())[0], abs=1e-12)


def test_known_values():
    a = np.arange(64, dtype=float).reshape(8, 8)
    assert spearman(a, -a) == -1.0
    assert spearman(a, a ** 3 + 5) == 1.0  # monotone: the same ranks
    assert ssim(a, 3 * a) == 1.0  # scaled to [0, 1] by the maximum: the same picture
    assert hog_similarity(a, 7 * a) == pytest.approx(1.0, abs=1e-12)
    assert pearson(np.array([1.0, 2, 3]), np.array([2.0, 4, 6])) == pytest.approx(1.0, abs=1e-15)


def test_constant_maps_are_undefined_not_similar():
    a = np.random.default_rng(2).normal(size=(16, 16))
    zero = np.zeros_like(a)
    scores = similarities(np.abs(a), a, zero, zero)
    assert all(math.isnan(v) for v in scores.values())


def test_average_ranks_are_scipys_rankdata():
    from scipy.stats import rankdata

    from deconvviz.engine.similarity import average_ranks

    rng = np.random.default_rng(3)
    for a in (rng.integers(0, 4, (30, 30)).astype(np.float32), rng.normal(size=(7, 5)), np.zeros((3, 3)),
              np.array([2.0, -0.0, 0.0, 1.0]), np.array([], float)):
        assert np.array_equal(average_ranks(a), rankdata(a.ravel())), a
    assert np.isnan(average_ranks(np.array([1.0, np.nan]))).all()
