"""The one job runner's core (no Qt): a queue of requests served by a :class:`~.compute.Compute` in a worker.

The main window and every analysis view submit requests (:mod:`.messages`) to one :class:`Runner`, so all
compute on one device with one model copy per use, and get the same progress, cancel and error messages.

- **Coalescing**: a waiting request is replaced by a newer one with the same ``key`` (newest wins, and goes
  to the back of the queue): while the occluder is dragged only the newest position is computed.
- **Owners**: each request has an ``owner`` ("main" for the main window, the view's slug for a view).
  :meth:`Runner.cancel` acts on one owner (or all): its waiting jobs answer Cancelled at once, its running
  one stops at its next check (a view's window calls it when it closes); a new model, image or occlusion
  map cancels the main window's older long requests.
- **Lanes**: the main window's requests (owner "main") and the analysis views' jobs (every other owner) run
  in two lanes, each with its own worker thread and Compute (the views' jobs on their own model copy). So a
  click, a drag of the square or an export never waits behind a view's job (a top-9 build, a sanity check,
  the load of a view's model copy): the two lanes share the device, not a queue. Within the views' lane the
  jobs run one at a time, in the order asked.
- **Long requests** (an occlusion map, a long analysis job) check ``cancel()`` between steps; during the main
  window's map, at each check the runner answers its waiting interactive requests (a click, a layer, the
  square; not a new model, image or map, which would change what the map runs on). Long requests report
  ``progress(generation, done, total)``; a view's long job may pass part of its answer as
  ``progress(done, total, value)``, answered at once as a :class:`~.messages.Partial` result.
- **Escalation**: a user's model can hang (``while True: pass``, ``time.sleep(1e9)``). :meth:`Runner.cancel`
  first asks politely (a long request stops at its next check); ``grace`` seconds later it raises
  :class:`Interrupted` inside the worker thread (this ends pure-Python loops); ``grace`` seconds after that it
  abandons the stuck thread and starts a fresh worker for that lane (the main lane's quietly reloads the last
  model and image that worked). The hung request answers with a Failed result saying what happened. :meth:`Runner.check_stall`
  tells, every ``watchdog`` seconds, that the running request has not answered.
- **Stop**: :meth:`Runner.stop` interrupts the running request and never waits longer than ``wait`` seconds.

Threads come from a :class:`Host`: :class:`SyncHost` runs each request inside ``submit`` (for tests and
scripts), :class:`ThreadHost` uses Python threads, and the app's Qt wrapper (``gui/backend.py``) uses
QThreads and QTimers. Answers go to the callables ``on_result(result)``, ``on_progress(generation, done,
total)`` and ``on_stalled(seconds, kind)``, called from the worker thread (or, for escalation, from the
thread that runs the host's timers).
"""

from __future__ import annotations

import ctypes
import threading
import time
from typing import Callable

from ..engine import heap
from . import messages as m
from .compute import Compute
from .tracker import Generations

# Requests that replace the state every other request depends on: they cancel the owner's running map.
RESETS = (m.LoadModel, m.LoadImage)
LANES = ("main", "views")  # the main window's requests; the analysis views' jobs
GIVE_BACK_S = 10.0  # idle seconds after which a held heap's free memory goes back to the system


def lane_of(request: m.Request) -> str:
    """Return the lane that computes ``request``: "main" for the main window's, "views" for a view's."""
    return "main" if request.owner == "main" else "views"


class Interrupted(BaseException):
    """Raised asynchronously inside the worker thread to stop a request that does not answer.

    A BaseException, so neither Compute.handle nor a user's ``except Exception`` turns it into a result.
    """


def raise_in_thread(thread_id: int, exc: type[BaseException] | None) -> None:
    """Make ``exc`` raise in thread ``thread_id`` at its next bytecode boundary (None: clear a pending one)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id),
                                               ctypes.py_object(exc) if exc is not None else None)


class Job:
    """The request a worker is computing, since when (monotonic seconds), and the long job it runs inside
    (``outer``: the one whose ``cancel()`` check served it), if any."""

    def __init__(self, request: m.Request, outer: "Job | None" = None) -> None:
        self.request, self.started, self.interrupted, self.outer = request, time.monotonic(), False, outer

    def chain(self) -> list["Job"]:
        """Return this job and the long jobs it runs inside, innermost first."""
        return [self] + (self.outer.chain() if self.outer is not None else [])


class Worker:
    """One lane's worker: its Compute, the requests to replay quietly first, the job it runs and its thread."""

    def __init__(self, compute: Compute, restore: tuple = (), lane: str = "main") -> None:
        self.compute, self.lane = compute, lane
        self.restore = list(restore)  # the last model and image that worked
        self.job: Job | None = None
        self.busy = False
        self.thread_id: int | None = None  # set by the thread that drains
        self.host: Host | None = None  # the host that gave it its thread
        self.handle = None  # the host's thread object (None: synchronous)


