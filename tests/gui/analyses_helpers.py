"""Helpers for the Analyses tests: open a view from the menu, wait for a job's answer, read an export back."""

from __future__ import annotations

import numpy as np
from PIL import Image

from deconvviz.figures.png import read_facts

TIMEOUT = 30000


def menu_action(window, slug: str):
    """Return the Analyses menu's action that opens view ``slug``."""
    menu = next(a.menu() for a in window.menuBar().actions() if a.menu() and a.menu().objectName() == "analysesMenu")
    return next(a for a in menu.actions() if a.objectName() == f"analysis-{slug}")


def open_from_menu(window, slug: str):
    """Trigger the Analyses menu's action for ``slug`` and return the view it opened."""
    menu_action(window, slug).trigger()
    view = window.analyses[slug]
    assert view.isVisible()
    return view


def run_and_wait(qtbot, view, key: str, start, timeout: int = TIMEOUT) -> str:
    """Call ``start()`` and return the done key of job ``key`` ("key", "failed key" or "cancelled key")."""
    got = []

    def check(k):
        if k.endswith(key):
            got.append(k)
            return True
        return False

    with qtbot.waitSignal(view.done, timeout=timeout, check_params_cb=check):
        start()
    return got[-1]


def export_and_read(qtbot, view, path) -> tuple[np.ndarray, dict]:
    """Export the view's panel to ``path``; return the PNG's pixels and facts."""
    assert run_and_wait(qtbot, view, f"export {path}", lambda: view.export(str(path))) == f"export {path}"
    assert view.last_message == f"wrote {path}"
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB"))
    return pixels, read_facts(path)


def wait_for(qtbot, view, condition, timeout: int = TIMEOUT) -> None:
    """Wait until the view's worker is idle and ``condition()`` holds (what the user sees is in place)."""
    qtbot.waitUntil(lambda: not view.busy() and condition(), timeout=timeout)
