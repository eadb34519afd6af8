"""Invariance (Fig. 5) from the Analyses menu: pyqtgraph curves for the current image, and the export."""

from __future__ import annotations

import pytest

from analyses_helpers import export_and_read, open_from_menu, run_and_wait, wait_for


def test_curves_for_the_current_image(qtbot, window, tmp_path):
    view = open_from_menu(window, "invariance")
    wait_for(qtbot, view, lambda: view.result is not None)
    x, d0 = view.curve(0)
    assert x == view.result.amounts and len(x) == 13 and x[6] == 0.0
    assert d0[6] == pytest.approx(0.0, abs=1e-5) and max(d0) > 0  # identical at no shift, different otherwise
    _, d1 = view.curve(1)
    assert d1[6] == pytest.approx(0.0, abs=1e-5)
    _, p = view.curve(2)
    assert p[6] == pytest.approx(float(window.base_probs.max()), abs=1e-4)  # p(true class) untransformed
    titles = [plot.getPlotItem().titleLabel.text for plot in view.plots]
    assert titles == ["distance at features.3", "distance at classifier.4", "p(true class)"]

    assert run_and_wait(qtbot, view, "invariance", lambda: view.kind.setCurrentText("rotate")) == "invariance"
    x, _ = view.curve(2)
    assert x[0] == 0.0 and x[-1] == 360.0
    assert view.plots[0].getPlotItem().getAxis("bottom").labelText == "rotation (degrees)"

    assert run_and_wait(qtbot, view, "invariance", lambda: view.others.setChecked(True)) == "invariance"
    assert len(view.plots[2].getPlotItem().listDataItems()) == 4  # coffee and the three other photos
    _, facts = export_and_read(qtbot, view, tmp_path / "invariance.png")
    assert facts["command"].startswith("deconvviz invariance --model zf-fmnist --images ")
    assert "--transform rotate --out " in facts["command"] and facts["images"].startswith("coffee.png,")


def test_curves_follow_the_main_windows_image(qtbot, window):
    from deconvviz.data.images import sample_photos

    view = open_from_menu(window, "invariance")
    wait_for(qtbot, view, lambda: view.result is not None)
    chelsea = next(str(p) for p in sample_photos() if p.name == "chelsea.png")
    assert run_and_wait(qtbot, view, "invariance", lambda: window.open_image(chelsea)) == "invariance"
    assert view.result.names == ["chelsea.png"]
    assert view.plots[2].getPlotItem().listDataItems()[0].name().startswith("chelsea.png (")
