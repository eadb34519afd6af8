"""Live occlusion in the app: updates per second while a simulated drag sends 200 square positions.

For each model, on CPU, the main window (offscreen) receives 200 occluder moves 2 px apart at a mouse's
rate (one every 8 ms, 125 Hz). Measured: the updates the backend delivers per second, and the end-to-end
latency from each move to the repaint of the class table that shows its answer (median, p95), counted
for the moves whose answer was shown (the others were coalesced away, by design).
The alternative, measured in the same run: the same 200 requests computed one after another without
coalescing (a plain FIFO queue, times from the same per-request compute cost), whose latency grows with
the backlog.

Per drag it also prints where the time went: the worker's wall and CPU time per answer, the gap to its next
answer and its share of the drag busy, the cores the whole process got and the UI thread's CPU per update
shown (on cores shared with other work, the share the process gets decides the rate). The ladder's table
(every level's cost and error, before the drags) gives each answer's CPU time on the one-box plan the app
uses and on the general incremental path, whose answers it asserts equal.

``--mode drag`` (the default) presses the mouse on the square first and releases it after the last move, as
a user does: the answers during the drag are approximate and the release asks for the exact one, whose
latency (release -> repaint) is reported too. ``--mode exact`` moves the square without the mouse held, so
every answer is exact (the app before approximate answers). The move rate caps updates/s: 125/s at 8 ms.

    PYTHONPATH=. python -m bench.live_occlusion [--models zf-fmnist efficientnet-lite0] [--moves 200]
        [--interval-ms 8] [--mode drag|exact] [--heap held|glibc]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def drag_positions(height, width, size, moves):
    """Return (row, col) centres of a back-and-forth horizontal drag, 2 px apart, across the image's middle."""
    span = max(1, width - size)
    out = []
    for i in range(moves):
        step = (2 * i) % (2 * span)
        col = step if step <= span else 2 * span - step
        out.append((height / 2, size / 2 + col))
    return out


def canvas_centre(canvas):
    """Return the image (row, col) of the square's centre (the middle of the image when there is none)."""
    if canvas.square is None:
        return canvas._shape[0] / 2, canvas._shape[1] / 2
    return canvas.square[0] + canvas.size / 2, canvas.square[1] + canvas.size / 2


def photos() -> list:
    """Return the bundled photos (resources/photos), sorted by name."""
    from deconvviz.data.images import sample_photos

    return sorted(sample_photos(), key=lambda p: p.name)


def measure_ladder(name: str = "efficientnet-lite0", step: int = 4) -> list[dict]:
    """Return one row per candidate level (:data:`~deconvviz.engine.occlusion_ladder.CANDIDATES`): its median
    and p95 cost per answer (ms, wall; and its median CPU time, on the one-box plan and on the general path),
    and its error against the exact answer (max |dp|, the exact top class's worst rank), over a drag of the
    default square along the middle row of each bundled photo, ``step`` px apart.
    The levels are timed in turn at each position, so a change in the machine's load hits them alike."""
    import numpy as np
    import torch

    from deconvviz.data.images import load_image
    from deconvviz.engine.occlusion import OcclusionSession, default_patch_stride
    from deconvviz.engine.occlusion_ladder import CANDIDATES, answer_error, worst
    from deconvviz.models import load_model
    from deconvviz.session.compute import app_threads

    torch.set_num_threads(app_threads())
    model = load_model(name)
    costs = {level: [] for level in CANDIDATES}
    cpu = {level: [] for level in CANDIDATES}  # the same answers' CPU time (what the load does not stretch)
    general = {level: [] for level in CANDIDATES}  # CPU time of the same answers on the general path
    errors = {level: [] for level in CANDIDATES}
    per_photo = {level: {} for level in CANDIDATES}
    for photo in photos():
        x = model.preprocess(load_image(photo))
        session = OcclusionSession(model.net, x)
        inc = session.incremental_net
        height, width = x.shape[2:]
        size = default_patch_stride(height, width)[0]
        top = (height - size) // 2
        for left in range(0, width - size + 1, step):
            exact = None
            for level in CANDIDATES:
                how = False if level.exact else level.field
                t0, c0 = time.perf_counter(), time.thread_time()
                probs, _ = session.occlude(top, left, size, approximate=how)
                costs[level].append(time.perf_counter() - t0)
                cpu[level].append(time.thread_time() - c0)
                if inc is not None:  # the same answer on the general path (no compiled one-box plan)
                    inc.single = False
                    c0 = time.thread_time()
                    slow, _ = session.occlude(top, left, size, approximate=how)
                    general[level].append(time.thread_time() - c0)
                    inc.single = True
                    assert np.array_equal(slow, probs), "the one-box plan and the general path disagree"
                exact = probs if level.exact else exact
                e = answer_error(probs, exact)
                errors[level].append(e)
                per_photo[level].setdefault(photo.stem, []).append(e)
    rows = []
    for level in CANDIDATES:
        w = worst(errors[level])
        rows.append({"level": level, "median_ms": statistics.median(costs[level]) * 1000,
                     "p95_ms": percentile(costs[level], 95) * 1000, "cpu_ms": statistics.median(cpu[level]) * 1000,
                     "general_cpu_ms": statistics.median(general[level]) * 1000 if general[level] else float("nan"),
                     "error": w,
                     "per_photo": {k: worst(v) for k, v in per_photo[level].items()}})
    return rows


