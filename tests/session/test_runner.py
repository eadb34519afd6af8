"""The one job runner's core, without Qt: answers and messages, coalescing, owners, cancel, escalation, stop."""

from __future__ import annotations

import threading
import time

from deconvviz.data.images import default_photo
from deconvviz.engine._control import check
from deconvviz.errors import DeconvvizError
from deconvviz.session import messages as m
from deconvviz.session.runner import Runner, ThreadHost
from deconvviz.session.tracker import Generations

G = Generations()


def job(fn, name="job", owner="view", long=False, model_args=None):
    return m.Analysis(G.next(), owner=owner, name=name, fn=fn, model_args=model_args, long=long)


def collect(runner):
    got = []
    runner.on_result = got.append
    return got


def until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_answers_and_errors_are_the_same_messages_for_every_owner():
    runner = Runner("cpu")
    got = collect(runner)
    runner.submit(job(lambda model, progress, cancel: 41 + 1, "a"))
    runner.submit(job(lambda *_: (_ for _ in ()).throw(DeconvvizError("no such layer 'x'; valid: a, b")), "b"))
    runner.submit(job(lambda *_: [][1], "c"))
    runner.submit(m.LoadModel(G.next(), "no-such-model"))
    assert [type(r) for r in got] == [m.Done, m.Failed, m.Failed, m.Failed]
    assert got[0].value == 42
    assert got[1].message == "no such layer 'x'; valid: a, b"
    assert got[2].message == "model raised IndexError: list index out of range"
    assert "unknown model" in got[3].message
    assert not runner.busy()


def test_an_analysis_job_gets_the_runners_own_model_copy_on_its_device():
    runner = Runner("cpu")
    got = collect(runner)
    runner.submit(m.LoadModel(G.next(), "zf-fmnist"))
    runner.submit(job(lambda model, p, c: (model.name, str(model.device)), model_args=("zf-fmnist", None)))
    assert got[-1].value == ("zf-fmnist", "cpu")
    assert runner.compute_for("view").analysis_model("zf-fmnist", None) is not runner.compute.model


def test_a_cancelled_job_reports_cancelled_even_with_a_partial_result():
    runner = Runner("cpu")
    got = collect(runner)

    def stops_early(model, progress, cancel):
        runner.cancel("view")  # the user pressed Cancel while it ran
        return "partial" if cancel() else "complete"

    def raises(model, progress, cancel):
        runner.cancel("view")
        check(cancel)

    runner.submit(job(stops_early, "early"))
    runner.submit(job(raises, "raise"))
    runner.submit(job(lambda *_: "fine", "later"))  # a job submitted after a cancel runs
    assert [(type(r), r.request.name) for r in got] == [(m.Cancelled, "early"), (m.Cancelled, "raise"),
                                                          (m.Done, "later")]


def test_cancel_acts_on_one_owner():
    runner = Runner("cpu")
    got = collect(runner)

    def cancels_the_other_view(model, progress, cancel):
        runner.cancel("other")
        return cancel()

    runner.submit(job(cancels_the_other_view, owner="view"))
    assert isinstance(got[-1], m.Done) and got[-1].value is False


def test_waiting_jobs_of_one_kind_coalesce_into_the_newest_and_the_main_window_is_answered_meanwhile():
    runner = Runner("cpu", ThreadHost())
    got = collect(runner)
    release, ran = threading.Event(), []

    def long_job(model, progress, cancel):
        while not release.is_set():
            cancel()
            time.sleep(0.01)
        return "built"

    try:
        runner.submit(job(long_job, "index", long=True))
        until(lambda: runner.running() is not None)
        for _ in range(3):
            runner.submit(job(lambda m_, p, c, g=len(ran): ran.append(g) or g, "crops"))
        runner.submit(m.LayerMaps(G.next(), "features.4"))  # no model yet: answered (Failed) during the build
        until(lambda: any(isinstance(r.request, m.LayerMaps) for r in got))
        assert not any(isinstance(r, m.Done) for r in got)
        release.set()
        until(lambda: sum(isinstance(r, m.Done) for r in got) == 2)
    finally:
        release.set()
        runner.stop()
    assert ran == [0]  # three waiting "crops" jobs: one computed
    assert [r.value for r in got if isinstance(r, m.Done)] == ["built", 0]
    assert not runner.worker.host.running(runner.worker)