class Host:
    """How a runner's workers get threads and timers (override every method)."""

    threaded = True

    def start(self, worker: Worker, drain: Callable[[], None]) -> None:
        """Give ``worker`` a thread (``worker.handle``) that runs ``drain()`` each time it is woken."""
        raise NotImplementedError

    def wake(self, worker: Worker) -> None:
        """Make ``worker``'s thread run its drain soon (now, in a synchronous host)."""
        raise NotImplementedError

    def quit(self, worker: Worker) -> None:
        """Let ``worker``'s thread end once its drain returns."""
        raise NotImplementedError

    def wait(self, worker: Worker, seconds: float) -> bool:
        """Wait up to ``seconds`` for ``worker``'s thread to end; return whether it did."""
        raise NotImplementedError

    def running(self, worker: Worker) -> bool:
        """Return whether ``worker``'s thread is still running."""
        raise NotImplementedError

    def later(self, seconds: float, fn: Callable[[], None]) -> None:
        """Call ``fn()`` once, ``seconds`` from now (not in a worker thread)."""
        raise NotImplementedError


class SyncHost(Host):
    """No threads: a request is computed inside ``submit``; no escalation (nothing can be interrupted)."""

    threaded = False

    def start(self, worker, drain):
        worker.handle = drain

    def wake(self, worker):
        worker.handle()

    def quit(self, worker):
        pass

    def wait(self, worker, seconds):
        return True

    def running(self, worker):
        return False

    def later(self, seconds, fn):
        pass


class ThreadHost(Host):
    """Python threads (daemon threads: one stuck in a user's call never keeps the interpreter alive)."""

    def start(self, worker, drain):
        wake, stop = threading.Event(), threading.Event()

        def loop():
            while not stop.is_set():
                wake.wait()
                wake.clear()
                if not stop.is_set():
                    drain()

        worker.handle = (threading.Thread(target=loop, name="deconvviz-runner", daemon=True), wake, stop)
        worker.handle[0].start()

    def wake(self, worker):
        worker.handle[1].set()

    def quit(self, worker):
        worker.handle[2].set()
        worker.handle[1].set()

    def wait(self, worker, seconds):
        worker.handle[0].join(max(0.0, seconds))
        return not worker.handle[0].is_alive()

    def running(self, worker):
        return worker.handle[0].is_alive()

    def later(self, seconds, fn):
        timer = threading.Timer(seconds, fn)
        timer.daemon = True
        timer.start()


