"""The backend: a QObject living in its own QThread that answers the window's requests with Compute.

Requests go in through :meth:`Backend.submit` (any thread); waiting requests with the same key are
coalesced, so while the occluder is dragged only the newest position is computed. Results come back
through the ``resultReady`` signal, queued to the receiver's (UI) thread. With ``threaded=False`` the
same code runs synchronously inside ``submit``: for tests and scripts.

Signals
-------
resultReady(object)
    A :class:`~deconvviz.gui.messages.Result` (Failed and Cancelled included).
progress(int, int, int)
    (generation, done, total) while an OcclusionMap request runs.
"""

from __future__ import annotations

import threading
import weakref

from PySide6.QtCore import QObject, QThread, Signal, Slot

from . import messages as m
from .compute import Compute

_THREADS: "weakref.WeakSet[QThread]" = weakref.WeakSet()


def running_threads() -> list[QThread]:
    """Return the backend worker threads still running (a test that leaves one running has leaked it)."""
    return [t for t in list(_THREADS) if t.isRunning()]


# Requests that replace the state every other request depends on: they cancel a running map.
_RESETS = (m.LoadModel, m.LoadImage)


class Backend(QObject):
    """Owns a :class:`Compute` and serves requests, in a worker QThread unless ``threaded=False``."""

    resultReady = Signal(object)
    progress = Signal(int, int, int)
    _wake = Signal()

    def __init__(self, device: str | None = None, threaded: bool = True) -> None:
        super().__init__()
        self.compute = Compute(device)
        self._lock = threading.Lock()
        self._pending: dict = {}
        self._newest = 0  # the newest generation submitted
        self._cancelled_upto = 0  # long requests with a generation up to this one stop at their next check
        self._busy = False
        self.computed: list[int] = []  # generations actually computed (for tests and the benchmark)
        self.thread: QThread | None = None
        if threaded:
            self.thread = QThread()
            self.thread.setObjectName("deconvviz-backend")
            self.moveToThread(self.thread)
            self._wake.connect(self._drain)
            self.thread.start()
            _THREADS.add(self.thread)

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
        if self.thread is None:
            self._drain()
        else:
            self._wake.emit()

    def cancel(self) -> None:
        """Ask a running or waiting occlusion map to stop (thread-safe); it answers with a Cancelled result."""
        with self._lock:
            self._cancelled_upto = self._newest

    def pending(self) -> int:
        """Return the number of requests waiting."""
        with self._lock:
            return len(self._pending)

    def busy(self) -> bool:
        """Return whether a request is waiting or being computed."""
        with self._lock:
            return self._busy or bool(self._pending)

    @Slot()
    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    self._busy = False
                    return
                key = next(iter(self._pending))
                request = self._pending.pop(key)
                self._busy = True
            self._run(request)

    def _run(self, request: m.Request) -> None:
        self.computed.append(request.generation)
        long = isinstance(request, m.OcclusionMap)

        def cancel(g=request.generation) -> bool:
            if long:
                self._serve_interactive()  # between the map's batches: the live square, clicks, layers
            return g <= self._cancelled_upto

        results = self.compute.handle(
            request,
            progress=lambda done, total, g=request.generation: self.progress.emit(g, done, total),
            cancel=cancel,
        )
        for result in results:
            self.resultReady.emit(result)

    def _serve_interactive(self) -> None:
        """Answer the waiting requests that neither replace the model/image nor start another map."""
        while True:
            with self._lock:
                keys = [k for k, r in self._pending.items() if not isinstance(r, (m.OcclusionMap, *_RESETS))]
                if not keys:
                    return
                request = self._pending.pop(keys[0])
            self._run(request)

    def stop(self) -> None:
        """Cancel running work, stop the worker thread and wait for it (call before the app quits)."""
        with self._lock:
            self._pending.clear()
            self._cancelled_upto = self._newest
        if self.thread is not None and self.thread.isRunning():
            self.thread.quit()
            self.thread.wait()