def test_a_pure_python_loop_is_interrupted_after_grace_without_abandoning():
    runner = Runner("cpu", ThreadHost(), grace=0.2, watchdog=0.2)
    got, stalls = collect(runner), []
    runner.on_stalled = lambda seconds, kind: stalls.append(kind)

    def loop(model, progress, cancel):
        while True:
            pass

    try:
        runner.submit(job(loop, "saliency"))
        until(lambda: runner.running_for() > 0.3)
        runner.check_stall()
        assert stalls == ["saliency"]
        runner.cancel("view")
        until(lambda: got)
        assert isinstance(got[0], m.Failed) and got[0].message.startswith("stopped:")
        assert "did not answer saliency" in got[0].message and runner.abandoned == 0
        runner.submit(job(lambda *_: "after", "next"))
        until(lambda: len(got) == 2)
        assert got[1].value == "after"
    finally:
        runner.stop()


def test_a_call_that_never_returns_is_abandoned_and_a_fresh_worker_restores_the_model():
    runner = Runner("cpu", ThreadHost(), grace=0.2)
    got = collect(runner)
    runner.submit(m.LoadModel(G.next(), "zf-fmnist"))
    runner.submit(m.LoadImage(G.next(), str(default_photo())))
    until(lambda: len(got) == 2)
    old = runner.worker
    done = threading.Event()
    try:
        # a C call in the main window's lane: the interrupt cannot land
        runner.submit(job(lambda *_: done.wait(3) and "late", "sleep", owner="main"))
        until(lambda: runner.running_for() > 0.1)
        runner.cancel()
        until(lambda: len(got) == 3, timeout=5)
        assert got[2].message.startswith("abandoned:") and "back to zf-fmnist" in got[2].message
        assert runner.abandoned == 1 and runner.worker is not old and runner.stuck_workers() == [old]
        runner.submit(m.LayerMaps(G.next(), "features.4"))
        until(lambda: len(got) == 4)
        assert isinstance(got[3], m.MapsReady)  # the fresh worker reloaded zf-fmnist and the image
        done.set()
        until(lambda: not runner.stuck_workers())
        assert len(got) == 4  # the abandoned job's late answer is dropped
    finally:
        done.set()
        runner.stop()


def test_stop_ends_a_looping_analysis_job_within_seconds():
    runner = Runner("cpu", ThreadHost())
    got = collect(runner)

    def loop(model, progress, cancel):
        while True:
            pass

    runner.submit(job(loop, "actmax"))
    runner.submit(job(lambda *_: "never", "waiting"))
    until(lambda: runner.running_for() > 0.1)
    started = time.monotonic()
    runner.stop(wait=3.0)
    assert time.monotonic() - started < 3.5
    assert not any(w.host.running(w) for w in runner.workers()) and not runner.stuck_workers()
    assert {type(r) for r in got} == {m.Cancelled, m.Failed}  # the waiting job hears it will not come


def test_a_views_long_job_answers_the_main_windows_new_model_meanwhile_and_a_map_does_not():
    runner = Runner("cpu", ThreadHost())
    got = collect(runner)
    release = threading.Event()

    def long_job(model, progress, cancel):
        while not release.is_set():
            cancel()
            time.sleep(0.01)
        return "built"

    try:
        runner.submit(job(long_job, "index", long=True))
        until(lambda: runner.running() is not None)
        runner.submit(m.LoadModel(G.next(), "zf-fmnist"))  # the view's job runs on its own copy: load now
        until(lambda: any(isinstance(r, m.ModelLoaded) for r in got))
        runner.submit(m.LoadImage(G.next(), str(default_photo())))
        until(lambda: any(isinstance(r, m.ImageLoaded) for r in got))
        assert not any(isinstance(r, m.Done) for r in got)
        release.set()
        until(lambda: any(isinstance(r, m.Done) for r in got))

        release.clear()
        runner.submit(m.OcclusionMap(G.next(), patch=8, stride=4, target=0))
        runner.submit(m.LoadModel(G.next(), "zf-fmnist"))  # waits for the map it would pull the model from under
        until(lambda: sum(isinstance(r, m.ModelLoaded) for r in got) == 2)
        assert [type(r) for r in got[-3:]] == [m.Cancelled, m.ModelLoaded, m.ImageLoaded]  # the load cancelled the map
    finally:
        release.set()
        runner.stop()


