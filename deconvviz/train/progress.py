"""Telling the user how training goes: a bar with ETA on a terminal, one line per epoch otherwise."""

from __future__ import annotations

import sys
import time


class Progress:
    """Progress of one run; ``quiet`` prints nothing, a non-terminal stream gets plain epoch lines only."""

    def __init__(self, epochs: int, quiet: bool = False, stream=None, interval: float = 0.5) -> None:
        self.epochs, self.quiet, self.interval = epochs, quiet, interval
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last = 0.0
        self._started = 0.0
        self._steps = 1

    def start_epoch(self, epoch: int, steps: int) -> None:
        """Begin the bar for ``epoch`` of ``steps`` mini-batches."""
        self.epoch, self._steps, self._started, self._last = epoch, max(steps, 1), time.perf_counter(), 0.0

    def wants_update(self) -> bool:
        """Return whether :meth:`step` would draw now (so the caller syncs a loss value only when it is shown)."""
        return self.tty and not self.quiet and time.perf_counter() - self._last >= self.interval

    def step(self, done: int, loss: float) -> None:
        """Redraw the bar after ``done`` mini-batches with the running ``loss``."""
        now = time.perf_counter()
        self._last = now
        elapsed = now - self._started
        eta = elapsed / max(done, 1) * (self._steps - done)
        filled = int(24 * done / self._steps)
        bar = "#" * filled + "-" * (24 - filled)
        self.stream.write(f"\repoch {self.epoch}/{self.epochs} [{bar}] {done}/{self._steps} "
                          f"loss {loss:.4f}  {elapsed:.0f} s, ETA {eta:.0f} s ")
        self.stream.flush()

    def line(self, text: str) -> None:
        """Print one line of text (clearing the bar first on a terminal)."""
        if self.quiet:
            return
        if self.tty:
            self.stream.write("\r\033[K")
        self.stream.write(text + "\n")
        self.stream.flush()
