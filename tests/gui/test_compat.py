"""A long session of Qt calls does not exhaust None/True/False (PySide6 6.12 on Python < 3.12)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from deconvviz.gui.compat import pin_singletons


class _Emitter(QObject):
    ping = Signal()


def test_many_void_calls_and_emits_survive(qapp):
    pin_singletons()  # idempotent
    widget, emitter = QWidget(), _Emitter()
    emitter.ping.connect(lambda: None)
    for _ in range(20000):  # each leaks one None and one bool reference on the affected versions
        widget.update()
        emitter.ping.emit()
    widget.deleteLater()
