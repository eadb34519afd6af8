"""deconvviz.attribution on the bundled EfficientNet-Lite0: targets, sizes, and Captum on a real network."""

import numpy as np
import pytest
import torch

import deconvviz
from deconvviz.api import attribution_target
from deconvviz.engine.attribution import AttributionTarget
from deconvviz.errors import DeconvvizError


def test_gradcam_of_espresso_lights_up_the_cup(efficientnet, coffee):
    cam = deconvviz.attribution(efficientnet, coffee, "gradcam", target="espresso")
    assert cam.shape == (224, 224) and cam.dtype == np.float32
    # the cup fills the middle of the photo; its corners are table and background
    middle, corners = cam[56:168, 56:168].mean(), np.mean([cam[:40, :40], cam[:40, -40:], cam[-40:, :40],
                                                          cam[-40:, -40:]])
    assert middle > 2 * corners


def test_gradcam_is_captum_on_efficientnet(efficientnet, coffee):
    captum = pytest.importorskip("captum.attr")
    net = efficientnet.net
    ref = captum.LayerGradCam(net, net._conv_head).attribute(coffee, target=967, relu_attributions=True)
    ref = captum.LayerAttribution.interpolate(ref, (224, 224), interpolate_mode="bilinear")[0, 0].detach().numpy()
    ours = deconvviz.attribution(efficientnet, coffee, "gradcam", target=967, layer="_conv_head")
    np.testing.assert_allclose(ours, ref, atol=1e-4 * max(1.0, float(np.abs(ref).max())), rtol=0)


@pytest.mark.parametrize("given,expected", [
    (None, AttributionTarget()),
    (967, AttributionTarget(967)),
    ("967", AttributionTarget(967)),
    ("espresso", AttributionTarget(967)),
    ("_blocks.10:3", AttributionTarget(layer="_blocks.10", channel=3)),
    ("_blocks.10:3:4,5", AttributionTarget(layer="_blocks.10", channel=3, position=(4, 5))),
    (("_blocks.10", 3, (4, 5)), AttributionTarget(layer="_blocks.10", channel=3, position=(4, 5))),
])
def test_targets(efficientnet, given, expected):
    assert attribution_target(efficientnet, given) == expected


@pytest.mark.parametrize("bad", ["not a class", "_blocks.10:x", 2.5])
def test_bad_targets_are_one_line(efficientnet, bad):
    with pytest.raises(DeconvvizError):
        attribution_target(efficientnet, bad)
