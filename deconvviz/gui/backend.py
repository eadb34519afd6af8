"""The app's job runner: :class:`deconvviz.session.runner.Runner` on QThreads, answering through Qt signals.

One Backend serves the main window and every analysis view (see :mod:`deconvviz.session.runner` for the
lanes, queue, coalescing, owners, cancel escalation and stop). This module only gives the core its threads
(one QThread per lane's worker), its timers (QTimer, on the UI thread) and its signals, queued to the receivers'
(UI) thread. With ``threaded=False`` the same core runs synchronously inside ``submit``: for tests.

Signals
-------
resultReady(object)
    A :class:`~deconvviz.session.messages.Result` (Failed, Cancelled and an analysis job's Done included).
progress(int, int, int)
    (generation, done, total) while a long request runs.
stalled(int, str)
    (seconds, request kind) when the running request has not answered for ``watchdog`` seconds (and
    every further ``watchdog`` seconds).
"""

from __future__ import annotations

import threading
import weakref

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from ..session import messages as m
from ..session.compute import Compute
from ..session.runner import Host, Interrupted, Runner, SyncHost, Worker

__all__ = ["Backend", "Interrupted", "running_threads", "stuck_threads"]

_THREADS: "weakref.WeakSet[QThread]" = weakref.WeakSet()
# Abandoned worker threads, kept referenced: a QThread destroyed while its thread runs aborts the process.
_ABANDONED: list[QThread] = []


def running_threads() -> list[QThread]:
    """Return the runner's worker threads still running, abandoned ones included (a test that leaves one
    running has leaked it)."""
    _ABANDONED[:] = [t for t in _ABANDONED if t.isRunning()]
    return [t for t in {*_THREADS, *_ABANDONED} if t.isRunning()]


def stuck_threads() -> list[QThread]:
    """Return the abandoned worker threads still inside a user's call that never returned."""
    return [t for t in _ABANDONED if t.isRunning()]


class _Drainer(QObject):
    """Lives in a worker's QThread; ``wake`` (queued) runs the core's drain there."""

    wake = Signal()

    def __init__(self, drain) -> None:
        super().__init__()
        self._drain = drain

    @Slot()
    def drain(self) -> None:
        self._drain()


class _QtHost(Host):
    """QThreads for workers, QTimers (owned by ``parent``, on its thread) for the escalation steps."""

    def __init__(self, parent: QObject) -> None:
        self.parent = parent

    def start(self, worker: Worker, drain) -> None:
        thread = QThread()
        thread.setObjectName("deconvviz-runner")
        drainer = _Drainer(drain)
        drainer.moveToThread(thread)
        drainer.wake.connect(drainer.drain)
        thread.start()
        _THREADS.add(thread)
        worker.handle = (thread, drainer)

    def wake(self, worker: Worker) -> None:
        worker.handle[1].wake.emit()

    def quit(self, worker: Worker) -> None:
        thread = worker.handle[0]
        if thread.isRunning() and thread not in _ABANDONED:
            _ABANDONED.append(thread)  # kept referenced until it ends (removed by running_threads)
        thread.quit()

    def wait(self, worker: Worker, seconds: float) -> bool:
        return worker.handle[0].wait(max(1, int(seconds * 1000)))

    def running(self, worker: Worker) -> bool:
        return worker.handle[0].isRunning()

    def later(self, seconds: float, fn) -> None:
        QTimer.singleShot(int(seconds * 1000), self.parent, fn)


class Backend(QObject):
    """The one runner of the app (a :class:`Runner` core on QThreads unless ``threaded=False``)."""

    resultReady = Signal(object)
    progress = Signal(int, int, int)
    stalled = Signal(int, str)

    def __init__(self, device: str | None = None, threaded: bool = True, grace: float = 1.5,
                 watchdog: float = 5.0) -> None:
        super().__init__()
        self.core = Runner(device, _QtHost(self) if threaded else SyncHost(), grace, watchdog)
        self.core.on_result = self.resultReady.emit
        self.core.on_progress = self.progress.emit
        self.core.on_stalled = self.stalled.emit
        self._stall_timer: QTimer | None = None
        if threaded:
            self._stall_timer = QTimer(self)
            self._stall_timer.setInterval(500)
            self._stall_timer.timeout.connect(self.core.check_stall)
            self._stall_timer.timeout.connect(self.core.give_back_when_idle)
            self._stall_timer.start()

    # -- the core's knobs and answers, for the windows and the tests ----------------------------------
    grace = property(lambda self: self.core.grace, lambda self, v: setattr(self.core, "grace", v),
                     doc="Seconds from cancel to interrupt, and from interrupt to abandon.")
    watchdog = property(lambda self: self.core.watchdog, lambda self, v: setattr(self.core, "watchdog", v),
                        doc="Seconds without an answer before ``stalled`` is emitted (0: never).")

    @property
    def generations(self):
        """Return the counter every asker's Tracker stamps its requests with."""
        return self.core.generations

    @property
    def compute(self) -> Compute:
        """Return the main lane's Compute (the main window's model and input)."""
        return self.core.compute

    def compute_for(self, owner: str) -> Compute:
        """Return the Compute of ``owner``'s lane (a view's: the one with the views' model copy)."""
        return self.core.compute_for(owner)

    @property
    def thread(self) -> QThread | None:
        """Return the main lane's worker thread (None when synchronous)."""
        return self.thread_of("main")

    def thread_of(self, lane: str) -> QThread | None:
        """Return lane ``lane``'s ("main" or "views") worker thread (None when synchronous)."""
        handle = self.core._workers[lane].handle
        return handle[0] if isinstance(handle, tuple) else None

    @property
    def device(self) -> str:
        """Return the torch device the models run on."""
        return self.core.device

    @property
    def abandoned(self) -> int:
        """Return how many workers were given up on."""
        return self.core.abandoned

    @property
    def computed(self) -> list[int]:
        """Return the generations actually computed (tests and the benchmark)."""
        return self.core.computed

    def submit(self, request: m.Request) -> None:
        """Queue ``request``, replacing any waiting request with the same key (thread-safe)."""
        self.core.submit(request)

    def cancel(self, owner: str | None = None) -> None:
        """Stop ``owner``'s running and long requests (None: everyone's), escalating (call from the UI thread)."""
        self.core.cancel(owner)

    def running(self) -> m.Request | None:
        """Return the request being computed: the main lane's, else the views' (None when idle)."""
        return self.core.running()

    def running_all(self) -> list[m.Request]:
        """Return the requests being computed, one per busy lane."""
        return self.core.running_all()

    def running_for(self) -> float:
        """Return how many seconds the longest-running request has been computing (0 when idle)."""
        return self.core.running_for()

    def pending(self, owner: str | None = None) -> int:
        """Return the number of requests waiting (of ``owner``, or all)."""
        return self.core.pending(owner)

    def busy(self, owner: str | None = None) -> bool:
        """Return whether a request (of ``owner``, or any) is waiting or being computed."""
        return self.core.busy(owner)

    def stop(self, wait: float = 3.0) -> None:
        """Cancel running work and stop the worker thread (call before the app quits); never blocks the quit
        longer than about ``wait`` seconds, even when a user's model is stuck."""
        if self._stall_timer is not None:
            self._stall_timer.stop()
        self.core.stop(wait)
        if threading.current_thread() is threading.main_thread():
            running_threads()  # forget the threads that have ended
