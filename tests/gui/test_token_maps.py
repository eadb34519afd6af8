"""A transformer's token layer in the app: the channel grid shows its dim maps of grid x grid."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from deconvviz import load_image, load_model
from deconvviz.data.images import default_photo
from deconvviz.engine.probe import probe
from deconvviz.session import messages as m

TINY_VIT = '''
import torch
from torchvision.models import VisionTransformer
PREPROCESSING = {"size": [32, 32], "mode": "RGB", "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}
def build():
    torch.manual_seed(0)
    return VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32,
                             num_classes=5)
'''
LAYER = "encoder.layers.encoder_layer_1"


def test_token_maps_fill_the_channel_grid_and_random_weights_are_named(qtbot, settings, open_window, tmp_path):
    (tmp_path / "tinyvit.py").write_text(TINY_VIT)
    name = f"{tmp_path / 'tinyvit.py'}:build"
    window = open_window(settings, model=name)
    assert "(random weights)" in window.windowTitle()  # a user model without --weights is untrained: say so
    with qtbot.waitSignal(window.shown, timeout=20000,
                          check_params_cb=lambda r: isinstance(r, m.MapsReady) and r.request.layer == LAYER):
        window.tree.select_layer(LAYER)  # the tree's own selection (it scrolls to the nested block)
    assert window.grid.count() == 16  # hidden_dim maps
    model = load_model(name)
    tokens = probe(model.net, model.preprocess(load_image(default_photo())), keep=[LAYER]).activations[LAYER][0]
    expected = tokens[1:].T.reshape(16, 4, 4).numpy()  # 1 class token + 4 x 4 patch tokens, row-major
    np.testing.assert_allclose(window.grid._maps, expected, rtol=1e-5, atol=1e-6)
    assert window.grid.selected == int(np.argmax(window.grid._maxima))


def test_without_max_pooling_the_deconvnet_pane_explains_and_offers_guided(qtbot, settings, open_window, tmp_path):
    (tmp_path / "tinyvit.py").write_text(TINY_VIT)
    window = open_window(settings, model=f"{tmp_path / 'tinyvit.py'}:build")
    pane = window.deconv
    assert pane.mode.currentText() == "deconvnet"
    assert not pane.no_pool_hint.isHidden() and "no switches" in pane.no_pool_hint.text()
    with qtbot.waitSignal(window.shown, timeout=20000,
                          check_params_cb=lambda r: isinstance(r, m.ProjectionReady) and r.request.mode == "guided"):
        qtbot.mouseClick(pane.use_guided, Qt.MouseButton.LeftButton)
    assert pane.no_pool_hint.isHidden() and pane.use_guided.isHidden()


def test_with_max_pooling_there_is_no_hint(window):
    assert window.deconv.no_pool_hint.isHidden() and window.deconv.use_guided.isHidden()
