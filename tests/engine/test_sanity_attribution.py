"""The randomisation test with the registry's other methods: Grad-CAM, Grad-CAM++, guided Grad-CAM,
integrated gradients, SmoothGrad (Adebayo et al. test all of them)."""

import copy

import numpy as np
import pytest
import torch
from torch import nn

from deconvviz.engine.attribution import AttributionTarget
from deconvviz.engine.methods import attribute
from deconvviz.engine.sanity import ALL_METHODS, METHODS, SanityTarget, randomisation_test
from deconvviz.engine.similarity import MEASURES

NEW = tuple(m for m in ALL_METHODS if m not in METHODS)
OPTIONS = {"integrated-gradients": {"steps": 6}, "smoothgrad": {"samples": 3, "noise": 0.1, "seed": 4}}


def _net():
    torch.manual_seed(5)
    return nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(8, 4)).eval()


def test_every_registry_method_is_a_sanity_method():
    assert set(ALL_METHODS) >= {"gradcam", "gradcam++", "guided-gradcam", "integrated-gradients", "smoothgrad",
                                "saliency", "deconvnet", "guided", "backprop"}


@pytest.mark.parametrize("test", ["cascading", "independent"])
def test_step_none_is_the_method_itself_and_scores_1(test):
    net = _net()
    before = copy.deepcopy(net.state_dict())
    x = torch.randn(1, 3, 12, 12)
    result = randomisation_test(net, x, SanityTarget(class_index=2), NEW, test, seed=1, options=OPTIONS)
    for key, value in net.state_dict().items():
        assert torch.equal(value, before[key])
    for method in NEW:
        expected = attribute(net, x, method, AttributionTarget(2), None, OPTIONS.get(method))
        np.testing.assert_allclose(result.maps[method][0], expected, rtol=1e-5, atol=1e-6)
        assert result.maps[method][0].shape == (12, 12)
        for measure in MEASURES:
            assert result.scores[method][measure][0] == 1.0
    # randomising the classifier changes every map: the test measures something
    assert all(not np.array_equal(result.maps[m][1], result.maps[m][0]) for m in NEW)


def test_a_neuron_target_uses_the_same_neuron_at_every_step():
    net = _net()
    x = torch.randn(1, 3, 12, 12)
    result = randomisation_test(net, x, SanityTarget("4", 3), ("gradcam", "integrated-gradients"), "cascading",
                                options=OPTIONS)
    r, c = result.target.position
    expected = attribute(net, x, "gradcam", AttributionTarget(layer="4", channel=3, position=(r, c)), "2")
    np.testing.assert_allclose(result.maps["gradcam"][0], expected, rtol=1e-5, atol=1e-7)
    assert result.steps[:2] == ["none", "8"]
    # the classifier above the target cannot change its maps
    assert np.array_equal(result.maps["gradcam"][1], result.maps["gradcam"][0])
