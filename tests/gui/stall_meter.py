"""The UI-thread stall meter the timing tests share: a QTimer heartbeat, measured against the same machine idle.

A test first measures the heartbeat with nothing to do (:func:`idle_heartbeat`), then the same heartbeat while
the app works (:class:`StallMeter`), and asserts the worst gap against :func:`allowed_stall` of the idle
figure. A fixed bound (50 ms, a 0.2 s grace) flaked on 2 cores loaded by other processes: there the idle
heartbeat itself misses beats by tens of ms. The bound is generous on purpose: three times the idle worst gap
plus 100 ms. What it catches is the UI thread doing the work itself (a forward pass, a decode, a wait on the
worker), which shows as a gap of hundreds of ms to seconds whatever the load.
"""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QTimer

SLACK_MS = 100.0  # added to the scaled idle figure: a busy worker thread's GIL turns, a loaded scheduler
RATIO = 3.0


class StallMeter:
    """A heartbeat of ``interval_ms`` on the UI thread while it runs (a context manager, or start/stop):
    ``gaps`` holds the ms between ticks, ``busy`` what ``busy()`` said at each tick (when given)."""

    def __init__(self, interval_ms: int = 5, busy=None) -> None:
        self.interval_ms, self._busy = interval_ms, busy
        self.gaps: list[float] = []
        self.busy: list[bool] = []
        self._clock = QElapsedTimer()
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._last = 0.0

    def _tick(self) -> None:
        now = self._clock.nsecsElapsed() / 1e6
        self.gaps.append(now - self._last)
        self._last = now
        if self._busy is not None:
            self.busy.append(bool(self._busy()))

    def start(self) -> "StallMeter":
        """Start the heartbeat; return self."""
        self._clock.start()
        self._last = 0.0
        self._timer.start()
        return self

    def stop(self) -> None:
        """Stop the heartbeat and free its timer here, on the UI thread (the gaps stay)."""
        import shiboken6

        if shiboken6.isValid(self._timer):
            self._timer.stop()
            # not left to the garbage collector, which may run in a worker thread: Qt would warn there
            shiboken6.delete(self._timer)

    def __enter__(self) -> "StallMeter":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def longest(self) -> float:
        """Return the longest gap between two ticks in ms (the first tick's, which waits for the first
        interval, is left out; 0 with fewer than two ticks)."""
        return max(self.gaps[1:], default=0.0)


def idle_heartbeat(qtbot, ms: int = 600, interval_ms: int = 5) -> float:
    """Return the longest heartbeat gap in ms over ``ms`` of an idle event loop on this machine, now."""
    with StallMeter(interval_ms) as meter:
        qtbot.wait(ms)
    return meter.longest


def allowed_stall(idle_ms: float) -> float:
    """Return the longest gap in ms a test allows while the app works: RATIO x the idle figure + SLACK_MS."""
    return RATIO * idle_ms + SLACK_MS
