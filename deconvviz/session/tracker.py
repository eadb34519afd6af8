"""Request generations and which results are still current (the bookkeeping ndv's controllers do).

Every request gets a generation from one counter that only grows (shared by every :class:`Tracker` of one
runner, so generations order all requests the runner sees). A result is current when it answers the newest
request of its kind (``request.key``) and was asked for after the newest *reset* (a request that replaces
the state all others depend on, such as a new model or image). For *live* kinds (the occluder being
dragged) a result is current when it is newer than the one on screen, so a drag shows answers as they come.
A failed reset replaced nothing: :meth:`Tracker.failed` puts the previous epoch back.
"""

from __future__ import annotations

import itertools
import threading
from typing import Callable


class Generations:
    """A thread-safe counter of generations: ``next()`` returns 1, 2, 3, ..."""

    def __init__(self) -> None:
        self._count = itertools.count(1)
        self._lock = threading.Lock()

    def next(self) -> int:
        """Return a generation larger than every one returned before."""
        with self._lock:
            return next(self._count)


class Tracker:
    """Generations of one consumer's requests (``is_reset(request)``, ``is_live(request)`` classify them)."""

    def __init__(self, generations: Generations | None = None, is_reset: Callable = lambda r: False,
                 is_live: Callable = lambda r: False) -> None:
        self.generations = generations or Generations()
        self.is_reset, self.is_live = is_reset, is_live
        self.latest: dict = {}  # kind -> newest generation asked
        self.shown: dict = {}  # kind -> generation of the answer on screen
        self.epoch = 0  # generation of the newest reset
        self._epochs: dict[int, int] = {}  # a reset's generation -> the epoch before it (restored if it fails)

    def stamp(self, make: Callable[[int], object]):
        """Return ``make(generation)`` with the next generation, recorded as the newest of its kind."""
        request = make(self.generations.next())
        self.latest[request.key] = request.generation
        if self.is_reset(request):
            self._epochs[request.generation] = self.epoch
            self.epoch = request.generation
        return request

    def is_latest(self, request) -> bool:
        """Return whether ``request`` is the newest of its kind."""
        return self.latest.get(request.key) == request.generation

    def is_current(self, request) -> bool:
        """Return whether to show an answer to ``request`` (see the module docstring)."""
        newest = (self.shown if self.is_live(request) else self.latest).get(request.key, 0)
        if request.generation < newest:
            return False
        return self.is_reset(request) or request.generation > self.epoch

    def show(self, request) -> None:
        """Record that the answer to ``request`` is now on screen."""
        self.shown[request.key] = request.generation

    def failed(self, request) -> None:
        """Record that ``request`` failed: if it was the newest reset, the previous epoch holds again."""
        previous = self._epochs.pop(request.generation, None)
        if previous is not None and request.generation == self.epoch:
            self.epoch = previous
