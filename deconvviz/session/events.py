"""A small callback mechanism for the session's change events (after napari's EventedModel and ndv's models).

An :class:`Emitter` holds callbacks; ``emit(value)`` calls each with the new value, in the order they were
connected. :class:`Events` is a namespace of emitters, one per field (``events.layer.connect(cb)``), with
:meth:`Events.blocked` (nothing is emitted inside) and :meth:`Events.batch` (each changed field is emitted
once, with its final value, when the outermost batch ends). No Qt: callbacks run in the thread that changed
the value; the app changes the session only on its UI thread.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator

Callback = Callable[[Any], None]


class Emitter:
    """The callbacks of one event."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._callbacks: list[Callback] = []
        self._blocked = 0

    def connect(self, callback: Callback) -> Callback:
        """Call ``callback(value)`` on every emit; return it (so this works as a decorator)."""
        if callback not in self._callbacks:
            self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callback) -> None:
        """Stop calling ``callback`` (no error if it was not connected)."""
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, value: Any) -> None:
        """Call every callback with ``value`` unless blocked; a callback connected during the emit waits for the next."""
        if self._blocked:
            return
        for callback in list(self._callbacks):
            callback(value)

    @contextmanager
    def blocked(self) -> Iterator[None]:
        """Within this block, ``emit`` does nothing (nested blocks are fine)."""
        self._blocked += 1
        try:
            yield
        finally:
            self._blocked -= 1

    def __len__(self) -> int:
        return len(self._callbacks)


class Events:
    """One :class:`Emitter` per name, as attributes; plus blocking and batching over all of them."""

    def __init__(self, names) -> None:
        self._emitters = {name: Emitter(name) for name in names}
        self._batch = 0
        self._queued: dict[str, tuple[Any, Callable[[], Any]]] = {}  # name -> (value before the batch, reader)

    def __getattr__(self, name: str) -> Emitter:
        try:
            return self.__dict__["_emitters"][name]
        except KeyError:
            raise AttributeError(f"no event {name!r}; events: {', '.join(self.__dict__['_emitters'])}") from None

    def names(self) -> list[str]:
        """Return the event names."""
        return list(self._emitters)

    def emit(self, name: str, read: Callable[[], Any], before: Any = None) -> None:
        """Emit event ``name`` with ``read()`` now, or (inside a batch) once with its value when the batch ends,
        if it then differs from ``before`` (the value before its first change in the batch)."""
        if self._batch:
            before = self._queued.pop(name, (before, None))[0]
            self._queued[name] = (before, read)
        else:
            self._emitters[name].emit(read())

    @contextmanager
    def blocked(self) -> Iterator[None]:
        """Within this block no event is emitted (the values still change)."""
        emitters = list(self._emitters.values())
        for e in emitters:
            e._blocked += 1
        try:
            yield
        finally:
            for e in emitters:
                e._blocked -= 1

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Within this block changes are collected; at its end each changed field emits once, in change order."""
        self._batch += 1
        try:
            yield
        finally:
            self._batch -= 1
            if not self._batch:
                queued, self._queued = self._queued, {}
                for name, (before, read) in queued.items():
                    value = read()
                    if not _same(value, before):
                        self._emitters[name].emit(value)


def _same(a: Any, b: Any) -> bool:
    """Return whether two field values are equal (identity for arrays and other values without a plain ==)."""
    if a is b:
        return True
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # numpy arrays compare elementwise
        return False
