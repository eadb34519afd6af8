"""A seeded random walk of 500 user actions through the main window (tests/gui/random_walk.py draws them).

Asserted over the whole walk: no exception in any slot or callback (a hook fails the test with the actions
that led to it), nothing on stderr and no Qt warning but the expected ones, resident memory bounded, the
window quits in under 5 s with no thread left. The seed is printed; ``DECONVVIZ_WALK_SEED=N`` replays a walk and
``DECONVVIZ_WALK_STEPS=N`` changes its length. The longest UI-thread gap is printed (it includes the actions'
own time on the UI thread: building a view, sending a drag's events).
"""

from __future__ import annotations

import os
import random
import re
import sys
import time
import traceback

import pytest

from deconvviz.gui.backend import running_threads
from random_walk import RandomWalk
from stall_meter import StallMeter
from tests.clips import clip_frames, write_clip

SEED = int(os.environ.get("DECONVVIZ_WALK_SEED", "20261204"))
STEPS = int(os.environ.get("DECONVVIZ_WALK_STEPS", "500"))
RSS_GROWTH_MB = 500  # after the warm-up (step 100); seen: 50-90 MiB over seeds 1-4 and the default
QUIT_S = 5.0
STALL_MS = 3000  # a frozen window: the UI thread waiting on the worker or computing itself
# what may appear on stderr or in Qt's log, each for a reason the walk provokes on purpose
EXPECTED = [
    re.compile(r"^\s*$"),
    re.compile(r"libpng (warning|error)"),  # the corrupt PNG, read by Qt's or PIL's decoder
    re.compile(r"QFont::|propagateSizeHints|This plugin does not support"),  # the offscreen platform's own
]


def rss_mb() -> float:
    """Return this process's resident set size in MiB (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def unexpected(lines) -> list[str]:
    return [line for line in lines if not any(p.search(line) for p in EXPECTED)]


@pytest.fixture
def stand_in_camera(monkeypatch):
    from deconvviz.gui import camera
    from test_main_window_video import FakeCamera

    monkeypatch.setattr(camera, "camera_support", lambda: camera.CameraSupport(("Test camera",), None))
    monkeypatch.setattr(camera, "CameraFrames", FakeCamera)


def test_a_random_walk_of_user_actions(qtbot, qtlog, capfd, settings, open_window, tmp_path, stand_in_camera):
    print(f"random walk: seed {SEED}, {STEPS} steps (DECONVVIZ_WALK_SEED={SEED} replays it)")
    clip = write_clip(tmp_path / "clip.mp4", clip_frames(24), fps=25)
    window = open_window(settings)
    walk = RandomWalk(qtbot, window, random.Random(SEED), tmp_path, clip)
    errors = []
    shown: dict[str, int] = {}
    window.shown.connect(lambda r: shown.__setitem__(type(r).__name__, shown.get(type(r).__name__, 0) + 1))
    broken = []  # messages that only a fault of ours gives: the walk's models never raise by themselves
    window.message.connect(lambda text: broken.append((len(walk.log), text)) if "model raised" in text else None)

    def hook(kind, value, tb):
        errors.append((len(walk.log), "".join(traceback.format_exception(kind, value, tb))))

    capfd.readouterr()
    before_hook, sys.excepthook = sys.excepthook, hook
    meter = StallMeter(interval_ms=10).start()
    warm_rss = None
    worst = []  # (longest gap during the step in ms, the step)
    try:
        for number in range(STEPS):
            ticks = len(meter.gaps)
            what = walk.step(number)
            worst.append((max(meter.gaps[max(1, ticks):], default=0.0), f"{number}: {what}"))
            assert not errors, f"seed {SEED}: exception after step {errors[0][0]}:\n{errors[0][1]}\n" \
                               + "\n".join(walk.log[-15:])
            if number == min(100, STEPS - 1):
                warm_rss = rss_mb()
        busy_at_quit = window.backend.busy()
    finally:
        meter.stop()
        sys.excepthook = before_hook
    end_rss = rss_mb()
    started = time.perf_counter()
    window.close()  # whatever is still running: the walk's last jobs
    qtbot.waitUntil(lambda: not running_threads(), timeout=int(QUIT_S * 1000))
    quit_s = time.perf_counter() - started
    err = capfd.readouterr().err.splitlines()
    qt_messages = [record.message for record in qtlog.records]
    print(f"random walk: seed {SEED}; actions {dict(sorted(walk.counts.items()))}; longest UI gap "
          f"{meter.longest:.0f} ms; RSS {warm_rss:.0f} MiB after step 100, {end_rss:.0f} MiB at the end; "
          f"quit in {quit_s:.2f} s ({'busy' if busy_at_quit else 'idle'}); {walk.exports} exports asked for; "
          f"results shown {dict(sorted(shown.items()))}; the longest gaps were during {', '.join(f'{step} ({gap:.0f} ms)' for gap, step in sorted(worst, reverse=True)[:4])}")
    assert not errors, f"seed {SEED}: {errors[0][1]}"
    assert not broken, f"seed {SEED}: after step {broken[0][0]}: {broken[0][1]}"
    assert not unexpected(err), f"seed {SEED}: unexpected stderr: {unexpected(err)[:10]}"
    assert not unexpected(qt_messages), f"seed {SEED}: unexpected Qt messages: {unexpected(qt_messages)[:10]}"
    assert end_rss - warm_rss < RSS_GROWTH_MB, f"seed {SEED}: RSS grew {end_rss - warm_rss:.0f} MiB"
    assert quit_s < QUIT_S
    assert meter.longest < STALL_MS, f"seed {SEED}: the UI thread stalled {meter.longest:.0f} ms"
    if STEPS >= 500:
        assert len(walk.counts) == len(walk.actions)  # every kind of action was drawn at least once
