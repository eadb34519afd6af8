"""The frame every analysis view shares: a worker, a progress bar with Cancel, a message line and PNG export.

A view freezes what the user asked for into a :class:`~.jobs.Job` (the model name and weights of the main
window at that moment, and a function of the runner's model copy), shows only the answer to the newest job
of each kind, and exports the Panel it shows through :func:`~deconvviz.figures.png.save_panel`, the code
the CLI uses, with the regenerating ``deconvviz ...`` command among the PNG's facts.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout,
                               QWidget)

from ...figures.png import Panel, save_panel
from ...paths import ROOT
from ...session.recipe import Recipe
from .jobs import Job, JobRunner


def shown_path(path) -> str:
    """Return ``path`` for a text field: relative to the repository when it is a bundled file."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def real_path(text: str) -> str:
    """Return the path a text field names: a relative path that is not there is read from the repository."""
    path = Path(text.strip()).expanduser()
    if not path.is_absolute() and not path.exists() and (ROOT / path).exists():
        return str(ROOT / path)
    return str(path)


class AnalysisView(QWidget):
    """A non-modal window beside the main window (``main``) running one analysis.

    Signals
    -------
    done(str)
        The key of a job whose answer was shown (or "failed"/"cancelled" + key): tests wait on it.
    """

    done = Signal(str)
    title = "analysis"
    slug = "analysis"

    def __init__(self, main) -> None:
        super().__init__(main, Qt.WindowType.Window)
        self.main = main
        self.setWindowTitle(f"deconvviz — {self.title}")
        self.setObjectName(self.slug)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.runner = JobRunner(self.slug)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        self.runner.cancelled.connect(self._on_cancelled)
        self.runner.progress.connect(self._on_progress)
        self._generation = 0
        self._latest: dict[str, int] = {}
        self._callbacks: dict[int, Callable] = {}
        self.panel: Panel | None = None
        self.recipe_for: Callable[[str], Recipe] | None = None
        self.last_message = ""

        self.body = QVBoxLayout()
        self.progress = QProgressBar(objectName="progress", textVisible=True)
        self.progress.setMaximumWidth(260)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel", objectName="cancel", enabled=False)
        self.cancel_button.clicked.connect(self.cancel)
        self.export_button = QPushButton("Export PNG…", objectName="export", enabled=False)
        self.export_button.clicked.connect(self._ask_export)
        self.info = QLabel("", objectName="info")
        self.info.setWordWrap(True)
        bar = QHBoxLayout()
        bar.addWidget(self.info, 1)
        bar.addWidget(self.progress)
        bar.addWidget(self.cancel_button)
        bar.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(self.body, 1)
        layout.addLayout(bar)
        self.resize(1000, 620)

    # -- jobs -----------------------------------------------------------------------------------------
    def model_args(self) -> tuple[str, str | None]:
        """Return the main window's model (name, weights) now."""
        return self.main.model_name, self.main.weights

    def model_options(self) -> dict:
        """Return the current model as a recipe's model options (``model``, ``weights``)."""
        name, weights = self.model_args()
        return {"model": name, "weights": str(weights) if weights else None}

    def submit(self, key: str, fn: Callable, on_done: Callable, model: bool = True, long: bool = False) -> Job | None:
        """Run ``fn(model, progress, cancel)`` in the worker; call ``on_done(result)`` on the UI thread if it is
        still the newest job of ``key``. ``long`` jobs show the progress bar and enable Cancel."""
        if model and not self.main.model_name:
            self.show_message("no model loaded yet")
            return None
        self._generation += 1
        job = Job(self._generation, key, fn, self.model_args() if model else None)
        self._latest[key] = job.generation
        self._callbacks[job.generation] = on_done
        if long:
            self.progress.setRange(0, 0)
            self.progress.show()
            self.cancel_button.setEnabled(True)
        self.info.setStyleSheet("")
        self.runner.submit(job)
        return job

    def cancel(self) -> None:
        """Ask the running job to stop; the last result stays on screen."""
        self.runner.cancel()

    def busy(self) -> bool:
        """Return whether a job is running or waiting."""
        return self.runner.busy()

    def _current(self, job: Job) -> bool:
        return self._latest.get(job.key) == job.generation

    def _idle(self) -> None:
        if not self.runner.busy():
            self.progress.hide()
            self.cancel_button.setEnabled(False)

    def _on_finished(self, job: Job, result) -> None:
        callback = self._callbacks.pop(job.generation, None)
        self._idle()
        if callback is not None and self._current(job):
            callback(result)
            self.done.emit(job.key)

    def _on_failed(self, job: Job, message: str) -> None:
        self._callbacks.pop(job.generation, None)
        self._idle()
        self.show_message(message, error=True)
        self.done.emit("failed " + job.key)

    def _on_cancelled(self, job: Job) -> None:
        self._callbacks.pop(job.generation, None)
        self._idle()
        self.show_message(f"{job.key} cancelled")
        self.done.emit("cancelled " + job.key)

    def _on_progress(self, job: Job, done: int, total: int) -> None:
        if self._current(job):
            self.progress.setRange(0, max(total, 0))
            self.progress.setValue(done)

    def show_message(self, text: str, error: bool = False) -> None:
        """Show ``text`` in the view's message line (red for errors) and the main window's status bar."""
        self.last_message = text
        self.info.setText(text)
        self.info.setStyleSheet("QLabel { color: #8a1c1c; }" if error else "")
        self.main.statusBar().showMessage(text)

    # -- export ---------------------------------------------------------------------------------------
    def set_panel(self, panel: Panel | None, recipe_for: Callable[[str], Recipe] | None = None) -> None:
        """Remember the Panel on screen (what Export writes) and what regenerates it: ``recipe_for(path)`` is
        the recipe whose command writes the panel at ``path``, the export's ``command`` fact."""
        self.panel, self.recipe_for = panel, recipe_for
        self.export_button.setEnabled(panel is not None)

    def export(self, path: str) -> None:
        """Write the Panel on screen as a PNG at ``path`` (in the worker, atomically)."""
        if self.panel is None:
            self.show_message("nothing to export yet", error=True)
            return
        panel = self.panel
        if self.recipe_for is not None:
            panel = Panel(panel.pixels, panel.caption, {**panel.facts, "command": self.recipe_for(str(path)).shell()})
        self.submit(f"export {path}", lambda _m, _p, _c: save_panel(panel, path),
                    lambda p: self.show_message(f"wrote {p}"), model=False)

    def suggested_name(self) -> str:
        """Return a file name for the export: model and view."""
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{self.main.model_name}_{self.slug}") + ".png"

    def _ask_export(self) -> None:
        settings = self.main.settings
        folder = settings.value("exportDir") or str(Path.home())
        path, _ = QFileDialog.getSaveFileName(self, f"Export {self.title}", str(Path(folder) / self.suggested_name()),
                                              "PNG images (*.png)")
        if path:
            if not path.lower().endswith(".png"):
                path += ".png"
            settings.setValue("exportDir", str(Path(path).parent))
            self.export(path)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.setFocus()  # not a text field: its whole text would show selected

    # -- lifetime -------------------------------------------------------------------------------------
    def stop(self) -> None:
        """Cancel running work and stop the worker thread (the main window calls this when it closes)."""
        self.runner.stop()
