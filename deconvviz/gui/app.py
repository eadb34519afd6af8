"""``run_app``: start Qt, open the main window on a model and an image, run until it closes."""

from __future__ import annotations

import gc
import sys

from PySide6.QtCore import QSettings


def make_settings() -> QSettings:
    """Return the user's deconvviz settings (geometry, last model, weights and image)."""
    return QSettings("deconvviz", "deconvviz")


def freeze_startup_heap() -> None:
    """Collect once, then exempt every object alive now from later garbage collections.

    Python, torch, Qt and the first model leave about 360,000 objects that live as long as the app; the
    collector's full pass walks all of them, which paused the UI thread for about 200 ms (measured on
    EfficientNet-Lite0's window) whenever it ran. Frozen, they are skipped (the pass then takes microseconds).
    """
    gc.collect()
    gc.freeze()


def run_app(model: str | None = None, weights: str | None = None, image: str | None = None,
            settings: QSettings | None = None, video: str | None = None, camera: int | None = None) -> int:
    """Open the deconvviz window (default: the last model and image, else efficientnet-lite0 on coffee.png),
    with ``video`` (a file, paused on its first frame) or ``camera`` (a camera's number, playing) as the input.

    Returns the Qt event loop's exit code.
    """
    import torch
    from PySide6.QtWidgets import QApplication

    from ..session.compute import app_threads
    from .main_window import MainWindow

    torch.set_num_threads(app_threads())
    # The worker's Python code holds the GIL for up to one switch interval at a time; 1 ms instead of 5
    # keeps the UI thread's longest wait while the backend computes near 15 ms (measured) rather than 40-50.
    sys.setswitchinterval(0.001)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("deconvviz")
    window = MainWindow(settings or make_settings(), model=model, weights=weights, image=image, video=video,
                        camera=camera)
    window.show()
    freeze_startup_heap()
    code = app.exec()
    from .backend import stuck_threads

    if stuck_threads():  # a user's model never returned: Qt would abort on the running thread at exit
        import os

        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
