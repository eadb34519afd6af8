"""Every layer's feature visualisations computed in the background while the user browses (Qt-free).

:class:`FeatvisPrecompute` walks the loaded model's layers in order and, for each, computes the channels whose
picture is not in the disk cache yet (the grid's :func:`~.featvis_tiles.featvis_job`, the same parameters and
cache keys, so a layer visited later is read from the disk with no job). One job per layer, of owner
:data:`OWNER`, in the analysis views' lane. It stays out of the user's way:

- while the main window's lane is busy (a click, the square dragged, a video playing), and until it has been idle
  for :data:`QUIET_S`, it pauses between steps;
- when another job waits in the views' lane (also during a pause) (the grid's own batch, a view's analysis) it stops after the step it
  is in, losing only its unfinished chunk, and asks again behind that job.

A layer whose pictures fail (say, a layer no gradient reaches) is skipped and named in the state line.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from . import featvis_cache as cache
from . import messages as m
from .featvis_tiles import FeatvisTiles, Pictures, featvis_job
from .tracker import Tracker

OWNER = "featvis-all"
PAUSE_S = 0.05  # how often a paused job looks again whether the main window's lane is idle
# It goes on once the main lane has been idle this long: a drag or a video sends a request every few ms, and a
# step started in one of those gaps would take the cores from the next answer.
QUIET_S = 0.3


@dataclass(frozen=True)
class LayerRun:
    """A layer job's answer: the weights' ``hash``, the ``layer``, and whether it ``yielded`` to another job
    before it finished."""

    hash: str
    layer: str
    yielded: bool


class FeatvisPrecompute:
    """Computes the pictures of every layer of ``tiles``' model in the background (see the module docstring).

    ``tiles`` gives the runner's submit and cancel, the parameters, the cache folder and the weights' hash (which
    this object fills in too). ``main_busy()`` says whether the main window's lane has work; ``others_waiting()``
    whether a job other than this object's waits in the views' lane (both called from the worker thread).
    ``state(text)`` says how far it is ("" when off).
    """

    def __init__(self, tiles: FeatvisTiles, main_busy: Callable[[], bool],
                 others_waiting: Callable[[], bool]) -> None:
        self.tiles = tiles
        self.main_busy, self.others_waiting = main_busy, others_waiting
        self.tracker = Tracker(tiles.tracker.generations)
        self.state: Callable[[str], None] = lambda text: None
        self.on = False
        self.loaded = None
        self.layers: list[tuple[str, int]] = []  # (layer, channels) in the model's order
        self.index = 0  # the layer being computed, or the next one
        self.job: m.Analysis | None = None
        self.skipped: list[str] = []  # layers whose pictures failed, with why
        self.main_seen = -QUIET_S  # when (monotonic seconds) the main lane was last seen busy

    # -- the window's choices -------------------------------------------------------------------------
    def enable(self, on: bool) -> None:
        """Start (``on``) or stop computing in the background; finished chunks stay cached."""
        self.on = on
        if on:
            self._next()
        else:
            self._cancel()
            self.state("")

    def model(self, loaded, layers: list[tuple[str, int]]) -> None:
        """A model loaded (``loaded``, its ModelFacts, None when none) with ``layers`` [(name, channels)]: start
        again on it."""
        if loaded is self.loaded:
            return
        self._cancel()
        self.loaded, self.layers, self.index, self.skipped = loaded, list(layers), 0, []
        if self.on:
            self._next()

    def missing(self, layer: str, count: int) -> list[int]:
        """Return the channels of ``layer`` (of ``count``) without a cached picture (all of them while the
        weights' hash is not known yet)."""
        if self.tiles.hash is None:
            return list(range(count))
        params, folder = self.tiles.params(), self.tiles.folder()
        return [c for c in range(count)
                if not cache.has(cache.picture_key(self.tiles.hash, layer, c, **params.key_params()), folder)]

    # -- the runner's answers -------------------------------------------------------------------------
    def on_result(self, result: m.Result) -> bool:
        """Take a result of this object's jobs (others: ignored); return whether it was one."""
        job = result.request
        if not isinstance(job, m.Analysis) or job.owner != OWNER:
            return False
        if job is not self.job or not self.tracker.is_latest(job):
            return True
        value = getattr(result, "value", None)
        if isinstance(value, (Pictures, LayerRun)) and self.tiles.loaded is self.loaded:
            self.tiles.hash = self.tiles.hash or value.hash
        if isinstance(result, m.Partial):
            return True
        self.job = None
        if isinstance(result, m.Failed):
            self.skipped.append(f"{self.layers[self.index][0]} ({result.message})")
            self.index += 1
        elif isinstance(result, m.Cancelled):
            return True
        elif isinstance(value, LayerRun) and not value.yielded:
            self.index += 1
        if self.on:
            self._next()
        return True

    def on_progress(self, generation: int, done: int, total: int) -> None:
        """Say how far the running layer is."""
        if self.job is not None and generation == self.job.generation and total:
            self._say(f"{100 * done // total} %")

    # -- inside ---------------------------------------------------------------------------------------
    def _next(self) -> None:
        if self.job is not None or self.loaded is None:
            return
        while self.index < len(self.layers):
            layer, count = self.layers[self.index]
            todo = self.missing(layer, count)
            if todo:
                self._say()
                self._submit(layer, todo)
                return
            self.index += 1
        self._say("done")

    def _submit(self, layer: str, channels: list[int]) -> None:
        yielded: list[bool] = []

        def polite(cancel: Callable[[], bool]) -> Callable[[], bool]:
            def stop() -> bool:
                while True:  # a pause holds the views' lane: another job waiting ends it too
                    if cancel():
                        return True
                    if self.others_waiting():
                        yielded.append(True)
                        return True
                    now = time.monotonic()
                    if self.main_busy():
                        self.main_seen = now
                    elif now - self.main_seen >= QUIET_S:
                        return False
                    time.sleep(PAUSE_S)

            return stop

        tiles = self.tiles
        inner = featvis_job(layer, channels, tiles.params(), tiles.folder(), tiles.hash, polite=polite)

        def job(model, progress, cancel):
            return LayerRun(inner(model, progress, cancel).hash, layer, bool(yielded))

        self.job = self.tracker.stamp(lambda g: m.Analysis(g, owner=OWNER, name="layer", fn=job,
                                                           model_args=tiles.model_args, long=True))
        tiles.submit(self.job)  # (a synchronous runner answers inside this call)

    def _cancel(self) -> None:
        if self.job is not None:
            self.tiles.cancel(OWNER)
            self.job = None

    def _say(self, note: str = "") -> None:
        if not self.layers:
            self.state("")
            return
        shown = min(self.index, len(self.layers) - 1)
        text = (f"every layer's feature vis: {self.index} of {len(self.layers)} layers" if note == "done" else
                f"every layer's feature vis: layer {shown + 1} of {len(self.layers)}, {self.layers[shown][0]}"
                + (f" · {note}" if note else ""))
        if self.skipped:
            text += f" · skipped {len(self.skipped)}: {self.skipped[-1]}"
        self.state(text)