def test_abandoning_a_call_inside_a_long_job_answers_the_long_job_too():
    runner = Runner("cpu", ThreadHost(), grace=0.2)
    got = collect(runner)
    done, started = threading.Event(), threading.Event()

    def long_job(model, progress, cancel):
        started.set()
        while True:
            cancel()  # serves the stuck job below, from inside this one (both the main window's)
            time.sleep(0.01)

    try:
        runner.submit(job(long_job, "index", owner="main", long=True))
        started.wait(5)
        runner.submit(m.Analysis(G.next(), owner="main", name="stuck", fn=lambda *_: done.wait(3)))
        until(lambda: runner.running() is not None and runner.running().name == "stuck")
        runner.cancel("main")
        until(lambda: len(got) == 2, timeout=5)
        assert got[0].request.name == "stuck" and got[0].message.startswith("abandoned:")
        assert got[1].request.name == "index" and got[1].message.startswith("stopped: its worker was given up on")
    finally:
        done.set()
        runner.stop()


# -- lanes: the main window's requests never wait behind a view's job ---------------------------------------
def test_the_main_windows_requests_are_answered_while_a_views_job_that_never_checks_runs(tmp_path):
    """The view's job neither checks cancel nor returns until released: every answer the main window gets
    meanwhile came from its own lane, and so did one to the square (an Occlude), in order."""
    runner = Runner("cpu", ThreadHost())
    got = collect(runner)
    release, started = threading.Event(), threading.Event()
    try:
        runner.submit(job(lambda *_: started.set() or release.wait(30) and "built", "index", owner="topk"))
        assert started.wait(5)
        runner.submit(job(lambda *_: "waits", "crops", owner="topk"))  # behind the build, in the views' lane
        asked = [m.LoadModel(G.next(), "zf-fmnist"), m.LoadImage(G.next(), str(default_photo())),
                 m.LayerMaps(G.next(), "features.4"), m.Occlude(G.next(), 3, 4, 8, "features.4", 0),
                 m.Export(G.next(), "grid", str(tmp_path / "grid.png"), m.LayerMaps(0, "features.4"))]
        for request in asked:
            runner.submit(request)
        until(lambda: len(got) >= 5, timeout=15)
        assert not release.is_set() and runner.running_all()[0].owner == "topk"
        assert [type(r).__name__ for r in got] == ["ModelLoaded", "ImageLoaded", "MapsReady", "Occluded", "Exported"]
        assert (tmp_path / "grid.png").stat().st_size > 0
        assert runner.busy("topk") and runner.pending("topk") == 1 and not runner.busy("main")
        release.set()
        until(lambda: sum(isinstance(r, m.Done) for r in got) == 2)
        assert [r.value for r in got if isinstance(r, m.Done)] == ["built", "waits"]  # the view's: in order
    finally:
        release.set()
        runner.stop()


def test_cancelling_a_view_answers_its_waiting_jobs_at_once_and_stops_its_running_one():
    """What a view's window does when it closes: its jobs end; another view's and the main window's go on."""
    runner = Runner("cpu", ThreadHost())
    got = collect(runner)
    started = threading.Event()

    def long_job(model, progress, cancel):
        started.set()
        while not cancel():
            time.sleep(0.01)
        return "partial"

    try:
        runner.submit(job(long_job, "sanity", owner="sanity", long=True))
        assert started.wait(5)
        waiting = [job(lambda *_: "never", name, owner="sanity") for name in ("crops", "export")]
        for request in waiting:
            runner.submit(request)
        runner.submit(job(lambda *_: "other view", "saliency", owner="saliency"))
        runner.cancel("sanity")
        assert [(type(r), r.request.name) for r in got] == [(m.Cancelled, "crops"), (m.Cancelled, "export")]
        until(lambda: len(got) == 4)
        assert (type(got[2]), got[2].request.name) == (m.Cancelled, "sanity")  # stopped at its next check
        assert (type(got[3]), got[3].value) == (m.Done, "other view")
        assert not runner.busy("sanity") and not runner.busy()
    finally:
        runner.stop()


def test_a_views_stuck_job_is_abandoned_without_touching_the_main_windows_lane():
    runner = Runner("cpu", ThreadHost(), grace=0.2)
    got = collect(runner)
    runner.submit(m.LoadModel(G.next(), "zf-fmnist"))
    runner.submit(m.LoadImage(G.next(), str(default_photo())))
    until(lambda: len(got) == 2)
    main, views = runner.workers()
    done = threading.Event()
    try:
        runner.submit(job(lambda *_: done.wait(3) and "late", "saliency", owner="saliency"))
        until(lambda: runner.running_for() > 0.1)
        runner.cancel("saliency")
        until(lambda: len(got) == 3, timeout=5)
        assert got[2].message.startswith("abandoned:") and "back to" not in got[2].message
        assert runner.workers()[0] is main and runner.workers()[1] is not views and runner.abandoned == 1
        runner.submit(job(lambda *_: "fresh", "saliency", owner="saliency"))
        runner.submit(m.LayerMaps(G.next(), "features.4"))
        until(lambda: len(got) == 5)
        assert {type(r) for r in got[3:]} == {m.Done, m.MapsReady}
        assert main.compute.probe is not None  # the main lane kept its model and image: nothing reloaded
    finally:
        done.set()
        runner.stop()


