"""Deletion and insertion curves: the batched curve against a brute-force one, and the plain loop."""

import numpy as np
import pytest
import torch
from torch import nn

from deconvviz.engine.faithfulness import (auc, curves, occlusion_importance, pixel_counts, pixel_order,
                                           probabilities, random_curves)


def _additive_net():
    """Two classes whose logit difference is a weighted sum of the pixels: each pixel's effect is its own."""
    torch.manual_seed(7)
    net = nn.Sequential(nn.Flatten(), nn.Linear(2 * 5 * 6, 2))
    return net.eval()


def _p(net, x, k):
    with torch.no_grad():
        return float(torch.softmax(net(x).double(), 1)[0, k])


def test_the_deletion_curve_of_the_exact_per_pixel_effect_equals_the_brute_force_curve():
    net, k = _additive_net(), 1
    x = torch.randn(1, 2, 5, 6)
    w = (net[1].weight[1] - net[1].weight[0]).detach().reshape(2, 5, 6)
    effect = (w * x[0]).sum(0).numpy()  # greying pixel (r, c) (to 0) lowers the logit difference by this much
    got = curves(net, x, effect, k, steps=30)
    assert np.array_equal(pixel_counts(30, 30), np.arange(31))
    # brute force: at every step, grey the remaining pixel whose removal lowers p(k) the most
    current, remaining, brute, chosen = x.clone(), set(range(30)), [_p(net, x, k)], []
    while remaining:
        best = None
        for pixel in sorted(remaining):
            trial = current.clone()
            trial[0, :, pixel // 6, pixel % 6] = 0
            p = _p(net, trial, k)
            if best is None or p < best[0]:
                best = (p, pixel, trial)
        brute.append(best[0])
        chosen.append(best[1])
        remaining.discard(best[1])
        current = best[2]
    assert chosen == list(pixel_order(effect))
    np.testing.assert_allclose(got.deletion, brute, rtol=0, atol=1e-6)  # float32 logits, batch of 16 vs 1
    # and it is the most faithful order there is: no random order deletes faster
    rand = random_curves(net, x, k, steps=30, orders=5, seed=0)
    assert got.deletion_auc < rand.deletion_auc and got.insertion_auc > rand.insertion_auc


def test_batched_curves_equal_one_forward_pass_per_point():
    torch.manual_seed(1)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3)).eval()
    x = torch.randn(1, 3, 8, 8)
    importance = np.random.default_rng(0).normal(size=(8, 8))
    order, counts = pixel_order(importance), pixel_counts(64, 10)
    fill = torch.tensor([0.1, -0.2, 0.3])
    for insertion in (False, True):
        batched = probabilities(net, x, order, counts, 2, insertion, fill, batch=4)
        plain = []
        for n in counts:
            xs = fill.view(1, 3, 1, 1).expand_as(x).clone() if insertion else x.clone()
            for pixel in order[:n]:
                r, c = divmod(int(pixel), 8)
                xs[0, :, r, c] = x[0, :, r, c] if insertion else fill
            plain.append(_p(net, xs, 2))
        np.testing.assert_allclose(batched, plain, rtol=1e-6, atol=1e-9)


def test_ties_keep_index_order_and_auc_is_the_trapezoid():
    assert list(pixel_order(np.array([[1.0, 3.0], [3.0, 0.0]]))) == [1, 2, 0, 3]
    assert auc(np.array([0, 0.5, 1.0]), np.array([1.0, 0.5, 0.0])) == pytest.approx(0.5)


def test_occlusion_importance_is_the_mean_drop_of_the_covering_squares():
    drop = np.array([[1.0, 3.0]])  # squares of 2 px at columns 0 and 1 of a 2x4 image, stride 1
    out = occlusion_importance(drop, patch=2, stride=1, height=2, width=4)
    np.testing.assert_allclose(out[0], [1.0, 2.0, 3.0, 1.0])  # column 3 is under no square: the smallest drop


def test_cancel_is_an_engine_cancel_in_every_stage():
    # the occlusion stage too (its own error is a DeconvvizError, the CLI's one line): the app shows "cancelled"
    from deconvviz.analyses.faithfulness import faithfulness_curves
    from deconvviz.engine._control import Cancelled
    from deconvviz.models import load_model

    model = load_model("zf-fmnist")
    x = torch.zeros(1, 1, 28, 28)
    for after in (0, 1, 3):
        asked, stages = [], []
        with pytest.raises(Cancelled):
            faithfulness_curves(model, x, steps=4, random_orders=1, progress=lambda d, t: stages.append((d, t)),
                                cancel=lambda: asked.append(1) or len(stages) >= after)
        assert len(stages) == after
    stages = []
    faithfulness_curves(model, x, steps=4, random_orders=2, progress=lambda d, t: stages.append((d, t)))
    assert stages == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
