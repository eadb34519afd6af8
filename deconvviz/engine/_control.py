"""Progress and cancellation for long engine loops (shared by the top-k index, evolution, activation maximisation)."""

from __future__ import annotations

from typing import Callable

Progress = Callable[[int, int], None]  # (done, total); total 0 when unknown
Cancel = Callable[[], bool]  # returns True when the caller wants the loop to stop


class Cancelled(Exception):
    """Raised by an engine loop when its ``cancel`` callback returned True; what was done so far is kept."""


def check(cancel: Cancel | None) -> None:
    """Raise Cancelled when ``cancel`` says so."""
    if cancel is not None and cancel():
        raise Cancelled("cancelled")


def report(progress: Progress | None, done: int, total: int) -> None:
    """Call ``progress(done, total)`` when given."""
    if progress is not None:
        progress(done, total)
