"""The randomisation test: the caller's network untouched, similarity 1 at step "none", the fast path
against the plain computation, and a hand-made network whose similarities are known."""

import copy

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr
from torch import nn

from deconvviz.engine import deconv
from deconvviz.engine.saliency import saliency
from deconvviz.engine.sanity import METHODS, SanityTarget, randomisation_steps, randomisation_test, reinitialise
from deconvviz.engine.similarity import MEASURES
from deconvviz.errors import DeconvvizError


def _small_net():
    torch.manual_seed(3)
    net = nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.LocalResponseNorm(3, alpha=0.5), nn.Conv2d(6, 8, 3), nn.ReLU6(), nn.Flatten(), nn.Linear(8 * 3 * 3, 4))
    with torch.no_grad():  # BatchNorm with statistics of its own, so that resetting it changes something
        net[1].running_mean.uniform_(-0.5, 0.5)
        net[1].running_var.uniform_(0.5, 2.0)
        net[1].weight.uniform_(0.5, 1.5)
    return net.eval()


def _linear_net():
    """x (1, 1, 4, 4) -> a 1x1 convolution (one weight w, no bias) -> flatten -> Linear(16, 2)."""
    torch.manual_seed(4)
    net = nn.Sequential(nn.Conv2d(1, 1, 1, bias=False), nn.Flatten(), nn.Linear(16, 2))
    with torch.no_grad():
        net[0].weight.fill_(0.7)
    return net.eval()


def test_steps_go_from_the_top_down_and_join_a_batchnorm_to_its_convolution():
    net = _small_net()
    steps, skipped = randomisation_steps(net, torch.zeros(1, 3, 12, 12))
    assert [s.modules for s in steps] == [("8",), ("5",), ("0", "1")]
    assert [s.index for s in steps] == [2, 1, 0] and skipped == []


@pytest.mark.parametrize("test", ["cascading", "independent"])
def test_the_network_is_unchanged_and_step_none_is_exactly_1(test):
    net = _small_net()
    before = copy.deepcopy(net.state_dict())
    x = torch.randn(1, 3, 12, 12)
    rng_state = torch.random.get_rng_state()
    result = randomisation_test(net, x, SanityTarget(), METHODS, test, seed=1)
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert torch.equal(torch.random.get_rng_state(), rng_state)
    assert result.steps == ["none", "8", "5", "0"]
    for method in METHODS:
        for measure in MEASURES:
            assert result.scores[method][measure][0] == 1.0


@pytest.mark.parametrize("test", ["cascading", "independent"])
@pytest.mark.parametrize("target", [SanityTarget(), SanityTarget(class_index=2), SanityTarget("5", 3),
                                    SanityTarget("3", 1, position=(1, 2))])
def test_the_batched_path_equals_the_plain_computation(test, target):
    net = _small_net()
    x = torch.randn(1, 3, 12, 12)
    fast = randomisation_test(net, x, target, METHODS, test, seed=2)
    naive = randomisation_test(net, x, target, METHODS, test, seed=2, naive=True)
    assert fast.steps == naive.steps and fast.target == naive.target
    for method in METHODS:
        for a, b in zip(fast.maps[method], naive.maps[method]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6 * (np.abs(b).max() + 1e-30))


@pytest.mark.parametrize("target", [SanityTarget(class_index=1), SanityTarget("5", 3)])
def test_at_step_none_the_maps_are_the_engines_projections_and_saliency(target):
    net = _small_net()
    x = torch.randn(1, 3, 12, 12)
    result = randomisation_test(net, x, target, METHODS, "cascading")
    t = result.target
    for mode in ("deconvnet", "guided", "backprop"):
        layer, channel = (t.layer, t.channel) if t.layer else ("8", t.class_index)  # "8": the output Linear
        expected = deconv.project(net, x, layer, channel, t.position, mode=mode).images[0].numpy()
        np.testing.assert_allclose(result.maps[mode][0], expected, rtol=1e-5, atol=1e-7)
    if t.layer is None:
        np.testing.assert_allclose(result.maps["saliency"][0], saliency(net, x, t.class_index).map.numpy(),
                                   rtol=1e-5, atol=1e-8)
        # saliency is the true gradient: it differs from "backprop", which skips LRN on the way down
        assert not np.allclose(result.maps["saliency"][0], np.abs(result.maps["backprop"][0]).max(0) / t.value)


