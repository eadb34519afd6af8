"""A small worker for the analysis views: one QThread per view that runs long jobs off the UI thread.

A :class:`Job` is a frozen request like the backend's (:mod:`..messages`): a ``generation`` that only grows,
a coalescing ``key`` (a waiting job is replaced by a newer one with the same key) and a function
``fn(model, progress, cancel)`` returning the result. The runner gives the function its own copy of the
window's model (loaded once per name and weights; the backend's copy carries the backend's hooks), and
answers on the UI thread with ``finished``, ``failed`` (a message for the user, never an exception) or
``cancelled``. Cancel is cooperative: the engine loops call ``cancel()`` between batches or steps, and a
job whose cancel was asked reports ``cancelled`` even when its loop returned early with a partial result.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ...engine._control import Cancelled
from ...errors import DeconvvizError
from ..backend import _THREADS


@dataclass(frozen=True)
class Job:
    """Run ``fn(model, progress, cancel)`` on ``model`` = load_model(*model_args) (None: no model needed)."""

    generation: int
    key: str
    fn: Callable = field(compare=False)
    model_args: tuple | None = None


class JobRunner(QObject):
    """Runs :class:`Job` s in a worker QThread (synchronously inside ``submit`` with ``threaded=False``).

    Signals: finished(Job, object), failed(Job, str), cancelled(Job), progress(Job, int, int).
    """

    finished = Signal(object, object)
    failed = Signal(object, str)
    cancelled = Signal(object)
    progress = Signal(object, int, int)
    _wake = Signal()

    def __init__(self, name: str = "analysis", device: str = "cpu", threaded: bool = True) -> None:
        super().__init__()
        self.device = device
        self._lock = threading.Lock()
        self._pending: dict[str, Job] = {}
        self._cancelled_upto = 0
        self._newest = 0
        self._running: Job | None = None
        self._models: dict[tuple, Any] = {}
        self.thread: QThread | None = None
        if threaded:
            self.thread = QThread()
            self.thread.setObjectName(f"deconvviz-{name}")
            self.moveToThread(self.thread)
            self._wake.connect(self._drain)
            self.thread.start()
            _THREADS.add(self.thread)

    def submit(self, job: Job) -> None:
        """Queue ``job``, replacing a waiting job with the same key (thread-safe)."""
        with self._lock:
            self._pending.pop(job.key, None)
            self._pending[job.key] = job
            self._newest = max(self._newest, job.generation)
        if self.thread is None:
            self._drain()
        else:
            self._wake.emit()

    def cancel(self) -> None:
        """Stop the running job at its next check and drop the waiting ones (thread-safe)."""
        with self._lock:
            dropped = list(self._pending.values())
            self._pending.clear()
            self._cancelled_upto = self._newest
        for job in dropped:  # outside the lock: a direct connection may ask busy()
            self.cancelled.emit(job)

    def busy(self) -> bool:
        """Return whether a job is running or waiting."""
        with self._lock:
            return self._running is not None or bool(self._pending)

    def model(self, name: str, weights: str | None):
        """Return this runner's LoadedModel for (name, weights), loading it on first use (worker thread only)."""
        from ...models import load_model

        key = (name, weights)
        if key not in self._models:
            self._models = {key: load_model(name, weights, self.device)}  # keep one: the window's current
        return self._models[key]

    @Slot()
    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    return
                job = self._pending.pop(next(iter(self._pending)))
                self._running = job
            signal, args = self._run(job)
            with self._lock:
                self._running = None  # before answering: the view asks busy() when the answer arrives
            signal.emit(job, *args)

    def _run(self, job: Job) -> tuple:
        """Return (signal, extra arguments) answering ``job``."""
        def cancel() -> bool:
            return job.generation <= self._cancelled_upto

        def progress(done: int, total: int) -> None:
            self.progress.emit(job, done, total)

        try:
            model = self.model(*job.model_args) if job.model_args is not None else None
            result = job.fn(model, progress, cancel)
        except Cancelled:
            return self.cancelled, ()
        except DeconvvizError as exc:
            return self.failed, (str(exc),)
        except MemoryError:
            return self.failed, ("out of memory: try a smaller data set or model",)
        except Exception as exc:  # the user's model may raise anything; the app must survive it
            return self.failed, (f"{type(exc).__name__}: {exc}",)
        if cancel():
            return self.cancelled, ()
        return self.finished, (result,)

    def stop(self) -> None:
        """Cancel everything, stop the worker thread and wait for it."""
        self.cancel()
        if self.thread is not None and self.thread.isRunning():
            self.thread.quit()
            self.thread.wait()
