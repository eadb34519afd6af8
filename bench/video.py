"""Live video analysis: analysed frames per second, frame-to-result latency and backlog while a clip plays.

A 60 s clip (the demo clip's pan and zoom, 320x240 at 30 fps, H.264) is played in real time by a decoder
thread: each frame is decoded and handed over at its presentation time. The analyser takes the newest
frame (frames that arrive while it computes are dropped and counted, as in the app) and computes what the
live panes show: the class probabilities (class table), the selected layer's maps with their shared levels
(channel grid) and the selected channel's strongest activation projected back to pixels (deconvnet pane),
from one forward pass and one backward pass (:class:`deconvviz.analyses.frames.FrameAnalyser`), plus the
display scaling. Latency: from a frame's presentation time to its results being ready (the app adds one
queued signal and a repaint).

The alternative, measured in the same run: decoding and computing every frame in order (offline, as fast as
possible, on the first ``--in-order-seconds`` of the clip), and from those per-frame times, a first-in
first-out queue fed in real time, whose backlog and latency grow whenever computing is slower than the clip.

    PYTHONPATH=. python -m bench.video [--models efficientnet-lite0 zf-fmnist] [--seconds 60] [--threads 1]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = {"efficientnet-lite0": ("_blocks.4", 7), "zf-fmnist": ("features.14", 5)}


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def make_clip(seconds: float, fps: int) -> Path:
    """Write the demo clip's pan and zoom, ``seconds`` long at ``fps``, to a temporary file and return it."""
    spec = importlib.util.spec_from_file_location("make_demo_clip", ROOT / "resources/clips/make_demo_clip.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = Path(tempfile.mkdtemp()) / f"clip-{int(seconds)}s.mp4"
    return module.write_clip(path, seconds, fps)


def work(analyser, frame):
    """Return what the panes show for one frame: probabilities, maps with levels, the projection as RGB."""
    from deconvviz.figures.feature_maps import feature_map_levels
    from deconvviz.figures.render import projection_rgb

    a = analyser(frame.image())
    return a.probs, a.maps, feature_map_levels(a.maps), projection_rgb(a.projection)


def live(path: Path, analyser) -> dict:
    """Play ``path`` in real time; analyse the newest frame whenever the analyser is free."""
    from deconvviz.data.video import open_video

    slot: dict = {"frame": None, "arrived": 0.0, "dropped": 0, "delivered": 0, "done": False}
    lock = threading.Condition()
    video = open_video(path)
    start = time.perf_counter() + 0.2

    def play():
        for frame in video.frames():
            due = start + frame.time_s
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            with lock:
                if slot["frame"] is not None:
                    slot["dropped"] += 1
                slot["frame"], slot["arrived"] = frame, max(due, time.perf_counter())
                slot["delivered"] += 1
                lock.notify()
        with lock:
            slot["done"] = True
            lock.notify()

    player = threading.Thread(target=play, daemon=True)
    player.start()
    latencies, lags = [], []  # lag: how far behind the clip the shown frame is, at each result
    analysed = 0
    while True:
        with lock:
            while slot["frame"] is None and not slot["done"]:
                lock.wait()
            if slot["frame"] is None:
                break
            frame, arrived = slot["frame"], slot["arrived"]
            slot["frame"] = None
        work(analyser, frame)
        now = time.perf_counter()
        analysed += 1
        latencies.append(now - arrived)
        lags.append((now - start, (now - start) - frame.time_s))
    player.join()
    video.close()
    elapsed = time.perf_counter() - start
    tenth = max(1, len(lags) // 6)
    return {"analysed_fps": analysed / elapsed, "p50_ms": 1000 * statistics.median(latencies),
            "p95_ms": 1000 * percentile(latencies, 95), "dropped": slot["dropped"], "delivered": slot["delivered"],
            "lag_first_ms": 1000 * statistics.median(l for _, l in lags[:tenth]),
            "lag_last_ms": 1000 * statistics.median(l for _, l in lags[-tenth:])}


def in_order(path: Path, analyser, seconds: float) -> dict:
    """Decode and compute every frame of the first ``seconds`` in order; simulate that order fed in real time."""
    from deconvviz.data.video import open_video

    costs, decode, cpu = [], [], []
    with open_video(path) as video:
        fps = video.fps
        frames = video.frames()
        t0 = time.perf_counter()
        while True:
            t = time.perf_counter()
            frame = next(frames, None)
            if frame is None or frame.time_s >= seconds:
                break
            decode.append(time.perf_counter() - t)
            t, c = time.perf_counter(), time.thread_time()
            work(analyser, frame)
            costs.append(time.perf_counter() - t)
            cpu.append(time.thread_time() - c)  # this thread's CPU time: what the work costs on a free core
        total = time.perf_counter() - t0
    finish, latencies = 0.0, []
    for i, c in enumerate(costs):  # a FIFO queue fed at the clip's rate, served at the measured costs
        arrival = i / fps
        finish = max(finish, arrival) + c
        latencies.append(finish - arrival)
    served_by = finish  # the time the last of these frames is done
    arrived_by = (len(costs) - 1) / fps
    return {"fps": len(costs) / total, "decode_ms": 1000 * statistics.median(decode),
            "compute_ms": 1000 * statistics.median(costs),
            "cpu_ms": 1000 * statistics.median(cpu), "p95_ms": 1000 * percentile(latencies, 95),
            "last_latency_ms": 1000 * latencies[-1], "frames": len(costs),
            "behind_s": served_by - arrived_by, "growth_per_s": max(0.0, fps * statistics.mean(costs) - 1.0)}


def decode_only(path: Path) -> float:
    """Return frames per second of decoding the whole clip to RGB arrays."""
    from deconvviz.data.video import open_video

    with open_video(path) as video:
        t = time.perf_counter()
        n = sum(1 for _ in video.frames())
        return n / (time.perf_counter() - t)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(SETTINGS))
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--in-order-seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: the app's choice)")
    parser.add_argument("--clip", help="an existing clip instead of making one")
    args = parser.parse_args(argv)

    import torch

    from deconvviz.analyses.frames import FrameAnalyser
    from deconvviz.session.compute import app_threads
    from deconvviz.models import load_model

    torch.set_num_threads(args.threads or app_threads())
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    print(f"cores: {os.cpu_count()}, torch threads: {torch.get_num_threads()}")
    path = Path(args.clip) if args.clip else make_clip(args.seconds, args.fps)
    print(f"clip: {path.name}, {path.stat().st_size // 1024} KB; decoding alone: {decode_only(path):.0f} frames/s")
    for name in args.models:
        layer, channel = SETTINGS.get(name, (None, None))
        model = load_model(name)
        analyser = FrameAnalyser(model, layer, channel)
        from deconvviz.data.video import open_video

        with open_video(path) as v:
            first = next(v.frames())
        for _ in range(3):
            work(analyser, first)  # warm up
        order = in_order(path, analyser, args.in_order_seconds)
        result = live(path, analyser)
        print(f"\n{name} ({layer}, channel {channel}): class table + grid + projection per analysed frame")
        print(f"  in order, offline ({order['frames']} frames): {order['fps']:.1f} frames/s "
              f"(decode {order['decode_ms']:.1f} ms + compute {order['compute_ms']:.1f} ms median per frame; compute's "
              f"CPU time {order['cpu_ms']:.1f} ms, i.e. {1000 / order['cpu_ms']:.0f} frames/s on a free core)")
        print(f"  in order, fed at {args.fps} fps: latency p95 {order['p95_ms']:.0f} ms, last frame "
              f"{order['last_latency_ms']:.0f} ms; {order['behind_s']:.1f} s behind after "
              f"{args.in_order_seconds:.0f} s (backlog grows {order['growth_per_s']:.2f} s per s)")
        print(f"  newest frame wins, live for {args.seconds:.0f} s: {result['analysed_fps']:.1f} analysed frames/s "
              f"({result['analysed_fps'] / order['fps']:.2f}x in order; at most the clip's {args.fps}), latency p50 {result['p50_ms']:.0f} ms, "
              f"p95 {result['p95_ms']:.0f} ms; dropped {result['dropped']} of {result['delivered']}; lag behind "
              f"the clip: first sixth {result['lag_first_ms']:.0f} ms, last sixth {result['lag_last_ms']:.0f} ms")
    print("\nuptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