def print_ladder(rows: list[dict], name: str = "efficientnet-lite0") -> None:
    """Print the ladder's table: per level its cost, its error and whether it is within the bound."""
    from deconvviz.engine.occlusion_ladder import BOUND, LADDER, allowed

    kept = allowed([r["level"] for r in rows], [r["error"] for r in rows])
    print(f"ladder ({name}, default layer and square, drag along the middle row of {', '.join(p.stem for p in photos())};"
          f" bound: max |dp| <= {BOUND.max_dp:g}, exact top class within the top {BOUND.top_rank + 1})")
    print(f"{'level':<11} {'median':>8} {'p95':>8} {'CPU':>8} {'general':>8} {'ratio':>6} {'max|dp|':>8} {'top rank':>8}"
          f"  {'within':>6}  in LADDER  per photo max|dp|")
    for r in rows:
        e = r["error"]
        photos_text = " ".join(f"{k} {v.max_dp:.3f}" for k, v in r["per_photo"].items())
        print(f"{r['level'].describe():<11} {r['median_ms']:>6.1f}ms {r['p95_ms']:>6.1f}ms {r['cpu_ms']:>6.1f}ms"
              f" {r['general_cpu_ms']:>6.1f}ms {r['general_cpu_ms'] / r['cpu_ms']:>5.2f}x"
              f" {e.max_dp:>8.4f} {e.worst_rank + 1:>8}"
              f"  {'yes' if e.within() else 'NO':>6}  {'yes' if r['level'] in LADDER else 'no':>9}  {photos_text}")
    print(f"allowed by the bound: {', '.join(l.describe() for l in kept)}")
    print("median, p95: wall time per answer; CPU: its CPU time; general: the CPU time of the same answer on the"
          " general path (IncrementalNet.run without the compiled one-box plan; equal answers), ratio general / CPU")


def fixed_chooser(level):
    """Return a LevelChooser that answers every moving square at ``level`` (the app before the budget: one
    fixed setting), still timing each answer."""
    from deconvviz.session.budget import LevelChooser
    from deconvviz.session.occlusion_adapter import EXACT

    chooser = LevelChooser((EXACT,) if level.exact else (EXACT, level))
    chooser.index = len(chooser.levels) - 1
    learn = chooser.record

    def record(index, seconds):
        learn(index, seconds)
        chooser.index = len(chooser.levels) - 1  # never steps

    chooser.record = record
    return chooser


