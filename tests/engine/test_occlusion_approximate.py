"""Approximate occlusion maps (Krypton): exact at the loosest setting, exact where drill-down computes,
and within a stated error bound elsewhere."""

import numpy as np
import pytest
import torch
from skimage.metrics import structural_similarity

from deconvviz import DeconvvizError, load_model
from deconvviz.engine.incremental import Delta, IncrementalNet
from deconvviz.engine.occlusion import Approximation, occlusion_map


@pytest.fixture(scope="module")
def fmnist():
    return load_model("zf-fmnist")


def test_loosest_threshold_equals_exact(fmnist):
    x = torch.randn(1, 1, 28, 28)
    exact = occlusion_map(fmnist.net, x, 6, 2, batch=40)
    loose = occlusion_map(fmnist.net, x, 6, 2, batch=40, approximate=Approximation(field=1.0, coarse=1, drill=0))
    assert loose.approximation.exact and loose.computed.all()
    assert np.array_equal(loose.prob, exact.prob) and np.array_equal(loose.label, exact.label)
    assert np.array_equal(loose.activity, exact.activity)
    inc = IncrementalNet(fmnist.net, x)
    d = Delta(torch.zeros(3, 1, 6, 6), np.array([0, 9, 22]), np.array([4, 17, 22]))
    assert torch.equal(inc.run(d)[0], inc.run(d, field=1.0)[0])
    assert not torch.equal(inc.run(d)[0], inc.run(d, field=0.3)[0])  # a tight threshold does approximate


def test_drill_down_equals_exact_where_it_computes(fmnist):
    x = torch.randn(1, 1, 28, 28)
    exact = occlusion_map(fmnist.net, x, 6, 2, batch=40)
    ap = occlusion_map(fmnist.net, x, 6, 2, batch=40, approximate=Approximation(field=1.0, coarse=3, drill=0.25))
    ny, nx = exact.prob.shape
    computed = ap.computed
    assert 0.2 < computed.mean() < 0.8  # drill-down skipped some and refined some
    lines_r, lines_c = np.r_[np.arange(0, ny, 3), ny - 1], np.r_[np.arange(0, nx, 3), nx - 1]
    assert computed[np.ix_(lines_r, lines_c)].all()  # the coarse grid
    # Exact as every incremental result is: equal up to float rounding (batches group positions differently).
    assert np.abs(ap.prob[computed] - exact.prob[computed]).max() <= 1e-5
    assert np.array_equal(ap.label[computed], exact.label[computed])
    assert np.allclose(ap.activity[computed], exact.activity[computed], rtol=1e-5, atol=1e-4)
    # The most sensitive coarse position's cells are refined.
    coarse = np.abs(exact.prob[np.ix_(lines_r, lines_c)] - exact.base_prob)
    a, b = np.unravel_index(coarse.argmax(), coarse.shape)
    r, c = lines_r[a], lines_c[b]
    assert computed[max(r - 1, 0):r + 2, max(c - 1, 0):c + 2].all()
    # Interpolated positions lie between their coarse neighbours.
    assert np.isfinite(ap.prob).all() and ap.prob.min() >= exact.prob.min() - 1e-6


def test_every_position_at_full_drill_or_coarse_one(fmnist):
    x = torch.randn(1, 1, 28, 28)
    exact = occlusion_map(fmnist.net, x, 6, 2, batch=40)
    for a in (Approximation(1.0, 4, 1.0), Approximation(1.0, 1, 0.0)):
        assert np.abs(occlusion_map(fmnist.net, x, 6, 2, batch=40, approximate=a).prob - exact.prob).max() <= 1e-5


# Stated bound (docs/methods.md, "Approximate occlusion maps"): with the defaults, SSIM >= 0.9 against the exact map
# and |p difference| <= 0.25 at every position, and the most sensitive position within one stride.
SSIM_BOUND, P_BOUND = 0.9, 0.25


def _check_bound(exact, ap):
    data_range = float(exact.prob.max() - exact.prob.min())
    assert structural_similarity(exact.prob, ap.prob, data_range=data_range) >= SSIM_BOUND
    assert np.abs(exact.prob - ap.prob).max() <= P_BOUND
    e = np.array(np.unravel_index(exact.prob.argmin(), exact.prob.shape))
    a = np.array(np.unravel_index(ap.prob.argmin(), ap.prob.shape))
    assert np.abs(e - a).max() <= 1


def test_default_error_within_bound_on_efficientnet(efficientnet, coffee):
    exact = occlusion_map(efficientnet.net, coffee, 32, 12)
    ap = occlusion_map(efficientnet.net, coffee, 32, 12, approximate=True)
    assert ap.approximation == Approximation() and ap.method == "incremental"
    assert ap.computed.mean() < 0.65
    _check_bound(exact, ap)


def test_default_error_within_bound_on_fmnist(fmnist):
    from deconvviz import load_image

    x = fmnist.preprocess(load_image("resources/photos/chelsea.png"))
    _check_bound(occlusion_map(fmnist.net, x, 6, 1), occlusion_map(fmnist.net, x, 6, 1, approximate=True))


@pytest.mark.parametrize("kwargs", [dict(field=0), dict(field=1.5), dict(coarse=0), dict(drill=-0.1)])
def test_bad_parameters_are_one_clear_error(kwargs):
    with pytest.raises(DeconvvizError):
        Approximation(**kwargs)


def test_live_square_approximate_and_exact(fmnist):
    from deconvviz.engine.occlusion import OcclusionSession

    x = torch.randn(1, 1, 28, 28)
    s = OcclusionSession(fmnist.net, x, method="incremental")
    exact, _ = s.occlude(3, 5, 6)
    loose, _ = s.occlude(3, 5, 6, approximate=1.0)
    assert np.array_equal(exact, loose)
    approx, _ = s.occlude(3, 5, 6, approximate=True)
    assert np.isclose(approx.sum(), 1, atol=1e-5) and not np.array_equal(approx, exact)
    with pytest.raises(DeconvvizError):
        s.occlude(3, 5, 6, approximate=0.0)
    full = OcclusionSession(fmnist.net, x, method="full")  # exact answers in full; approximate ones still incremental
    assert full.method == "full"
    assert np.allclose(full.occlude(3, 5, 6, approximate=True)[0], approx, atol=1e-6)
