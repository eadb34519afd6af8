"""Top-9 (Fig. 2) from the Analyses menu: build an index over 50 bundled Fashion-MNIST images, follow the
main window's channel, export, cancel a build, save and reopen the index."""

from __future__ import annotations

import shlex

import numpy as np
from PIL import Image

from analyses_helpers import export_and_read, open_from_menu, run_and_wait
from deconvviz.cli import main as cli_main
from deconvviz.engine.topk import load_index
from deconvviz.figures.png import CAPTION_HEIGHT
from deconvviz.figures.topk import topk_crops, topk_panel
from settle import settled


def build(qtbot, window, limit=50):
    view = open_from_menu(window, "topk")
    assert view.data.text().endswith("fashion-mnist-subset")  # the bundled data set for zf-fmnist
    view.limit.setValue(limit)
    assert run_and_wait(qtbot, view, "index", view.build) == "index"
    qtbot.waitUntil(lambda: view.shown_channel == window.channel and not view.busy(), timeout=30000)
    return view


def test_top9_of_the_selected_channel_follows_the_main_window(qtbot, window, tmp_path):
    view = build(qtbot, window)
    assert view.index.layer == window.layer == "features.0" and view.index.n_images == 50
    assert len(view.index.entries(window.channel)) == 9
    # what the user sees is the figure the CLI writes for this channel (the worker is idle: its model is free)
    model, source = view.model(), view.source
    crops = topk_crops(model, view.index, window.channel, lambda i: model.preprocess(source.image(i)))
    assert np.array_equal(view.view.pixels(), topk_panel(model, view.index, window.channel, crops).pixels)
    assert f"channel {window.channel} · top-9 of 50 images" in view.heading.text()

    first = view.view.pixels().copy()
    other = (window.channel + 1) % 32
    assert run_and_wait(qtbot, view, "crops", lambda: window.grid.select(other)) == "crops"
    assert view.shown_channel == other and not np.array_equal(view.view.pixels(), first)

    pixels, facts = export_and_read(qtbot, view, tmp_path / "top9.png")
    assert pixels.shape[:2] == (view.panel.pixels.shape[0] + CAPTION_HEIGHT, view.panel.pixels.shape[1])
    assert facts["command"].startswith("deconvviz topk --model zf-fmnist --data ")
    assert f"--layer features.0 --channels {other} --k 9 --limit 50 --out {tmp_path / 'top9'}" in facts["command"]

    # the command in the PNG writes the same channel panel
    argv = shlex.split(facts["command"])
    assert cli_main(argv[1:]) == 0
    again = np.asarray(Image.open(tmp_path / "top9" / f"channel-{other:04d}.png").convert("RGB"))
    assert np.array_equal(again, pixels)

    saved = tmp_path / "index.npz"
    assert run_and_wait(qtbot, view, "save", lambda: view.save(str(saved))) == "save"
    reopened = load_index(saved)
    assert np.array_equal(reopened.values, view.index.values)
    view.index = None
    assert run_and_wait(qtbot, view, "index", lambda: view.open_index(str(saved))) == "index"
    qtbot.waitUntil(lambda: not view.busy(), timeout=30000)
    assert np.array_equal(view.index.image, reopened.image)


def test_another_layer_asks_for_a_new_index(qtbot, window):
    view = build(qtbot, window)
    window.tree.select_layer("features.4")
    qtbot.waitUntil(lambda: window.layer == "features.4" and window.grid.count() == 64, timeout=30000)
    assert "the index holds features.0; Build index for features.4" == view.heading.text()


def test_cancelling_a_build_keeps_the_previous_index(qtbot, window, tmp_path):
    view = build(qtbot, window)
    index = view.index
    view.limit.setValue(0)  # all 2000 images: long enough to cancel
    view.checkpoint_dir = tmp_path
    result = run_and_wait(qtbot, view, "index", lambda: (view.build(), view.cancel_button.click()))
    assert result == "cancelled index"
    assert view.index is index and view.last_message.startswith("index cancelled")
    assert view.progress.isHidden() and not view.cancel_button.isEnabled()
    assert view.build_button.isEnabled()
    # and the app goes on: the main window still answers
    window.tree.select_layer("features.1")
    qtbot.waitUntil(lambda: window.layer == "features.1" and settled(window.backend), timeout=30000)


def test_a_bad_data_set_is_a_message(qtbot, window, tmp_path):
    view = open_from_menu(window, "topk")
    view.data.setText(str(tmp_path / "nothing-here"))
    assert run_and_wait(qtbot, view, "index", view.build) == "failed index"
    assert view.last_message.startswith("data set not found:")
    assert view.index is None and view.panel is None


def test_a_cancelled_build_resumes_and_equals_one_uninterrupted_build(qtbot, window, tmp_path):
    from deconvviz.analyses.topk import topk_index
    from deconvviz.data.sources import open_images
    from deconvviz.models import load_model

    view = open_from_menu(window, "topk")
    view.checkpoint_dir = tmp_path
    reports = []

    def cancel_midway(generation, done, total):
        reports.append(done)
        if done >= 256 and len(reports) < 100:
            view.cancel()

    window.backend.progress.connect(cancel_midway)
    assert run_and_wait(qtbot, view, "index", view.build) == "cancelled index"
    assert "resumes" in view.last_message and list(tmp_path.glob("topk-*.npz"))
    stopped_at = reports[-1]
    assert 256 <= stopped_at < 2000
    reports[:] = [None] * 100  # no more cancels
    assert run_and_wait(qtbot, view, "index", view.build) == "index"
    assert reports[100] > 64  # the first batch after resuming counts the images indexed before the cancel
    assert not list(tmp_path.glob("topk-*.npz"))  # done: the state file is gone
    reference = topk_index(load_model("zf-fmnist"), open_images(view.source_args()[0]), "features.0")
    assert np.array_equal(view.index.values, reference.values) and np.array_equal(view.index.image, reference.image)
