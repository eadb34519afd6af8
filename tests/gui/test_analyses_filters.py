"""Filters (Fig. 6) from the Analyses menu: the grid, a snapshot beside it, and an export the CLI reproduces."""

from __future__ import annotations

import shlex

import numpy as np
from PIL import Image

from analyses_helpers import export_and_read, open_from_menu, run_and_wait, wait_for
from deconvviz.cli import main as cli_main
from deconvviz.figures.png import CAPTION_HEIGHT
from deconvviz.paths import WEIGHTS


def test_filters_alone_then_beside_a_snapshot(qtbot, window, tmp_path):
    view = open_from_menu(window, "filters")
    wait_for(qtbot, view, lambda: view.panel is not None)
    alone = view.view.pixels()
    assert view.panel.caption == "first-layer filters · zf-fmnist"
    assert alone.shape[1] > 400 and alone.std() > 10  # 32 filters, not a blank picture
    snapshot = str(WEIGHTS / "zf-fmnist" / "history" / "epoch-001.safetensors")
    assert run_and_wait(qtbot, view, "filters", lambda: view.set_compare(snapshot)) == "filters"
    beside = view.view.pixels()
    assert beside.shape[1] > 1.8 * alone.shape[1]  # two grids side by side
    assert "left vs right" in view.panel.caption

    out = tmp_path / "filters.png"
    pixels, facts = export_and_read(qtbot, view, out)
    assert pixels.shape[0] == beside.shape[0] + CAPTION_HEIGHT  # the panel plus its caption strip
    argv = shlex.split(facts["command"])
    assert argv[:2] == ["deconvviz", "filters"] and "--compare-model" in argv and argv[-1] == str(out)
    again = tmp_path / "again.png"
    argv[-1] = str(again)
    assert cli_main(argv[1:]) == 0
    assert np.array_equal(np.asarray(Image.open(again).convert("RGB")), pixels)  # the same figure code
