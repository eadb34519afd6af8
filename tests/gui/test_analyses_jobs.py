"""The analysis views' worker: answers, errors as messages, coalescing, cancel, and the Analyses menu."""

from __future__ import annotations

import threading

from analyses_helpers import menu_action
from deconvviz.engine._control import check
from deconvviz.errors import DeconvvizError
from deconvviz.gui.analyses import VIEWS
from deconvviz.gui.analyses.jobs import Job, JobRunner


def collect(runner):
    got = []
    runner.finished.connect(lambda job, result: got.append(("finished", job.key, result)))
    runner.failed.connect(lambda job, message: got.append(("failed", job.key, message)))
    runner.cancelled.connect(lambda job: got.append(("cancelled", job.key, None)))
    return got


def test_answers_and_errors_are_messages(qtbot):
    runner = JobRunner(threaded=False)
    got = collect(runner)
    runner.submit(Job(1, "a", lambda model, progress, cancel: 41 + 1))
    runner.submit(Job(2, "b", lambda *_: (_ for _ in ()).throw(DeconvvizError("no such layer 'x'; valid: a, b"))))
    runner.submit(Job(3, "c", lambda *_: [][1]))
    assert got == [("finished", "a", 42), ("failed", "b", "no such layer 'x'; valid: a, b"),
                   ("failed", "c", "IndexError: list index out of range")]
    assert not runner.busy()


def test_a_cancelled_job_reports_cancelled_even_with_a_partial_result(qtbot):
    runner = JobRunner(threaded=False)
    got = collect(runner)

    def stops_early(model, progress, cancel):
        runner.cancel()  # the user pressed Cancel while it ran
        return "partial" if cancel() else "complete"

    def raises(model, progress, cancel):
        runner.cancel()
        check(cancel)

    runner.submit(Job(1, "early", stops_early))
    runner.submit(Job(2, "raise", raises))
    runner.submit(Job(3, "later", lambda *_: "fine"))  # a job submitted after a cancel runs
    assert got == [("cancelled", "early", None), ("cancelled", "raise", None), ("finished", "later", "fine")]


def test_waiting_jobs_of_one_kind_coalesce_into_the_newest(qtbot):
    runner = JobRunner("test")
    got = collect(runner)
    release = threading.Event()
    ran = []

    def blocking(model, progress, cancel):
        release.wait(10)
        return "first"

    try:
        runner.submit(Job(1, "slow", blocking))
        qtbot.waitUntil(lambda: runner._running is not None, timeout=5000)
        for g in (2, 3, 4):
            runner.submit(Job(g, "maps", lambda m, p, c, g=g: ran.append(g) or g))
        release.set()
        qtbot.waitUntil(lambda: len(got) == 2, timeout=5000)
    finally:
        release.set()
        runner.stop()
    assert ran == [4]
    assert got == [("finished", "slow", "first"), ("finished", "maps", 4)]
    assert not runner.thread.isRunning()


def test_the_menu_lists_every_view(window):
    for slug, _, text in VIEWS:
        assert menu_action(window, slug).text() == text
    assert window.analyses == {}  # nothing is built before it is asked for
