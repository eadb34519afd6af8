"""The grid's "feature vis" view and the deconvnet pane's picture: filled in as the batch runs (in the views' lane),
from the disk cache on a second visit (no job), computed again for other weights, cancelled by another layer."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from deconvviz.paths import WEIGHTS
from deconvviz.session import messages as m
from deconvviz.session.featvis_tiles import OWNER, PANE_OWNER

TIMEOUT = 60000


@pytest.fixture
def featvis_window(qtbot, settings, tmp_path, open_window):
    """A window on zf-fmnist whose pictures are tiny (3 steps, 16 px) and cached in a temporary folder; with
    ``window.jobs`` the feature-vis jobs it submitted and ``window.answers`` their results."""
    settings.setValue("featvis/steps", 3)
    settings.setValue("featvis/size", 16)
    settings.setValue("featvis/cacheDir", str(tmp_path / "cache"))
    window = open_window(settings)
    window.jobs, window.answers = [], []
    submit = window.backend.submit

    def recording(request):
        if isinstance(request, m.Analysis) and request.owner in (OWNER, PANE_OWNER):
            window.jobs.append(request)
        submit(request)

    window.backend.submit = recording
    window.featvis.tiles.submit = recording
    window.backend.resultReady.connect(lambda r: window.answers.append(r) if isinstance(r.request, m.Analysis)
                                       and r.request.owner in (OWNER, PANE_OWNER) else None)
    return window


def cached(tmp_path) -> int:
    return len(list((tmp_path / "cache").glob("*.npy")))


def choose_layer(qtbot, window, layer):
    window.tree.select_layer(layer)
    qtbot.waitUntil(lambda: window._grid_layer == layer and window.channel is not None, timeout=TIMEOUT)


def show_featvis(qtbot, window):
    window.grid_view.setCurrentIndex(window.grid_view.findText("feature vis"))
    filled(qtbot, window)


def filled(qtbot, window):
    # the batch's end reaches the tiles after the runner goes idle: wait for both
    qtbot.waitUntil(lambda: window.grid.picture_count() == window.grid.count() > 0
                    and not window.backend.busy(OWNER) and window.featvis.tiles.job is None, timeout=TIMEOUT)


def test_the_feature_vis_view_fills_the_tiles_and_a_second_visit_comes_from_the_cache(qtbot, featvis_window,
                                                                                      tmp_path):
    window = featvis_window
    show_featvis(qtbot, window)
    count = window.grid.count()
    assert count == 32 and cached(tmp_path) == 32
    assert window.featvis_state.text() == "feature vis: 32 of 32 channels"
    assert len(window.jobs) == 1 and window.jobs[0].owner == OWNER  # one batch, in the views' lane
    partial = [r for r in window.answers if isinstance(r, m.Partial)]
    assert len(partial) >= 1 + 32 // 8  # the cache's answer, then every chunk of 8 as it finished
    pictures = window.grid.grab().toImage()
    window.grid.set_view("maps")
    assert window.grid.grab().toImage() != pictures  # the user sees the pictures, not the maps
    window.grid.set_view("featvis")
    assert window.deconv.featvis.has_image()  # the pane shows the selected channel's picture

    choose_layer(qtbot, window, "features.4")
    filled(qtbot, window)
    assert window.grid.count() == 64 and cached(tmp_path) == 96 and len(window.jobs) == 2
    choose_layer(qtbot, window, "features.0")
    assert window.grid.picture_count() == 32  # at once, from the disk
    assert len(window.jobs) == 2 and not window.backend.busy(OWNER)  # no job submitted
    assert window.featvis_state.text() == "feature vis: 32 channels (cached)"
    assert window.grid.tooltip_text(3).endswith("· feature vis")

    window.grid_view.setCurrentIndex(0)  # back to the maps
    assert window.grid.view == "maps" and window.featvis_state.isHidden() and window.grid.picture_count() == 0


def test_other_weights_compute_again(qtbot, featvis_window, tmp_path):
    window = featvis_window
    show_featvis(qtbot, window)
    assert cached(tmp_path) == 32
    snapshot = str(WEIGHTS / "zf-fmnist" / "history" / "epoch-001.safetensors")
    window.open_model("zf-fmnist", snapshot)
    qtbot.waitUntil(lambda: (window.weights or "").endswith("epoch-001.safetensors") and window.channel is not None,
                    timeout=TIMEOUT)
    filled(qtbot, window)
    assert len(window.jobs) == 2 and cached(tmp_path) == 64  # the same layer, other weights: other pictures
    reports = [[r.value for r in window.answers if isinstance(r, m.Partial) and r.request is job]
               for job in window.jobs]
    assert len(reports[0][0].pictures) == 0 and len(reports[1][0].pictures) == 0  # nothing cached for either
    assert reports[0][0].hash != reports[1][0].hash == window.featvis.tiles.hash


def test_another_layer_cancels_the_running_batch(qtbot, featvis_window, tmp_path):
    window = featvis_window
    window.settings.setValue("featvis/steps", 100000)  # runs until cancelled
    window.grid_view.setCurrentIndex(1)
    first = window.jobs[-1]
    qtbot.waitUntil(lambda: first in window.backend.running_all(), timeout=TIMEOUT)
    window.settings.setValue("featvis/steps", 3)
    choose_layer(qtbot, window, "features.4")
    qtbot.waitUntil(lambda: any(isinstance(r, m.Cancelled) and r.request is first for r in window.answers),
                    timeout=TIMEOUT)
    filled(qtbot, window)
    assert window.grid.count() == 64 and len(window.jobs) == 2 and window.jobs[1].owner == OWNER
    assert cached(tmp_path) == 64  # nothing of the cancelled batch was stored: no chunk of it finished


def test_the_pane_computes_its_channel_in_the_maps_view(qtbot, featvis_window, tmp_path):
    window = featvis_window
    assert not window.deconv.featvis.has_image() and not window.jobs  # off by default: nothing computed
    window.deconv.compute_featvis.setChecked(True)
    qtbot.waitUntil(lambda: window.deconv.featvis.has_image() and not window.backend.busy(PANE_OWNER),
                    timeout=TIMEOUT)
    assert len(window.jobs) == 1 and window.jobs[0].owner == PANE_OWNER and cached(tmp_path) == 1
    shown = window.deconv.featvis.grab().toImage()
    window.grid.select((window.channel + 1) % 32)  # another channel: computed for it alone
    qtbot.waitUntil(lambda: len(window.jobs) == 2 and not window.backend.busy(PANE_OWNER), timeout=TIMEOUT)
    assert cached(tmp_path) == 2 and window.deconv.featvis.grab().toImage() != shown
    assert window.settings.value("featvis/pane") == "true"


def test_the_tiles_are_the_engine_pictures(qtbot, featvis_window, tmp_path):
    from deconvviz.session import featvis_cache as cache

    window = featvis_window
    show_featvis(qtbot, window)
    tiles = window.featvis.tiles
    key = cache.picture_key(tiles.hash, "features.0", 5, **tiles.params().key_params())
    picture = cache.load(key, tmp_path / "cache")
    assert picture.shape == (3, 16, 16)
    assert np.array_equal(tiles.pictures[5], np.round(picture.clamp(0, 1).permute(1, 2, 0).numpy() * 255))


def _find(image: np.ndarray, block: np.ndarray) -> bool:
    """Return whether ``block`` (h, w, 3) occurs in ``image`` (H, W, 3) pixel for pixel."""
    h, w = block.shape[:2]
    ys, xs = np.nonzero(np.all(image[:image.shape[0] - h + 1, :image.shape[1] - w + 1] == block[0, 0], axis=2))
    return any(np.array_equal(image[y:y + h, x:x + w], block) for y, x in zip(ys, xs))


def test_the_grid_export_in_feature_vis_writes_the_pictures_shown_with_their_command(qtbot, featvis_window,
                                                                                   tmp_path):
    from PIL import Image

    from deconvviz.figures.png import read_facts

    window = featvis_window
    show_featvis(qtbot, window)
    tiles = window.featvis.tiles
    out = tmp_path / "grid.png"
    with qtbot.waitSignal(window.shown, timeout=TIMEOUT, check_params_cb=lambda r: isinstance(r, m.Exported)):
        window.export_pane("grid", str(out))
    with Image.open(out) as image:
        pixels = np.asarray(image.convert("RGB"))
    assert all(_find(pixels, tiles.pictures[c]) for c in range(32))  # every tile the user sees, as shown
    facts = read_facts(out)
    assert facts["command"].startswith("deconvviz featvis --model zf-fmnist")
    for option in ("--layer features.0", "--channels 0-31", "--steps 3", "--size 16", "--seed 0", f"--out {out}"):
        assert option in facts["command"]
    assert facts["layer"] == "features.0" and facts["channels"] == ",".join(map(str, range(32)))
    assert "feature vis" in facts["Title"] and not list(tmp_path.glob("*.tmp*"))


def test_the_grid_export_before_the_pictures_are_ready_says_which_are_missing(qtbot, featvis_window, tmp_path):
    from deconvviz.figures.png import read_facts

    window = featvis_window
    window.settings.setValue("featvis/steps", 100000)  # runs until cancelled: no picture arrives
    window.grid_view.setCurrentIndex(1)
    qtbot.waitUntil(lambda: window.jobs and window.jobs[-1] in window.backend.running_all(), timeout=TIMEOUT)
    out = tmp_path / "grid.png"
    with qtbot.waitSignal(window.shown, timeout=TIMEOUT, check_params_cb=lambda r: isinstance(r, m.Exported)):
        window.export_pane("grid", str(out))
    facts = read_facts(out)
    assert facts["pictures"] == "0 of 32 computed" and "--steps 100000" in facts["command"]
    window.backend.cancel(OWNER)


def test_the_panes_empty_feature_vis_says_how_to_get_one(qtbot):
    from deconvviz.gui.deconv_pane import DeconvPane

    pane = DeconvPane()
    qtbot.addWidget(pane)
    pane.resize(900, 300)
    pane.show()
    view = pane.featvis
    assert not view.has_image() and "tick" in view.placeholder
    blank = view.grab().toImage()
    view.placeholder = ""
    assert view.grab().toImage() != blank  # the words are drawn
    pane.compute_featvis.setChecked(True)
    assert view.placeholder.startswith("computing")
    view.set_image(np.zeros((8, 8, 3), np.uint8))
    with_picture = view.grab().toImage()
    view.placeholder = "something else"
    assert view.grab().toImage() == with_picture  # a picture hides the words


def test_every_layer_in_the_background_fills_the_cache_and_a_visit_then_reads_it(qtbot, settings, tmp_path,
                                                                                   open_window):
    model = tmp_path / "tinynet.py"
    model.write_text("import torch\nimport torch.nn as nn\n"
                     "PREPROCESSING = {'size': [16, 16], 'mode': 'L', 'mean': [0.5], 'std': [0.25]}\n"
                     "def build():\n    torch.manual_seed(0)\n"
                     "    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 6, 3), nn.ReLU(),\n"
                     "                         nn.AdaptiveAvgPool2d(1), nn.Flatten())\n")
    settings.setValue("featvis/steps", 3)
    settings.setValue("featvis/size", 16)
    settings.setValue("featvis/cacheDir", str(tmp_path / "cache"))
    window = open_window(settings, model=f"{model}:build")
    layers = [r for r in window.session.loaded.layers if r.channels or len(r.output_shape) == 1]
    total = sum(r.channels or r.output_shape[0] for r in layers)
    action = window.menuBar().findChild(QMenu, "analysesMenu").findChild(QAction, "featvis-background")
    assert not action.isChecked() and cached(tmp_path) == 0  # off by default
    action.trigger()
    state = window.featvis.background_state
    qtbot.waitUntil(lambda: state.text() == f"every layer's feature vis: {len(layers)} of {len(layers)} layers",
                    timeout=TIMEOUT)
    assert cached(tmp_path) == total and settings.value("featvis/background") == "true"
    # the grid's feature vis view on a layer now reads the disk: no job of its own
    submitted = []
    submit = window.featvis.tiles.submit
    window.featvis.tiles.submit = lambda r: (submitted.append(r), submit(r))
    choose_layer(qtbot, window, layers[2].name)
    window.grid_view.setCurrentIndex(window.grid_view.findText("feature vis"))
    qtbot.waitUntil(lambda: window.grid.picture_count() == window.grid.count() > 0, timeout=TIMEOUT)
    assert submitted == [] and window.featvis_state.text() == f"feature vis: {layers[2].channels} channels (cached)"
    action.trigger()  # off: the status line empties
    assert state.text() == "" and settings.value("featvis/background") == "false"


def test_the_layer_tree_keeps_its_width_when_the_grid_shows_feature_vis(qtbot, featvis_window):
    window = featvis_window
    window.resize(1400, 900)
    choose_layer(qtbot, window, "features.4")
    qtbot.wait(50)
    width = window.tree.width()
    show_featvis(qtbot, window)
    qtbot.wait(50)
    assert window.featvis_state.isVisible() and window.tree.width() == width
