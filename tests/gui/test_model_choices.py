"""The model box says which torchvision architectures have their ImageNet weights cached; it asks before a download."""

from __future__ import annotations

import urllib.error

import torch
from PySide6.QtWidgets import QMessageBox
from torchvision import models

from deconvviz.gui import model_choices
from deconvviz.models import torchvision_weights as tvw
from deconvviz.session import messages as m
from model_box_helpers import choose_model

REAL_DOWNLOAD = torch.hub.download_url_to_file


def _unreachable(*args, **kwargs):
    raise urllib.error.URLError("network is unreachable")


def test_cached_weights_are_offered_and_a_download_is_asked_first(qtbot, settings, open_window, tmp_path,
                                                                  monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    monkeypatch.setattr(torch.hub, "urlopen", _unreachable)
    monkeypatch.setattr(model_choices, "TORCHVISION", ("squeezenet1_0", "squeezenet1_1"))
    path = tvw.cache_path(models.SqueezeNet1_0_Weights.DEFAULT)
    path.parent.mkdir(parents=True)
    torch.save(models.squeezenet1_0().state_dict(), path)  # random values where torchvision keeps the file

    window = open_window(settings)
    texts = [window.model_chooser.itemText(i) for i in range(window.model_chooser.count())]
    assert "torchvision:squeezenet1_0 · ImageNet weights (in cache)" in texts
    assert "torchvision:squeezenet1_1 · ImageNet weights (download…)" in texts
    assert "torchvision:squeezenet1_1 · random weights" in texts

    choose_model(qtbot, window, "torchvision:squeezenet1_0 · ImageNet weights (in cache)")
    assert window.model_name == "torchvision:squeezenet1_0" and window.weights == "DEFAULT"
    assert "random weights" not in window.windowTitle()

    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.No)
    window.model_chooser.activated.emit(window.model_chooser.findText(
        "torchvision:squeezenet1_1 · ImageNet weights (download…)"))
    assert asked and "squeezenet1_1" in asked[0] and str(path.parent) in asked[0]
    assert window.model_name == "torchvision:squeezenet1_0"  # No: nothing sent, the model stays

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    said = []
    window.message.connect(said.append)
    choose_model(qtbot, window, "torchvision:squeezenet1_1 · ImageNet weights (download…)", m.Failed)
    assert any("network is unreachable" in s for s in said)
    assert window.model_name == "torchvision:squeezenet1_0"  # the download failed: the model stays
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # nothing half-written
