"""``deconvviz.occlusion_map``: defaults from the input size, the fill as a grey level, the target by name."""

import numpy as np
import pytest
import torch

import deconvviz
from deconvviz.api import parse_target


def test_public_occlusion_map_defaults_and_fill():
    model = deconvviz.load_model("zf-fmnist")
    x = torch.randn(1, 1, 28, 28)
    r = deconvviz.occlusion_map(model, x)
    assert (r.patch, r.stride) == (6, 2) and r.prob.shape == (12, 12)
    grey = deconvviz.occlusion_map(model, x, patch=28, stride=1, fill=0.5)
    xo = torch.full_like(x, (0.5 - 0.2860) / 0.3530)
    with torch.no_grad():
        want = model.net(xo).softmax(1)[0, grey.target]
    assert grey.prob.shape == (1, 1) and grey.prob[0, 0] == pytest.approx(float(want), abs=1e-5)
    with pytest.raises(deconvviz.DeconvvizError, match="fill"):
        deconvviz.occlusion_map(model, x, fill=1.5)


def test_parse_target():
    model = deconvviz.load_model("zf-fmnist")
    assert parse_target(model, "ankle boot") == 9
    assert parse_target(model, "3") == 3
    assert parse_target(model, None) is None
    with pytest.raises(deconvviz.DeconvvizError, match="unknown target"):
        parse_target(model, "giraffe")
    assert np.isscalar(parse_target(model, "0"))