class Runner:
    """Serves requests with a Compute on ``device`` in one worker of ``host`` per lane (see the module
    docstring)."""

    def __init__(self, device: str | None = None, host: Host | None = None, grace: float = 1.5,
                 watchdog: float = 5.0) -> None:
        self.host = host or SyncHost()
        self.grace, self.watchdog = grace, watchdog
        self.on_result: Callable[[m.Result], None] = lambda result: None
        self.on_progress: Callable[[int, int, int], None] = lambda generation, done, total: None
        self.on_stalled: Callable[[int, str], None] = lambda seconds, kind: None
        self._lock = threading.RLock()  # reentrant: in synchronous mode an answer may submit from inside _drain
        self._pending: dict = {}  # both lanes' waiting requests, oldest first
        self._newest: dict[str, int] = {}  # owner -> newest generation submitted
        self._cancelled_upto: dict[str, int] = {}  # owner -> its requests up to this generation are cancelled
        self._good: dict[str, m.Request] = {}  # the last LoadModel and LoadImage that worked, to restore
        self.computed: list[int] = []  # generations actually computed (tests and the benchmark)
        self.abandoned = 0  # workers given up on
        self.stuck: list[Worker] = []  # abandoned workers whose thread still runs a user's call
        self.generations = Generations()  # one counter for every asker: generations order all requests
        self._device = device
        self._stalls: dict[str, tuple[Job | None, float]] = {}  # lane -> (job last reported, next report at)
        self._workers = {lane: self._new_worker(lane) for lane in LANES}
        self._idle_at: float | None = None  # when the lanes last ran out of work (None: given back since)

    def _new_worker(self, lane: str, restore: tuple = ()) -> Worker:
        worker = Worker(Compute(self._device), restore, lane)
        worker.host = self.host
        self.host.start(worker, lambda: self._drain(worker))
        return worker

    # -- the asker's side -------------------------------------------------------------------------------
    @property
    def compute(self) -> Compute:
        """Return the main lane's Compute (the main window's model and input)."""
        return self._workers["main"].compute

    def compute_for(self, owner: str) -> Compute:
        """Return the Compute of ``owner``'s lane (a view's: the one holding the views' model copy)."""
        return self._workers["main" if owner == "main" else "views"].compute

    @property
    def worker(self) -> Worker:
        """Return the main lane's worker."""
        return self._workers["main"]

    def workers(self) -> list[Worker]:
        """Return every lane's current worker."""
        return list(self._workers.values())

    @property
    def device(self) -> str:
        """Return the torch device the models run on."""
        return self.compute.device

    def submit(self, request: m.Request) -> None:
        """Queue ``request``, replacing any waiting request with the same key (thread-safe)."""
        with self._lock:
            self._pending.pop(request.key, None)  # re-insert at the end: it is the newest
            self._pending[request.key] = request
            owner = request.owner
            self._newest[owner] = max(self._newest.get(owner, 0), request.generation)
            if isinstance(request, RESETS) or isinstance(request, m.OcclusionMap):
                self._cancel_upto(owner, request.generation - 1)
            worker = self._workers[lane_of(request)]
        worker.host.wake(worker)

    def _cancel_upto(self, owner: str, generation: int) -> None:
        self._cancelled_upto[owner] = max(self._cancelled_upto.get(owner, 0), generation)

    def is_cancelled(self, request: m.Request) -> bool:
        """Return whether ``request`` was cancelled (by :meth:`cancel` or a newer reset of its owner)."""
        return request.generation <= self._cancelled_upto.get(request.owner, 0)

    def cancel(self, owner: str | None = None) -> None:
        """Stop ``owner``'s running request and drop its waiting analysis and long ones (None: every owner's).

        The dropped ones answer Cancelled at once; a long request stops at its next check and answers
        Cancelled; a request still running ``grace`` seconds later is interrupted, and ``grace`` seconds after
        that abandoned (see the module docstring).
        """
        with self._lock:
            for who in ([owner] if owner is not None else list(self._newest)):
                self._cancel_upto(who, self._newest.get(who, 0))
            dropped = [k for k, r in self._pending.items() if (owner is None or r.owner == owner)
                       and (r.long or isinstance(r, m.Analysis))]
            dropped = [self._pending.pop(k) for k in dropped]
            jobs = [w.job for w in self._workers.values() if w.job is not None and w.host.threaded]
        for request in dropped:
            self.on_result(m.Cancelled(request))
        for job in jobs:
            if owner is None or any(j.request.owner == owner for j in job.chain()):
                self.host.later(self.grace, lambda job=job: self.escalate(job))

    def _jobs(self) -> list[Job]:
        return [w.job for w in self._workers.values() if w.job is not None]

    def running_for(self) -> float:
        """Return how many seconds the longest-running request has been computing (0 when idle)."""
        return max((time.monotonic() - job.started for job in self._jobs()), default=0.0)

    def running(self) -> m.Request | None:
        """Return the request being computed: the main lane's, else the views' (None when both are idle)."""
        jobs = self._jobs()
        return jobs[0].request if jobs else None

    def running_all(self) -> list[m.Request]:
        """Return the requests being computed, one per busy lane (the main lane's first)."""
        return [job.request for job in self._jobs()]

    def pending(self, owner: str | None = None) -> int:
        """Return the number of requests waiting (of ``owner``, or all)."""
        with self._lock:
            return sum(1 for r in self._pending.values() if owner is None or r.owner == owner)

    def busy(self, owner: str | None = None) -> bool:
        """Return whether a request (of ``owner``, or any) is waiting or being computed."""
        with self._lock:
            if owner is None:
                return any(w.busy for w in self._workers.values()) or bool(self._pending)
            return any(j.request.owner == owner for job in self._jobs() for j in job.chain()) \
                or self.pending(owner) > 0

    # -- the worker's side ----------------------------------------------------------------------------
    def _drain(self, worker: Worker) -> None:
        worker.thread_id = threading.get_ident()
        while worker.restore:  # a fresh worker first reloads what worked, answering nobody
            worker.compute.handle(worker.restore.pop(0))
        while True:
            with self._lock:
                if worker is not self._workers[worker.lane]:
                    return  # abandoned: a fresh worker serves the queue now
                key = next((k for k, r in self._pending.items() if lane_of(r) == worker.lane), None)
                if key is None:
                    worker.busy = False
                    self._idle_at = time.monotonic()
                    return
                request = self._pending.pop(key)
                worker.busy = True
            self._run(request, worker)

    def _run(self, request: m.Request, worker: Worker) -> None:
        if (isinstance(request, m.Analysis) or request.long) and self.is_cancelled(request):
            self.on_result(m.Cancelled(request))  # cancelled while it waited: not started
            return
        self.computed.append(request.generation)

        def cancel() -> bool:
            if request.long and worker.lane == "main":  # between a map's steps: the window's clicks, the square
                self._serve_main(worker, everything=isinstance(request, m.Analysis))
            return self.is_cancelled(request)

        def progress(done, total, partial=None) -> None:
            if worker is self._workers[worker.lane]:
                if partial is not None:  # part of the answer, before the rest (a view fills in as it comes)
                    self.on_result(m.Partial(request, partial))
                self.on_progress(request.generation, done, total)

        outer = worker.job
        job = Job(request, outer)
        try:
            worker.job = job
            try:
                results = worker.compute.handle(request, progress=progress, cancel=cancel)
            finally:
                with self._lock:
                    worker.job = outer
                    if job.interrupted and worker.thread_id is not None:
                        raise_in_thread(worker.thread_id, None)  # one that has not landed yet must not
        except Interrupted:
            results = [m.Failed(request, self._stopped_text(job, "stopped"))]
        with self._lock:
            if worker is not self._workers[worker.lane]:
                return  # abandoned while it ran: its late answers are stale
            for result in results:
                if worker.lane == "main" and (isinstance(result, m.ModelLoaded)
                                              or isinstance(result.request, m.LoadImage)):
                    # the last model and the last input (image or frame) that loaded, to restore
                    self._good["LoadModel" if isinstance(result, m.ModelLoaded) else "LoadImage"] = result.request
                self.on_result(result)

    def _serve_main(self, worker: Worker, everything: bool) -> None:
        """Answer the main window's waiting requests: all of them, or (not ``everything``) those that neither
        replace the model/image nor are long."""
        while True:
            with self._lock:
                if worker is not self._workers["main"]:
                    return
                keys = [k for k, r in self._pending.items()
                        if r.owner == "main" and (everything or not (r.long or isinstance(r, RESETS)))]
                if not keys:
                    return
                request = self._pending.pop(keys[0])
            self._run(request, worker)

    # -- a request that does not answer ---------------------------------------------------------------
    def _stopped_text(self, job: Job, what: str) -> str:
        request = job.request
        kind = request.name if isinstance(request, m.Analysis) else type(request).__name__
        if isinstance(request, m.Analysis) and request.model_args:
            name = request.model_args[0]
        else:
            name = getattr(request, "name", "") or self.compute.model_args[0] or "the model"
        return f"{what}: {name} did not answer {kind} for {time.monotonic() - job.started:.0f} s"

    def escalate(self, job: Job) -> None:
        """Interrupt ``job`` if it is still running; if it already was interrupted, abandon its worker."""
        with self._lock:
            worker = next((w for w in self._workers.values() if w.job is job), None)
            if worker is None or worker.thread_id is None or not worker.host.threaded:
                return  # it answered
            if not job.interrupted:
                job.interrupted = True
                raise_in_thread(worker.thread_id, Interrupted)
                self.host.later(self.grace, lambda: self.escalate(job))
                return
            self._abandon(worker, job)

    def _abandon(self, old: Worker, job: Job) -> None:
        """Leave the stuck worker's thread behind and serve its lane with a fresh worker (lock held)."""
        old.host.quit(old)  # its loop ends if the stuck call ever returns
        self.stuck = [w for w in self.stuck if w.host.running(w)] + [old]
        restore = tuple(self._good[k] for k in ("LoadModel", "LoadImage") if k in self._good) \
            if old.lane == "main" else ()
        fresh = self._workers[old.lane] = self._new_worker(old.lane, restore)
        self.abandoned += 1
        model = self._good["LoadModel"].name if "LoadModel" in self._good else "no model"
        text = self._stopped_text(job, "abandoned") + "; it may keep running in the background" + \
            (f"; back to {model}" if old.lane == "main" else "")
        self.on_result(m.Failed(job.request, text))
        outer = job.outer
        while outer is not None:  # the long jobs it ran inside are lost with the thread: say so to their askers
            self.on_result(m.Failed(outer.request, f"stopped: its worker was given up on ({text})"))
            outer = outer.outer
        fresh.host.wake(fresh)

    def check_stall(self) -> None:
        """Call ``on_stalled(seconds, kind)`` when a lane's running request has not answered for ``watchdog``
        seconds (and every ``watchdog`` seconds after); long requests show their own progress instead."""
        for lane, worker in list(self._workers.items()):
            job = worker.job
            if job is None or self.watchdog <= 0 or job.request.long:
                continue
            seconds = time.monotonic() - job.started
            reported, next_at = self._stalls.get(lane, (None, 0.0))
            if seconds >= self.watchdog and (reported is not job or seconds >= next_at):
                self._stalls[lane] = (job, seconds + self.watchdog)
                request = job.request
                self.on_stalled(int(seconds), request.name if isinstance(request, m.Analysis) else type(request).__name__)

    def give_back_when_idle(self, now: float | None = None) -> bool:
        """Give a held heap's free memory back to the system (:func:`deconvviz.engine.heap.give_back`) once no
        lane has computed for :data:`GIVE_BACK_S` seconds, once per idle spell; return whether it started to.
        The app calls it with the stall check, so a session's peak memory does not stay with it while it waits.
        The trim runs in a thread of its own: giving back 1.5 GB took 153 ms, which the UI thread must not wait."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if not heap.held() or self._idle_at is None or self.busy() or now - self._idle_at < GIVE_BACK_S:
                return False
            self._idle_at = None
        threading.Thread(target=heap.give_back, name="deconvviz-give-back", daemon=True).start()
        return True

    def stuck_workers(self) -> list[Worker]:
        """Return the abandoned workers whose thread is still inside a user's call."""
        self.stuck = [w for w in self.stuck if w.host.running(w)]
        return list(self.stuck)

    def stop(self, wait: float = 3.0) -> None:
        """Drop waiting requests, interrupt the running ones and end the workers (call before the app quits).

        A worker stuck in a user's call is abandoned after ``wait`` seconds (it never blocks the quit);
        abandoned workers get what is left of ``wait`` to finish.
        """
        deadline = time.monotonic() + wait
        with self._lock:
            dropped = list(self._pending.values())
            self._pending.clear()
            for owner in list(self._newest):
                self._cancel_upto(owner, self._newest[owner])
            workers = dict(self._workers)
            for worker in workers.values():
                job = worker.job
                if job is not None and worker.thread_id is not None and worker.host.threaded:
                    job.interrupted = True
                    raise_in_thread(worker.thread_id, Interrupted)
        for request in dropped:
            if isinstance(request, m.Analysis):
                self.on_result(m.Cancelled(request))  # its view hears it will not come
        for worker in workers.values():
            if worker.host.threaded and worker.host.running(worker):
                worker.host.quit(worker)
        for lane, worker in workers.items():
            if worker.host.threaded and worker.host.running(worker) and \
                    not worker.host.wait(worker, max(0.001, deadline - time.monotonic())):
                with self._lock:
                    self.stuck.append(worker)
                    self.host = SyncHost()  # nothing more is computed in the stuck one
                    self._workers[lane] = self._new_worker(lane)
        for stuck in self.stuck_workers():
            stuck.host.wait(stuck, max(0.001, deadline - time.monotonic()))
