"""Shared fixtures: offscreen Qt, fixed seeds, and the bundled models loaded once per session."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
import torch

torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def efficientnet():
    """EfficientNet-Lite0 with its ImageNet weights."""
    from deconvviz import load_model

    return load_model("efficientnet-lite0")


@pytest.fixture(scope="session")
def coffee(efficientnet):
    """The bundled coffee photo, preprocessed for EfficientNet-Lite0."""
    from deconvviz import load_image
    from deconvviz.data.images import default_photo

    return efficientnet.preprocess(load_image(default_photo()))