def test_the_seed_is_the_learnt_value_at_every_step():
    # a unit that a random layer switches off still projects (deconvnet ignores the forward pass) instead of
    # vanishing because its new value is 0
    net = _small_net()
    x = torch.randn(1, 3, 12, 12)
    target = SanityTarget("6", 0)  # after ReLU6
    fast = randomisation_test(net, x, target, ("deconvnet",), "cascading", seed=0)
    assert fast.target.value > 0
    assert all(np.abs(m).max() > 0 for m in fast.maps["deconvnet"])


def test_a_linear_network_with_known_similarities():
    # d score_k / d x = w * W[k]: re-initialising w only scales the map (|map| measures exactly 1; the signed
    # projection, seeded with the learnt score, flips with the sign of w); re-initialising the Linear layer
    # gives the Spearman of |W[k]| and |W'[k]|, computed here independently with scipy.
    net = _linear_net()
    x = torch.randn(1, 1, 4, 4)
    result = randomisation_test(net, x, SanityTarget(class_index=1), METHODS, "independent", seed=5)
    assert result.steps == ["none", "2", "0"]
    steps, _ = randomisation_steps(net, x)
    only_conv, only_linear = copy.deepcopy(net), copy.deepcopy(net)
    reinitialise(only_linear, steps[0], 5)
    reinitialise(only_conv, steps[1], 5)
    flip = np.sign(float(only_conv[0].weight.detach().sum()) * float(net[0].weight.detach().sum()))
    expected = spearmanr(net[2].weight[1].detach().abs().numpy(), only_linear[2].weight[1].detach().abs().numpy())[0]
    assert abs(expected) < 0.9  # a real test: the new weights are not the old ones
    for method in METHODS:
        s = result.scores[method]
        assert s["spearman"][2] == pytest.approx(1.0, abs=1e-12)
        assert s["ssim"][2] == pytest.approx(1.0, abs=1e-9)
        assert s["hog"][2] == pytest.approx(1.0, abs=1e-9)
        assert s["spearman_signed"][2] == pytest.approx(1.0 if method == "saliency" else flip, abs=1e-12)
        assert s["spearman"][1] == pytest.approx(expected, abs=1e-9)


def test_a_layer_target_is_not_changed_by_the_layers_above_it():
    net = _small_net()
    result = randomisation_test(net, torch.randn(1, 3, 12, 12), SanityTarget("3", 2), ("guided",), "cascading")
    assert result.steps[1:3] == ["8", "5"]
    assert all(np.array_equal(result.maps["guided"][k], result.maps["guided"][0]) for k in (1, 2))
    assert not np.array_equal(result.maps["guided"][3], result.maps["guided"][0])


def test_bad_input_is_a_clear_error():
    net, x = _small_net(), torch.randn(1, 3, 12, 12)
    with pytest.raises(DeconvvizError, match="unknown method"):
        randomisation_test(net, x, methods=("gradcm",))
    with pytest.raises(DeconvvizError, match="unknown test"):
        randomisation_test(net, x, test="sideways")
    with pytest.raises(DeconvvizError, match="class 9 out of range"):
        randomisation_test(net, x, SanityTarget(class_index=9))
    with pytest.raises(DeconvvizError, match="unknown layer"):
        randomisation_test(net, x, SanityTarget("nope", 0))


def test_cancel_stops_between_steps_as_an_engine_cancel():
    from deconvviz.engine._control import Cancelled
    from deconvviz.engine.sanity import SanityCancelled

    net, x = _small_net(), torch.randn(1, 3, 12, 12)
    done, asked = [], []
    with pytest.raises(SanityCancelled) as caught:
        randomisation_test(net, x, progress=lambda k, n: done.append((k, n)),
                           cancel=lambda: asked.append(1) or len(asked) > 2)
    assert isinstance(caught.value, Cancelled)  # the app's runner answers it as cancelled, not failed
    assert done == [(1, 3), (2, 3)]