def run_model(name: str, moves: int, interval_ms: int, mode: str = "drag", fixed=None) -> dict:
    import torch
    from PySide6.QtCore import QEvent, QEventLoop, QObject, QSettings, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from deconvviz.data.images import default_photo
    from deconvviz.session import messages as m
    from deconvviz.gui.backend import Backend
    from deconvviz.gui.main_window import MainWindow

    from deconvviz.session.compute import app_threads

    import sys

    torch.set_num_threads(app_threads())  # as run_app does
    sys.setswitchinterval(0.001)
    app = QApplication.instance() or QApplication([])
    settings = QSettings(os.path.join(tempfile.mkdtemp(), "bench.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings, backend=Backend("cpu"), model=name, image=str(default_photo()))
    window.show()
    deadline = time.perf_counter() + 120
    while (window.pixels is None or window.backend.busy() or not window.deconv.projection.has_image()) \
            and time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.005)
    h, w = window.pixels.shape[:2]
    # The first press builds the incremental session for the selected map (timed apart from the drag).
    t0 = time.perf_counter()
    window.canvas.move_to(h / 2, w / 2)
    first = window.tracker.latest["Occlude"]
    while window.tracker.shown.get("Occlude") != first and time.perf_counter() < deadline + 120:
        app.processEvents()
        time.sleep(0.001)
    first_press_ms = (time.perf_counter() - t0) * 1000
    if fixed is not None:
        window.backend.compute.occluder.chooser = fixed_chooser(fixed)

    sent: dict[int, float] = {}
    shown: dict[int, float] = {}
    painted: dict[int, float] = {}
    pending_paint: list[int] = []

    kinds = {"approximate": 0, "exact": 0}
    levels: dict[str, int] = {}  # the levels that answered the moving square, and how often

    def on_shown(result):
        if isinstance(result, m.Occluded):
            shown[result.request.generation] = time.perf_counter()
            pending_paint.append(result.request.generation)
            kinds["approximate" if result.approximate else "exact"] += 1
            if result.request.approximate:
                levels[result.level] = levels.get(result.level, 0) + 1

    class PaintWatch(QObject):
        """Stamps answers shown with the time of the class table's next paint (the frame that displays them).

        Installed on the table's viewport only: an application-wide filter would run Python for every event
        of every widget, work the app itself does not do."""

        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint and pending_paint:
                now = time.perf_counter()
                for g in pending_paint:
                    painted.setdefault(g, now)
                pending_paint.clear()
            return False

    # The worker's side of each answer: wall and thread CPU time inside Compute.handle (the rest of the
    # latency is the wait for the worker, the hand-over to the UI thread and the repaint).
    compute = window.backend.compute
    worker_times: list[tuple[float, float]] = []
    spans: list[tuple[float, float]] = []  # (start, end) of each answer in the worker
    handle = compute.handle

    def timed_handle(request, *args, **kwargs):
        if not isinstance(request, m.Occlude):
            return handle(request, *args, **kwargs)
        w0, c0 = time.perf_counter(), time.thread_time()
        try:
            return handle(request, *args, **kwargs)
        finally:
            worker_times.append(((time.perf_counter() - w0) * 1000, (time.thread_time() - c0) * 1000))
            spans.append((w0, time.perf_counter()))

    compute.handle = timed_handle
    watch = PaintWatch()
    window.table.viewport().installEventFilter(watch)
    window.shown.connect(on_shown)
    positions = iter(drag_positions(h, w, window.canvas.size, moves))
    loop = QEventLoop()
    timer = QTimer(interval=interval_ms)
    state = {"last": None, "released": None, "exact": None}
    canvas = window.canvas
    if mode == "drag":  # the mouse held on the square: the window asks for approximate answers
        QTest.mousePress(canvas, Qt.MouseButton.LeftButton, pos=canvas.to_widget(*canvas_centre(canvas)).toPoint())

    def move():
        try:
            row, col = next(positions)
        except StopIteration:
            timer.stop()
            state["last"] = max(sent)
            if mode == "drag":
                before = window.tracker.latest["Occlude"]
                state["released"] = time.perf_counter()
                QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton,
                                   pos=canvas.to_widget(*canvas_centre(canvas)).toPoint())
                state["exact"] = window.tracker.latest["Occlude"] if window.tracker.latest["Occlude"] != before else None
            return
        before = window.tracker.latest.get("Occlude")
        canvas.move_to(row, col)  # what mouseMoveEvent does while the button is held
        if window.tracker.latest.get("Occlude") != before:
            sent[window.tracker.latest["Occlude"]] = time.perf_counter()

    def check():
        last = state["exact"] or state["last"]
        if last is not None and last in painted:
            loop.quit()

    timer.timeout.connect(move)
    poll = QTimer(interval=4)  # only ends the run: the times come from the paint events
    poll.timeout.connect(check)
    QTimer.singleShot(120_000, loop.quit)
    start, cpu_start, ui_start = time.perf_counter(), time.process_time(), time.thread_time()
    timer.start()
    poll.start()
    loop.exec()
    poll.stop()
    cpu_s, ui_s = time.process_time() - cpu_start, time.thread_time() - ui_start
    compute.handle = handle
    window.table.viewport().removeEventFilter(watch)
    last = state["last"]
    end = painted.get(last, time.perf_counter())
    exact_ms = None
    if state["exact"] is not None and state["exact"] in painted:
        exact_ms = (painted[state["exact"]] - state["released"]) * 1000
    if not painted:
        raise SystemExit(f"{name}: {len(shown)} answers shown but no repaint seen")
    latencies = [(painted[g] - sent[g]) * 1000 for g in painted if g in sent]
    updates = len([g for g in painted if g in sent])
    positions = drag_positions(h, w, window.canvas.size, moves)

    # The alternative: every request computed in order, no coalescing, same compute per request.
    layer, channel = window.layer, window.channel
    costs = []
    for (row, col) in positions[:40]:
        top, left = window.canvas._clamp(int(round(row - window.canvas.size / 2)), int(round(col - window.canvas.size / 2)))
        t0 = time.perf_counter()
        compute.handle(m.Occlude(0, top, left, window.canvas.size, layer, channel, approximate=mode == "drag"))
        costs.append(time.perf_counter() - t0)
    cost = statistics.median(costs)
    finish, fifo = 0.0, []
    for i in range(len(positions)):
        arrive = i * interval_ms / 1000
        finish = max(finish, arrive) + cost
        fifo.append((finish - arrive) * 1000)
    window.close()
    return {
        "model": name, "threads": torch.get_num_threads(), "moves": moves, "updates": updates,
        "updates_per_s": updates / (end - start), "median_ms": statistics.median(latencies),
        "p95_ms": percentile(latencies, 95), "compute_ms": cost * 1000,
        "fifo_median_ms": statistics.median(fifo), "fifo_p95_ms": percentile(fifo, 95),
        "moves_per_s": (len(sent) - 1) / max(1e-9, max(sent.values()) - min(sent.values())),
        "first_press_ms": first_press_ms, "mode": mode, "exact_after_release_ms": exact_ms,
        "approximate_shown": kinds["approximate"], "exact_shown": kinds["exact"], "levels": levels,
        "worker_gap_ms": statistics.median((b[0] - a[1]) * 1000 for a, b in zip(spans, spans[1:]))
        if len(spans) > 1 else float("nan"),
        "worker_busy": sum(b - a for a, b in spans) / max(1e-9, end - start),
        "worker_wall_ms": statistics.median(w for w, _ in worker_times) if worker_times else float("nan"),
        "worker_cpu_ms": statistics.median(c for _, c in worker_times) if worker_times else float("nan"),
        "process_cpu_share": cpu_s / max(1e-9, end - start), "ui_cpu_ms": ui_s * 1000,
        "label": f"{name} fixed {fixed.describe()}" if fixed is not None else f"{name} chooser", "device": str(window.backend.device), "drag_s": moves * interval_ms / 1000, "total_s": end - start,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["zf-fmnist", "efficientnet-lite0"])
    parser.add_argument("--moves", type=int, default=200)
    parser.add_argument("--interval-ms", type=int, default=8)
    parser.add_argument("--mode", choices=["drag", "exact"], default="drag")
    parser.add_argument("--fixed", nargs="*", type=float, default=[0.5, 1.0],
                        help="fields for the fixed-level drags of efficientnet-lite0 (1: exact; none: skip)")
    parser.add_argument("--ladder-step", type=int, default=4, help="px between the ladder's positions (0: skip)")
    parser.add_argument("--heap", choices=["held", "glibc"], default="held",
                        help="the heap as the deconvviz program holds it (deconvviz.engine.heap.hold), or glibc's own")
    args = parser.parse_args()
    if args.heap == "held":
        from deconvviz.engine.heap import hold

        hold()  # before the app's threads start, as the deconvviz program does

    from bench.cpu import cpu_line
    from deconvviz.engine.occlusion_ladder import Level
    from deconvviz.session.budget import DEFAULT_BUDGET_MS

    print(cpu_line() + f"; heap: {args.heap}")
    if args.ladder_step:
        print_ladder(measure_ladder(step=args.ladder_step))
        print()
    rows = [run_model(name, args.moves, args.interval_ms, args.mode) for name in args.models]
    if args.mode == "drag" and "efficientnet-lite0" in args.models:
        rows += [run_model("efficientnet-lite0", args.moves, args.interval_ms, args.mode, Level(f)) for f in args.fixed]
    print(f"live occlusion, CPU, {args.moves} moves every {args.interval_ms} ms (drag of {rows[0]['drag_s']:.1f} s), "
          f"mode {args.mode}, budget {DEFAULT_BUDGET_MS:g} ms")
    print(f"{'drag':<32} {'threads':>7} {'compute':>9} {'updates':>8} {'upd/s':>7} {'median':>8} {'p95':>8}"
          f" | {'FIFO median':>11} {'FIFO p95':>9} {'ratio p95':>9}")
    for r in rows:
        print(f"{r['label']:<32} {r['threads']:>7} {r['compute_ms']:>7.1f}ms {r['updates']:>8} {r['updates_per_s']:>7.1f} "
              f"{r['median_ms']:>6.1f}ms {r['p95_ms']:>6.1f}ms | {r['fifo_median_ms']:>9.0f}ms {r['fifo_p95_ms']:>7.0f}ms "
              f"{r['fifo_p95_ms'] / r['p95_ms']:>8.1f}x")
    for r in rows:
        after = "" if r["exact_after_release_ms"] is None else \
            f"; release -> exact answer repainted {r['exact_after_release_ms']:.1f} ms"
        used = ", ".join(f"{k} {v}" for k, v in sorted(r["levels"].items(), key=lambda kv: -kv[1]))
        print(f"{r['label']}: moves sent {r['moves_per_s']:.0f}/s (the ceiling of upd/s); answers shown "
              f"{r['approximate_shown']} approximate, {r['exact_shown']} exact{after}; levels while moving: {used or '-'}")
        print(f"{r['label']}: worker per answer median {r['worker_wall_ms']:.1f} ms wall, {r['worker_cpu_ms']:.1f} ms CPU,"
              f" median gap to the next {r['worker_gap_ms']:.1f} ms, busy {r['worker_busy']:.0%};"
              f" the process used {r['process_cpu_share']:.2f} cores during the drag, the UI thread"
              f" {r['ui_cpu_ms'] / max(1, r['updates']):.1f} ms CPU per update shown ({r['moves']} moves)")
    for r in rows:
        if r["label"] == "efficientnet-lite0 chooser":
            ok = r["updates_per_s"] >= 60 and r["p95_ms"] <= 33
            print(f"targets (efficientnet-lite0 with the chooser: >= 60 updates/s, p95 <= 33 ms): "
                  f"{r['updates_per_s']:.1f}/s, p95 {r['p95_ms']:.1f} ms: {'met' if ok else 'MISSED'}")
    print("first press (builds the incremental session): "
          + ", ".join(f"{r['label']} {r['first_press_ms']:.0f} ms" for r in rows))
    print("latency: move -> repaint of the class table showing that move's answer (moves whose answer was shown);")
    print("FIFO: the same requests computed in order without coalescing (from the measured per-request cost).")
    print(cpu_line().split(", load")[0] + ", at the end: load" + cpu_line().split(", load")[1].split(";")[0])


if __name__ == "__main__":
    main()
