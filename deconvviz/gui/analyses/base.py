"""The frame every analysis view shares: jobs on the app's one runner, a progress bar with Cancel, a message
line and PNG export.

A view observes the app's :class:`~deconvviz.session.state.Session` (``session.events.channel.connect(...)``)
and writes to it; it never reads another window. It freezes what the user asked for into an
:class:`~deconvviz.session.messages.Analysis` job (the session's loaded model at that moment, and a function
of the runner's own copy of it, on the runner's device), shows only the answer to the newest job of each
kind, and exports the Panel it shows through :func:`~deconvviz.figures.png.save_panel`, the code the CLI
uses, with the regenerating ``deconvviz ...`` command among the PNG's facts.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton,
                               QVBoxLayout, QWidget)

from ...figures.png import Panel, save_panel
from ...paths import ROOT
from ...session import messages as m
from ...session.recipe import Recipe
from ...session.state import Session
from ...session.tracker import Tracker
from ..backend import Backend


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


TOP = "top class"


class ClassBox(QComboBox):
    """The class-target box of the views: any ``leading`` entries, then "top class" (data None) and one
    "i: name" entry per class of the model (data i)."""

    def fill(self, class_names, leading: tuple[tuple[str, object], ...] = ()) -> None:
        """Fill the box for a model's ``class_names`` without signalling: the first fill chooses the first
        entry; a later one keeps the chosen entry where it still exists (else the first)."""
        first, chosen = self.count() == 0, self.currentData()
        self.blockSignals(True)
        self.clear()
        for text, data in leading:
            self.addItem(text, data)
        self.addItem(TOP, None)
        for i, name in enumerate(class_names):
            self.addItem(f"{i}: {name}", i)
        # findData cannot look for None (Qt's empty data): the top class is found by its place
        self.setCurrentIndex(0 if first else len(leading) if chosen is None else max(0, self.findData(chosen)))
        self.blockSignals(False)


class AnalysisView(QWidget):
    """A non-modal window running one analysis on the ``session``'s model and input, with ``backend``'s jobs
    (owner: the view's ``slug``); ``settings`` remembers the export folder; ``parent`` keeps it alive.

    Signals
    -------
    done(str)
        The key of a job whose answer was shown (or "failed"/"cancelled" + key): tests wait on it.
    """

    done = Signal(str)
    title = "analysis"
    slug = "analysis"

    def __init__(self, session: Session, backend: Backend, settings: QSettings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.session, self.backend, self.settings = session, backend, settings
        self.setWindowTitle(f"deconvviz — {self.title}")
        self.setObjectName(self.slug)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.tracker = Tracker(backend.generations)
        backend.resultReady.connect(self._on_result)
        backend.progress.connect(self._on_progress)
        self._jobs: dict[int, tuple[m.Analysis, Callable, bool]] = {}  # generation -> (job, its shower, live)
        self._still: dict[str, int] = {}  # job name -> generation of its newest job that is not live
        self._answered: dict[str, int] = {}  # job name -> generation of the answer on screen
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
        """Return the session's loaded model (name, weights) now."""
        return self.session.model_args()

    def model(self):
        """Return the runner's copy of the session's model that this view's jobs compute on (loads it)."""
        return self.backend.compute_for(self.slug).analysis_model(*self.model_args())

    def model_options(self) -> dict:
        """Return the current model as a recipe's model options (``model``, ``weights``)."""
        name, weights = self.model_args()
        return {"model": name, "weights": str(weights) if weights else None}

    def submit(self, key: str, fn: Callable, on_done: Callable, model: bool = True,
               long: bool = False, live: bool = False) -> m.Analysis | None:
        """Run ``fn(model, progress, cancel)`` on the runner; call ``on_done(result)`` on the UI thread if it is
        still the newest job of ``key``. ``long`` jobs show the progress bar and enable Cancel. A ``live`` job
        (a playing video's frame) is shown when it is newer than the answer on screen and than every job of
        ``key`` that is not live: while frames come faster than they are answered, each answer still shows
        (the runner keeps only the newest waiting one), and none lands on a paused frame's."""
        if model and self.session.loaded is None:
            self.show_message("no model loaded yet")
            return None
        model_args = self.model_args() if model else None
        job = self.tracker.stamp(lambda g: m.Analysis(g, owner=self.slug, name=key, fn=fn, model_args=model_args,
                                                      long=long))
        if not live:
            self._jobs = {g: j for g, j in self._jobs.items() if j[0].name != key}  # replaced: never shown
            self._still[key] = job.generation
        self._jobs[job.generation] = (job, on_done, live)
        if long:
            self.progress.setRange(0, 0)
            self.progress.show()
            self.cancel_button.setEnabled(True)
        self.info.setStyleSheet("")
        self.backend.submit(job)
        return job

    def submit_recipe(self, key: str, recipe, on_done: Callable) -> None:
        """Run ``recipe`` on the session's image (a file, or a frame's own pixels) as a long job; call
        ``on_done(result, panel, rereadable)`` on the UI thread. The panel carries the recipe's command only
        where the image can be read again (not a camera's frame)."""
        facts = self.session.image
        command = recipe.shell() if facts.rereadable() else ""

        def job(model, progress, cancel):
            x = model.preprocess(facts.as_picture().image)
            result = recipe.compute(model, x, progress, cancel)
            return result, recipe.panel(model, x, result, facts.frame, command), bool(command)

        self.submit(key, job, lambda answer: on_done(*answer), long=True)

    def cancel(self) -> None:
        """Ask this view's running job to stop (escalating if it does not); the last result stays on screen."""
        self.backend.cancel(self.slug)

    def busy(self) -> bool:
        """Return whether a job of this view is running or waiting."""
        return self.backend.busy(self.slug)

    def _idle(self) -> None:
        if not self.busy():
            self.progress.hide()
            self.cancel_button.setEnabled(False)

    def _on_result(self, result: m.Result) -> None:
        job = result.request
        if not isinstance(job, m.Analysis) or job.owner != self.slug:
            return
        if isinstance(result, m.Done):
            self._on_finished(job, result.value)
        elif isinstance(result, m.Cancelled):
            self._on_cancelled(job)
        elif isinstance(result, m.Failed):
            self._on_failed(job, result.message)

    def _on_finished(self, job: m.Analysis, result) -> None:
        _, callback, live = self._jobs.pop(job.generation, (None, None, False))
        if live:  # the views' jobs run in order: an older live job of this name was answered or replaced
            self._jobs = {g: j for g, j in self._jobs.items() if j[0].name != job.name or g > job.generation}
        self._idle()
        g = job.generation
        current = (g > self._answered.get(job.name, 0) and g > self._still.get(job.name, 0)) if live \
            else self.tracker.is_latest(job)
        if callback is not None and current:
            self._answered[job.name] = g
            callback(result)
            self.done.emit(job.name)

    def _on_failed(self, job: m.Analysis, message: str) -> None:
        self._jobs.pop(job.generation, None)
        self._idle()
        self.show_message(message, error=True)
        self.done.emit("failed " + job.name)

    def _on_cancelled(self, job: m.Analysis) -> None:
        self._jobs.pop(job.generation, None)
        self._idle()
        self.show_message(f"{job.name} cancelled")
        self.done.emit("cancelled " + job.name)

    def _on_progress(self, generation: int, done: int, total: int) -> None:
        job = self._jobs.get(generation, (None,))[0]
        if job is not None and self.tracker.is_latest(job):
            self.progress.setRange(0, max(total, 0))
            self.progress.setValue(done)

    def show_message(self, text: str, error: bool = False) -> None:
        """Show ``text`` in the view's message line (red for errors) and as the session's status."""
        self.last_message = text
        self.info.setText(text)
        self.info.setStyleSheet("QLabel { color: #8a1c1c; }" if error else "")
        self.session.status = text

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
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{self.model_args()[0]}_{self.slug}") + ".png"

    def _ask_export(self) -> None:
        settings = self.settings if self.settings is not None else QSettings()
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
        """Cancel this view's jobs (the runner itself stops with the main window)."""
        self.backend.cancel(self.slug)

    def closeEvent(self, event) -> None:
        self.stop()  # a closed view's jobs would only hold the runner up
        super().closeEvent(event)
