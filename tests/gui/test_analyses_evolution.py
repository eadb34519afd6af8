"""Feature evolution (Fig. 4) from the Analyses menu: the epoch slider drives the main window; the grid."""

from __future__ import annotations

import numpy as np

from analyses_helpers import export_and_read, open_from_menu, run_and_wait
from deconvviz.session import messages as m
from settle import settled

EPOCHS = [1, 2, 5, 10, 20, 30, 40, 64, 70]


def test_the_slider_switches_the_main_window_to_a_snapshot(qtbot, window):
    view = open_from_menu(window, "evolution")
    assert [e for e, _ in view.snapshots] == EPOCHS
    assert view.slider.maximum() == len(EPOCHS) - 1
    channel = next(c for c in range(32) if c != window.channel)
    window.grid.select(channel)
    qtbot.waitUntil(lambda: settled(window.backend), timeout=30000)
    maps_before = window.grid._maxima.copy()

    with qtbot.waitSignal(window.shown, timeout=30000,
                          check_params_cb=lambda r: isinstance(r, m.ProjectionReady)
                          and r.request.generation > window.tracker.epoch and window.weights.endswith("epoch-001.safetensors")):
        view.slider.setValue(0)
    assert view.epoch() == 1 and view.epoch_label.text().startswith("epoch 1 (1/9)")
    assert window.model_name == "zf-fmnist" and window.weights.endswith("epoch-001.safetensors")
    assert window.tree.current_layer() == "features.0"
    assert window.grid.selected == channel  # the same feature, one epoch earlier
    assert not np.allclose(window.grid._maxima, maps_before)  # the grid shows the snapshot's maps

    # dragging across several epochs: the backend coalesces the loads, the last one wins
    with qtbot.waitSignal(window.shown, timeout=30000,
                          check_params_cb=lambda r: isinstance(r, m.ModelLoaded) and r.request.weights.endswith("epoch-010.safetensors")):
        for i in (1, 2, 3):
            view.slider.setValue(i)
    qtbot.waitUntil(lambda: settled(window.backend), timeout=30000)
    assert window.weights.endswith("epoch-010.safetensors") and view.epoch() == 10


def test_the_evolution_grid_and_its_export(qtbot, window, tmp_path):
    view = open_from_menu(window, "evolution")
    view.limit.setValue(50)
    view.channels.setText("1,3")
    assert run_and_wait(qtbot, view, "evolution", view.run_grid) == "evolution"
    assert view.panel.facts["epochs"] == ",".join(map(str, EPOCHS)) and view.panel.facts["channels"] == "1,3"
    assert view.view.pixels().shape[0] > 2 * 80  # two rows of 80-pixel cells
    assert window.weights is None  # computing the grid leaves the main window's weights alone
    _, facts = export_and_read(qtbot, view, tmp_path / "evolution.png")
    assert facts["command"].startswith("deconvviz evolution --history ")
    assert "--layer features.0 --channels 1,3 --limit 50 --out " in facts["command"]

    view.channels.setText("1,x")
    view.run_grid()
    assert view.last_message.startswith("expected integers like 0,3,5-8")


def test_cancelling_the_grid(qtbot, window):
    view = open_from_menu(window, "evolution")
    view.limit.setValue(0)
    assert run_and_wait(qtbot, view, "evolution", lambda: (view.run_grid(), view.cancel())) == "cancelled evolution"
    assert view.panel is None and not view.export_button.isEnabled() and view.progress.isHidden()
