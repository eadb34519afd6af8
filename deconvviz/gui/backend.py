"""The backend: answers the window's requests with a Compute that runs in a worker QThread.

Requests go in through :meth:`Backend.submit`; waiting requests with the same key are coalesced, so while
the occluder is dragged only the newest position is computed. Results come back through the
``resultReady`` signal, queued to the receiver's (UI) thread. With ``threaded=False`` the same code runs
synchronously inside ``submit``: for tests and scripts.

A user's model can hang in ``forward`` (``while True: pass``, ``time.sleep(1e9)``, a deadlock). The UI
thread never waits for the worker, so the window stays responsive; :meth:`Backend.cancel` then escalates
(see :meth:`Backend._escalate`): first it asks politely (a long request stops at its next check), after
``grace`` seconds it raises :class:`Interrupted` inside the worker thread (this ends pure-Python loops and
anything else that returns to the interpreter), and after ``grace`` more seconds it abandons the stuck
thread and starts a fresh worker that reloads the last model and image that worked (a C call or a sleep
that never returns cannot be interrupted; the abandoned thread is left to finish on its own). The
hung request answers with a Failed result saying what happened. ``stalled`` lets the window tell the
user when a request has run for ``watchdog`` seconds.

Signals
-------
resultReady(object)
    A :class:`~deconvviz.gui.messages.Result` (Failed and Cancelled included).
progress(int, int, int)
    (generation, done, total) while an OcclusionMap request runs.
stalled(int, str)
    (seconds, request kind) when the running request has not answered for ``watchdog`` seconds (and
    every further ``watchdog`` seconds).
"""

from __future__ import annotations

import ctypes
import threading
import time
import weakref

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from ..session import messages as m
from ..session.compute import Compute

_THREADS: "weakref.WeakSet[QThread]" = weakref.WeakSet()
# Abandoned worker threads, kept referenced: a QThread destroyed while its thread runs aborts the process.
_ABANDONED: list[QThread] = []


def running_threads() -> list[QThread]:
    """Return the backend worker threads still running, abandoned ones included (a test that leaves one
    running has leaked it)."""
    _ABANDONED[:] = [t for t in _ABANDONED if t.isRunning()]
    return [t for t in {*_THREADS, *_ABANDONED} if t.isRunning()]


def stuck_threads() -> list[QThread]:
    """Return the abandoned worker threads still inside a user's call that never returned."""
    return [t for t in _ABANDONED if t.isRunning()]


# Requests that replace the state every other request depends on: they cancel a running map.
_RESETS = (m.LoadModel, m.LoadImage)


class Interrupted(BaseException):
    """Raised asynchronously inside the worker thread to stop a request that does not answer.

    A BaseException, so neither Compute.handle nor a user's ``except Exception`` turns it into a result.
    """


def _raise_in_thread(thread_id: int, exc: type[BaseException] | None) -> None:
    """Make ``exc`` raise in thread ``thread_id`` at its next bytecode boundary (None: clear a pending one)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id),
                                               ctypes.py_object(exc) if exc is not None else None)


class _Job:
    """The request a worker is computing, and since when (monotonic seconds)."""

    def __init__(self, request: m.Request) -> None:
        self.request, self.started, self.interrupted = request, time.monotonic(), False


class _Worker(QObject):
    """One worker thread's Compute and state; a Backend replaces its worker when the old one is stuck."""

    wake = Signal()

    def __init__(self, backend: "Backend", device: str | None, threaded: bool, restore: tuple = ()) -> None:
        super().__init__()
        self.backend = backend
        self.compute = Compute(device)
        self.restore = list(restore)  # requests to replay quietly first (the last model and image that worked)
        self.job: _Job | None = None
        self.busy = False
        self.thread_id: int | None = threading.get_ident() if not threaded else None
        self.thread: QThread | None = None
        if threaded:
            self.thread = QThread()
            self.thread.setObjectName("deconvviz-backend")
            self.moveToThread(self.thread)
            self.wake.connect(self.drain)
            self.thread.start()
            _THREADS.add(self.thread)

    @Slot()
    def drain(self) -> None:
        """Serve the backend's waiting requests until none is left (or this worker is abandoned)."""
        self.thread_id = threading.get_ident()
        self.backend._drain(self)


