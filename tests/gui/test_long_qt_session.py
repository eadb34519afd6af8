"""A long session of Qt calls survives.

PySide6 6.12 on Python < 3.12 drops a reference to None on every void Qt call and to True/False on every
emit, as if they were immortal (they are only from 3.12 on), and aborts the process after a few thousand
calls ("Fatal Python error: none_dealloc"). pyproject.toml keeps Python 3.11 on PySide6 < 6.12; this test
fails (the interpreter aborts) if that pin is ever lost.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget


class _Emitter(QObject):
    ping = Signal()


def test_many_void_calls_and_emits_survive(qapp):
    widget, emitter = QWidget(), _Emitter()
    emitter.ping.connect(lambda: None)
    for _ in range(20000):  # each leaks one None and one bool reference on the affected versions
        widget.update()
        emitter.ping.emit()
    widget.deleteLater()
