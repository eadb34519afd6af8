"""Approximate occlusion in the app: the live square answers approximately while dragged and exactly when it
stops (never overwritten by a late approximate answer); the map's "approximate" box, its label and its export."""

from __future__ import annotations

import shlex

import numpy as np
import pytest
from PySide6.QtCore import Qt

from deconvviz.cli import main as cli_main
from deconvviz.figures.png import read_facts
from deconvviz.engine.occlusion_ladder import LADDER
from deconvviz.session import messages as m
from occlusion_helpers import direct_probs
from settle import settled


def _shown(qtbot, window, check, timeout=20000):
    """Return the next result the window shows that passes ``check``."""
    got = []
    with qtbot.waitSignal(window.shown, timeout=timeout,
                          check_params_cb=lambda r: check(r) and (got.append(r) or True)):
        pass
    return got[-1]


def _drag(qtbot, window, cols):
    canvas = window.canvas
    h = window.pixels.shape[0]
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=canvas.to_widget(h / 2, cols[0]).toPoint())
    for col in cols[1:]:
        qtbot.mouseMove(canvas, pos=canvas.to_widget(h / 2, col).toPoint())


def test_a_dragged_square_answers_approximately_and_exactly_on_release(qtbot, window):
    window.settings.setValue("occlusion/budgetMs", 1e-6)  # no answer fits: the chooser steps down the ladder
    _drag(qtbot, window, [4])
    answers = []
    window.shown.connect(lambda r: answers.append(r) if isinstance(r, m.Occluded) and r.request.approximate else None)
    for col in (8, 12, 16):  # each move answered before the next (coalesced moves would be one answer)
        qtbot.mouseMove(window.canvas, pos=window.canvas.to_widget(window.pixels.shape[0] / 2, col).toPoint())
        sent = window.tracker.latest["Occlude"]
        qtbot.waitUntil(lambda: any(r.request.generation == sent for r in answers), timeout=20000)
    ladder = [level.describe() for level in LADDER]
    steps = [ladder.index(r.level) for r in answers]
    assert len(steps) >= 3 and all(b == min(a + 1, len(ladder) - 1) for a, b in zip(steps, steps[1:]))  # one per answer
    approx = answers[-1]
    assert approx.request.approximate and approx.request.budget_ms == 1e-6
    assert approx.level.startswith("field ")  # zf-fmnist is supported by incremental inference: really approximate
    assert window.occlusion.answer.text() == f"approximate: {approx.level} (square moving)"
    assert window.table.approximate and window.table.horizontalHeaderItem(1).text() == "≈ probability"
    h, w = window.pixels.shape[:2]
    with qtbot.waitSignal(window.shown, timeout=20000,
                          check_params_cb=lambda r: isinstance(r, m.Occluded) and not r.request.approximate):
        qtbot.mouseRelease(window.canvas, Qt.MouseButton.LeftButton, pos=window.canvas.to_widget(h / 2, 16).toPoint())
    qtbot.waitUntil(lambda: settled(window.backend), timeout=20000)
    assert window.occlusion.answer.text() == "exact"
    assert window.table.horizontalHeaderItem(1).text() == "probability"
    last = window._last_occlude
    assert not last.approximate and (last.top, last.left) == window.canvas.square
    np.testing.assert_allclose(window.table.values, direct_probs(window), atol=2e-6)
    assert window.occlusion.target_prob.text() == f"{float(direct_probs(window)[window.target]):.4f}"


def test_a_dragged_square_whose_exact_answer_fits_the_budget_is_answered_exactly(qtbot, window):
    window.settings.setValue("occlusion/budgetMs", 1e6)
    _drag(qtbot, window, [4, 8, 12])
    moving = _shown(qtbot, window, lambda r: isinstance(r, m.Occluded) and r.request.approximate)
    assert not moving.approximate and moving.level == "exact" and moving.request.budget_ms == 1e6
    assert window.occlusion.answer.text() == "exact (square moving)"
    assert window.table.horizontalHeaderItem(1).text() == "probability"
    qtbot.mouseRelease(window.canvas, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: settled(window.backend), timeout=20000)


def test_a_square_held_still_gets_its_exact_answer_without_a_release(qtbot, window):
    _drag(qtbot, window, [6, 10])
    assert window.canvas.dragging
    exact = _shown(qtbot, window, lambda r: isinstance(r, m.Occluded) and not r.request.approximate)
    assert window.canvas.dragging  # still held: the settle timer asked for it
    assert (exact.request.top, exact.request.left) == window.canvas.square
    np.testing.assert_allclose(exact.probs, direct_probs(window), atol=2e-6)
    qtbot.mouseRelease(window.canvas, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: settled(window.backend), timeout=20000)


def test_a_late_approximate_answer_never_replaces_the_exact_one(qtbot, window):
    """Answers that arrive out of order (an abandoned worker's late result): the older approximate one is
    dropped once the newer exact one is on screen."""
    compute = window.backend.compute
    layer, channel = window.layer, window.channel
    compute.handle(m.Occlude(0, 6, 6, 6, layer, channel, approximate=True, budget_ms=1e-6))  # over budget: steps down
    approx = window.tracker.stamp(lambda g: m.Occlude(g, 6, 6, 6, layer, channel, approximate=True, budget_ms=1e-6))
    exact = window.tracker.stamp(lambda g: m.Occlude(g, 6, 6, 6, layer, channel, approximate=False))
    late, first = compute.handle(approx)[0], compute.handle(exact)[0]
    assert late.approximate and not first.approximate
    window._on_result(first)
    window._on_result(late)
    assert window.occlusion.answer.text() == "exact"
    assert np.array_equal(window.table.values, first.probs)
    assert not window.tracker.is_current(approx)


@pytest.mark.parametrize("approximate", [False, True])
def test_the_map_checkbox_and_its_export_equal_the_cli(qtbot, window, tmp_path, approximate):
    window.occlusion.approximate.setChecked(approximate)
    with qtbot.waitSignal(window.shown, timeout=30000, check_params_cb=lambda r: isinstance(r, m.MapReady)) as got:
        qtbot.mouseClick(window.occlusion.compute, Qt.MouseButton.LeftButton)
    result = got.args[0]
    assert result.request.approximate is approximate and (result.approximation is not None) is approximate
    info = window.occlusion.map_info.text()
    assert info.startswith("approximate (field 1, coarse 2, drill 0.3;" if approximate else "exact map")
    if approximate:
        assert 0 < result.computed < 1 and window.statusBar().currentMessage().startswith("approximate ")
    out = tmp_path / "occlusion.png"
    with qtbot.waitSignal(window.shown, timeout=30000, check_params_cb=lambda r: isinstance(r, m.Exported)):
        window.export_pane("occlusion", str(out))
    command = read_facts(out)["command"]
    argv = shlex.split(command)
    assert argv[:2] == ["deconvviz", "occlusion"] and ("--approximate" in argv) is approximate
    exported = out.read_bytes()
    out.unlink()
    assert cli_main(argv[1:]) == 0  # the command as written, to the same path
    assert out.read_bytes() == exported  # byte for byte: the same map, figure and facts
