"""Lanes, as the user meets them: the square answers while a view's long job runs; closing a view ends its jobs."""

from __future__ import annotations

import statistics
import threading
import time

import torch
from PySide6.QtCore import Qt

from deconvviz.session import messages as m
from analyses_helpers import open_from_menu
from settle import settled

TIMEOUT = 30000


def drag_answers(qtbot, window, columns) -> list[float]:
    """Drag the square with the mouse over ``columns``, holding still at each until the probabilities on
    screen are its answer; return the seconds each took from the mouse move to the table showing it."""
    canvas, table = window.canvas, window.table
    h = window.pixels.shape[0]
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=canvas.to_widget(h / 2, 2).toPoint())
    seconds = []
    try:
        for col in columns:
            answered = []
            window.shown.connect(answered.append)
            started = time.monotonic()
            qtbot.mouseMove(canvas, pos=canvas.to_widget(h / 2, col).toPoint())
            square = canvas.square
            qtbot.waitUntil(lambda: any(isinstance(r, m.Occluded) and (r.request.top, r.request.left) == square
                                        and (table.values == r.probs).all() for r in answered), timeout=TIMEOUT)
            seconds.append(time.monotonic() - started)
            window.shown.disconnect(answered.append)
    finally:
        qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=canvas.to_widget(h / 2, 2).toPoint())
    return seconds


def test_the_square_answers_while_a_views_long_job_runs_within_a_bound_of_its_idle_answer(qtbot, window):
    """A view's job that runs its model copy flat out and never checks cancel (the worst a top-9 build or a
    sanity check can do) does not hold the square back: its answer arrives within 4x the idle answer's
    median + 0.5 s (a generous bound for two busy threads on 2 loaded cores). With one queue it waited for
    the whole job (here: until released, after the test's 30 s timeout)."""
    view = open_from_menu(window, "filters")
    qtbot.waitUntil(lambda: settled(window.backend), timeout=TIMEOUT)
    w = window.pixels.shape[1]
    idle = drag_answers(qtbot, window, range(4, w - 4, 3)[:8])

    release, passes = threading.Event(), []

    shape = tuple(window.backend.compute.x.shape[1:])  # the model's input, as preprocessed

    def build(model, progress, cancel):
        x = torch.rand(32, *shape, device=model.device)
        with torch.no_grad():
            while not release.is_set():
                model.net(x)
                passes.append(1)
        return len(passes)

    try:
        view.submit("index", build, lambda n: view.show_message(f"{n} passes"), long=True)
        qtbot.waitUntil(lambda: len(passes) > 2, timeout=TIMEOUT)
        busy = drag_answers(qtbot, window, range(w - 5, 3, -3)[:8])
        assert not release.is_set() and view.busy(), "the view's job ended: the test measured nothing"
    finally:
        release.set()
    qtbot.waitUntil(lambda: view.last_message.endswith("passes"), timeout=TIMEOUT)
    bound = 4 * statistics.median(idle) + 0.5
    print(f"\nsquare's answer: idle median {statistics.median(idle) * 1000:.0f} ms, during the view's job median "
          f"{statistics.median(busy) * 1000:.0f} ms, worst {max(busy) * 1000:.0f} ms (bound {bound * 1000:.0f} ms)")
    assert statistics.median(busy) < bound and max(busy) < 2 * bound


def test_closing_a_view_cancels_its_running_and_waiting_jobs(qtbot, window):
    view = open_from_menu(window, "filters")
    # the view's own first answer shown, not only computed: it must not land among the cancellations below
    qtbot.waitUntil(lambda: view.panel is not None and settled(window.backend), timeout=TIMEOUT)
    started, checks, shown = threading.Event(), [], []

    def long_job(model, progress, cancel):
        started.set()
        while not cancel():
            checks.append(1)
            time.sleep(0.01)
        return "partial"

    view.done.connect(shown.append)
    view.submit("index", long_job, lambda r: shown.append("shown " + r), long=True)
    assert started.wait(10)
    view.submit("crops", lambda *_: "never", lambda r: shown.append("shown " + r))
    view.submit("save", lambda *_: "never", lambda r: shown.append("shown " + r), model=False)
    assert window.backend.pending(view.slug) == 2 and view.cancel_button.isEnabled()
    view.close()
    assert not view.isVisible()
    qtbot.waitUntil(lambda: not window.backend.busy(view.slug), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: len(shown) == 3, timeout=TIMEOUT)
    assert sorted(shown) == ["cancelled crops", "cancelled index", "cancelled save"]
    with qtbot.waitSignal(window.shown, timeout=TIMEOUT, check_params_cb=lambda r: isinstance(r, m.Occluded)):
        window.canvas.move_to(10, 12)  # the main window goes on