def test_a_held_heap_goes_back_to_the_system_once_per_idle_spell_after_the_lanes_rest(monkeypatch):
    from deconvviz.engine import heap
    from deconvviz.session import runner as runner_module

    given = []
    monkeypatch.setattr(heap, "give_back", lambda: given.append(1))
    runner = Runner("cpu")
    assert not runner.give_back_when_idle(time.monotonic() + 60)  # nothing computed yet
    runner.submit(job(lambda *_: 1))
    wait = runner_module.GIVE_BACK_S
    start = time.monotonic()
    monkeypatch.setattr(heap, "held", lambda: False)
    assert not runner.give_back_when_idle(start + wait + 1)  # not held: glibc trims by itself
    monkeypatch.setattr(heap, "held", lambda: True)
    assert not runner.give_back_when_idle(start + wait / 2)  # not idle long enough
    assert runner.give_back_when_idle(start + wait + 1)
    until(lambda: given == [1])  # in a thread of its own
    assert not runner.give_back_when_idle(start + 3 * wait)  # once per idle spell
    runner.submit(job(lambda *_: 2))
    assert runner.give_back_when_idle(time.monotonic() + wait + 1)
    until(lambda: len(given) == 2)
    assert given == [1, 1]


FAULTS = """
import resource, sys
import torch
from deconvviz.engine import heap
if sys.argv[1] == "held":
    heap.hold()
counts = []
for _ in range(8):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    torch.ones(16 << 20).sum()  # 64 MiB, above glibc's largest mmap threshold
    counts.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(heap.held(), *counts[4:])
"""


def _faults_of_large_blocks(mode: str) -> tuple[str, list[int]]:
    """Return (whether the heap was held, the page faults of the 5th-8th of eight allocations, fillings and
    frees of a 64 MiB tensor) in a fresh process, whose heap no earlier test has left blocks in. Held, the
    first three may still grow the heap (measured: in 3 of 8 processes the 2nd or 3rd faulted in its pages,
    never a later one), so the count starts at the 5th."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", FAULTS, mode], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    held, *counts = out.stdout.split()
    return held, [int(c) for c in counts]


def test_a_held_heap_reuses_large_blocks_where_glibc_maps_them_afresh():
    import pytest

    from deconvviz.engine import heap

    if heap._LIBC is None:
        pytest.skip("not glibc")
    pages = (64 << 20) // 4096
    held, counts = _faults_of_large_blocks("held")
    assert held == "True" and max(counts) < pages // 4  # the block before's pages reused
    held, counts = _faults_of_large_blocks("glibc")
    assert held == "False" and min(counts) > pages // 2  # mapped afresh each time


def test_inside_a_hold_a_kept_heap_block_changes_nothing_and_release_ends_the_hold(monkeypatch):
    from deconvviz.engine import heap

    class FakeLibc:  # records the calls, so this process's own allocator is left as it is
        def __init__(self):
            self.calls = []

        def mallopt(self, option, value):
            self.calls.append((option, value))

        def malloc_trim(self, pad):
            self.calls.append(("trim", pad))

    libc = FakeLibc()
    monkeypatch.setattr(heap, "_LIBC", libc)
    monkeypatch.setattr(heap, "_held", False)
    assert heap.hold() and heap.held()
    assert libc.calls == [(heap.M_ARENA_MAX, 1), (heap.M_MMAP_THRESHOLD, heap.KEPT_MMAP),
                          (heap.M_TRIM_THRESHOLD, heap.KEPT_TRIM)]
    heap.hold()  # once is enough
    with heap.kept_heap() as applies:
        assert applies
    assert len(libc.calls) == 3 and heap.held()  # neither the block nor its end touched the held heap
    heap.release()
    assert not heap.held()
    assert libc.calls[3:] == [(heap.M_MMAP_THRESHOLD, heap.AFTER_MMAP), (heap.M_TRIM_THRESHOLD, heap.AFTER_TRIM),
                              ("trim", 0)]
