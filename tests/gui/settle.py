"""Waiting for the app's runner to settle, for the GUI tests."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication


def settled(backend) -> bool:
    """Return whether ``backend`` is idle with every answer it gave delivered to the window.

    A worker posts its answers before it goes idle, so one event pass after idle delivers them all; an answer
    that asks again makes the backend busy, and the wait goes on. Idle alone is not enough: an answer still
    queued would land after the test's next step (on loaded cores it did)."""
    if backend.busy():
        return False
    QCoreApplication.processEvents()
    return not backend.busy()