class Backend(QObject):
    """Owns a worker (a :class:`Compute` in a QThread unless ``threaded=False``) and serves requests."""

    resultReady = Signal(object)
    progress = Signal(int, int, int)
    stalled = Signal(int, str)

    def __init__(self, device: str | None = None, threaded: bool = True, grace: float = 1.5,
                 watchdog: float = 5.0) -> None:
        super().__init__()
        self._device, self._threaded = device, threaded
        self.grace, self.watchdog = grace, watchdog
        self._lock = threading.RLock()  # reentrant: in synchronous mode a slot may submit from inside _drain
        self._pending: dict = {}
        self._newest = 0  # the newest generation submitted
        self._cancelled_upto = 0  # long requests with a generation up to this one stop at their next check
        self._good: dict[str, m.Request] = {}  # the last LoadModel and LoadImage that worked, to restore
        self.computed: list[int] = []  # generations actually computed (for tests and the benchmark)
        self.abandoned = 0  # workers given up on (tests)
        self._stuck_workers: list[_Worker] = []  # kept alive: the stuck thread still runs their drain
        self._worker = _Worker(self, device, threaded)
        self._stall_job: _Job | None = None
        self._stall_next = 0.0
        self._stall_timer: QTimer | None = None
        if threaded:
            self._stall_timer = QTimer(self)
            self._stall_timer.setInterval(500)
            self._stall_timer.timeout.connect(self._check_stall)
            self._stall_timer.start()

    @property
    def compute(self) -> Compute:
        """Return the current worker's Compute."""
        return self._worker.compute

    @property
    def thread(self) -> QThread | None:
        """Return the current worker thread (None when synchronous)."""
        return self._worker.thread

    @property
    def device(self) -> str:
        """Return the torch device the model runs on."""
        return self.compute.device

    def submit(self, request: m.Request) -> None:
        """Queue ``request``, replacing any waiting request with the same key (thread-safe)."""
        with self._lock:
            self._pending.pop(request.key, None)  # re-insert at the end: it is the newest
            self._pending[request.key] = request
            self._newest = max(self._newest, request.generation)
            if isinstance(request, _RESETS) or isinstance(request, m.OcclusionMap):
                self._cancelled_upto = max(self._cancelled_upto, request.generation - 1)
            worker = self._worker
        if worker.thread is None:
            worker.drain()
        else:
            worker.wake.emit()

    def cancel(self) -> None:
        """Stop the running request and any waiting occlusion map (call from the UI thread).

        A map stops at its next check and answers Cancelled; a request still running ``grace`` seconds
        later is interrupted, and ``grace`` seconds after that abandoned (see the module docstring).
        """
        with self._lock:
            self._cancelled_upto = self._newest
            job = self._worker.job
        if job is not None and self._threaded:
            QTimer.singleShot(int(self.grace * 1000), self, lambda: self._escalate(job))

    def running_for(self) -> float:
        """Return how many seconds the current request has been computing (0 when idle)."""
        job = self._worker.job
        return time.monotonic() - job.started if job is not None else 0.0

    def pending(self) -> int:
        """Return the number of requests waiting."""
        with self._lock:
            return len(self._pending)

    def busy(self) -> bool:
        """Return whether a request is waiting or being computed."""
        with self._lock:
            return self._worker.busy or bool(self._pending)

    # -- the worker's side ----------------------------------------------------------------------------
    def _drain(self, worker: _Worker) -> None:
        while worker.restore:  # a fresh worker first reloads what worked, answering nobody
            worker.compute.handle(worker.restore.pop(0))
        while True:
            with self._lock:
                if worker is not self._worker:
                    return  # abandoned: a fresh worker serves the queue now
                if not self._pending:
                    worker.busy = False
                    return
                key = next(iter(self._pending))
                request = self._pending.pop(key)
                worker.busy = True
            self._run(request, worker)

    def _run(self, request: m.Request, worker: _Worker) -> None:
        self.computed.append(request.generation)
        long = isinstance(request, m.OcclusionMap)

        def cancel(g=request.generation) -> bool:
            if long:
                self._serve_interactive(worker)  # between the map's batches: the live square, clicks, layers
            return g <= self._cancelled_upto

        def progress(done, total, g=request.generation) -> None:
            if worker is self._worker:
                self.progress.emit(g, done, total)

        outer, job = worker.job, _Job(request)
        try:
            worker.job = job
            try:
                results = worker.compute.handle(request, progress=progress, cancel=cancel)
            finally:
                with self._lock:
                    worker.job = outer
                    if job.interrupted and worker.thread_id is not None:
                        _raise_in_thread(worker.thread_id, None)  # one that has not landed yet must not
        except Interrupted:
            results = [m.Failed(request, self._stopped_text(job, "stopped"))]
        with self._lock:
            if worker is not self._worker:
                return  # abandoned while it ran: its late answers are stale
            for result in results:
                if isinstance(result, (m.ModelLoaded, m.ImageLoaded)):
                    self._good[type(result.request).__name__] = result.request
                self.resultReady.emit(result)

    def _serve_interactive(self, worker: _Worker) -> None:
        """Answer the waiting requests that neither replace the model/image nor start another map."""
        while True:
            with self._lock:
                if worker is not self._worker:
                    return
                keys = [k for k, r in self._pending.items() if not isinstance(r, (m.OcclusionMap, *_RESETS))]
                if not keys:
                    return
                request = self._pending.pop(keys[0])
            self._run(request, worker)

    # -- a request that does not answer ---------------------------------------------------------------
    def _stopped_text(self, job: _Job, what: str) -> str:
        kind = type(job.request).__name__
        name = getattr(job.request, "name", "") or self.compute.model_args[0] or "the model"
        return f"{what}: {name} did not answer {kind} for {time.monotonic() - job.started:.0f} s"

    def _escalate(self, job: _Job) -> None:
        """Interrupt ``job`` if it is still running; if it already was interrupted, abandon its worker."""
        with self._lock:
            worker = self._worker
            if worker.job is not job or worker.thread_id is None:
                return  # it answered
            if not job.interrupted:
                job.interrupted = True
                _raise_in_thread(worker.thread_id, Interrupted)
                QTimer.singleShot(int(self.grace * 1000), self, lambda: self._escalate(job))
                return
            self._abandon(job)

    def _abandon(self, job: _Job) -> None:
        """Leave the stuck worker thread behind and serve the queue with a fresh worker (lock held)."""
        old = self._worker
        _ABANDONED.append(old.thread)
        old.thread.quit()  # its event loop ends if the stuck call ever returns
        self._stuck_workers = [w for w in self._stuck_workers if w.thread.isRunning()] + [old]
        restore = [self._good[k] for k in ("LoadModel", "LoadImage") if k in self._good]
        self._worker = _Worker(self, self._device, True, restore)
        self.abandoned += 1
        model = self._good["LoadModel"].name if "LoadModel" in self._good else "no model"
        text = self._stopped_text(job, "abandoned") + f"; it may keep running in the background; back to {model}"
        self.resultReady.emit(m.Failed(job.request, text))
        self._worker.wake.emit()

    @Slot()
    def _check_stall(self) -> None:
        job = self._worker.job
        if job is None or self.watchdog <= 0 or isinstance(job.request, m.OcclusionMap):
            return  # a map shows its own progress and has its own Cancel button
        seconds = time.monotonic() - job.started
        if seconds >= self.watchdog and (self._stall_job is not job or seconds >= self._stall_next):
            self._stall_job, self._stall_next = job, seconds + self.watchdog
            self.stalled.emit(int(seconds), type(job.request).__name__)

    def stop(self, wait: float = 3.0) -> None:
        """Cancel running work and stop the worker thread (call before the app quits).

        Waits for the worker; one stuck in a user's call is interrupted and, after ``wait`` seconds,
        abandoned (it never blocks the quit). Abandoned threads get what is left of ``wait`` to finish.
        """
        deadline = time.monotonic() + wait
        with self._lock:
            self._pending.clear()
            self._cancelled_upto = self._newest
            worker = self._worker
            job = worker.job
            if job is not None and worker.thread_id is not None and worker.thread is not None:
                job.interrupted = True
                _raise_in_thread(worker.thread_id, Interrupted)
        if self._stall_timer is not None:
            self._stall_timer.stop()
        thread = worker.thread
        if thread is not None and thread.isRunning():
            thread.quit()
            if not thread.wait(max(1, int(wait * 1000))):
                with self._lock:
                    _ABANDONED.append(thread)
                    self._worker = _Worker(self, self._device, False)  # nothing more is computed in the stuck one
        for stuck in stuck_threads():
            stuck.wait(max(1, int((deadline - time.monotonic()) * 1000)))
