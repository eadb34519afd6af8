"""GUI fixtures: settings in a temporary file (never the user's), a window on zf-fmnist, no leaked threads."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from deconvviz.data.images import default_photo
from settle import settled


@pytest.fixture(autouse=True)
def _private_settings(tmp_path_factory):
    """Point every QSettings at a temporary folder, so no test reads or writes the user's settings."""
    folder = tmp_path_factory.mktemp("settings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(folder))
    yield


@pytest.fixture(autouse=True)
def _no_leaked_threads(qapp):
    """Fail a test that leaves a backend QThread running (and stop it, so later tests are not hurt)."""
    from deconvviz.gui.backend import running_threads

    yield
    leaked = running_threads()
    for thread in leaked:
        thread.quit()
        thread.wait(5000)
    assert not leaked, f"{len(leaked)} backend thread(s) still running after the test"


@pytest.fixture(autouse=True)
def _app_threads():
    """Run with the app's torch threads (cores minus one) and GIL switch interval during a GUI test; restore."""
    import torch

    from deconvviz.session.compute import app_threads

    import sys

    before, interval = torch.get_num_threads(), sys.getswitchinterval()
    torch.set_num_threads(app_threads())
    sys.setswitchinterval(0.001)  # as run_app does
    yield
    torch.set_num_threads(before)
    sys.setswitchinterval(interval)


@pytest.fixture
def settings(tmp_path):
    """A QSettings in a temporary INI file."""
    return QSettings(str(tmp_path / "deconvviz.ini"), QSettings.Format.IniFormat)


def _open_window(qtbot, settings, model="zf-fmnist", image=None, timeout=20000):
    """Return a shown MainWindow once its model, image, grid and projection are in place."""
    from deconvviz.gui.main_window import MainWindow

    window = MainWindow(settings, model=model, image=str(image or default_photo()))
    qtbot.addWidget(window, before_close_func=lambda w: w.close())
    window.show()
    qtbot.waitUntil(lambda: window.pixels is not None and window.grid.count() > 0
                    and window.deconv.projection.has_image(), timeout=timeout)
    qtbot.waitUntil(lambda: settled(window.backend), timeout=timeout)
    return window


@pytest.fixture
def open_window(qtbot):
    """Return a function (settings, model=, image=) -> a ready MainWindow, closed after the test."""
    return lambda settings, **kw: _open_window(qtbot, settings, **kw)


@pytest.fixture
def window(qtbot, settings):
    """The main window on zf-fmnist and the coffee photo, ready."""
    return _open_window(qtbot, settings)


@pytest.fixture
def app_heap():
    """The app's garbage-collector regime (run_app freezes its start-up objects), undone after the test: the
    timing tests measure the app, not the heap that hundreds of earlier tests left in this process."""
    import gc

    from deconvviz.gui.app import freeze_startup_heap

    freeze_startup_heap()
    yield
    gc.unfreeze()
