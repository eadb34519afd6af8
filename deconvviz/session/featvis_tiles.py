"""The feature visualisations the main window shows (Qt-free): a picture per channel of the grid's layer, and the
deconvnet pane's channel's picture, from the on-disk cache or computed in the analysis views' lane.

:class:`FeatvisTiles` turns "show layer L's pictures" into cache reads and at most one job (an
:class:`~.messages.Analysis` of owner :data:`OWNER`, so it runs in the views' lane and never holds up a click or
the square); the job reports each finished chunk of pictures as a :class:`~.messages.Partial` result (written to
the cache first, in the worker) and the grid fills in as they come. A new layer or model cancels the old job.
The weights' hash (the cache key's first part) is computed by the first job after a model load and kept for that
load, so a second visit to a layer reads the cache with no job at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import featvis_cache as cache
from . import messages as m
from .tracker import Generations, Tracker

OWNER = "featvis"  # the grid's batch
PANE_OWNER = "featvis-pane"  # the deconvnet pane's one channel
CHUNK = 8  # pictures per finished chunk: the grid fills in this many at a time


@dataclass(frozen=True)
class FeatvisParams:
    """What a picture is made with (part of its cache key): Adam ``steps``, side ``size`` in pixels, ``seed``."""

    steps: int = 256
    size: int = 128
    seed: int = 0

    def key_params(self) -> dict:
        """Return the parameters of the cache key."""
        return {"objective": "channel mean", "steps": self.steps, "size": self.size, "seed": self.seed}


@dataclass(frozen=True)
class Pictures:
    """A job's report: the weights' ``hash`` and finished ``pictures`` {channel: RGB uint8 (S, S, 3)} of ``layer``."""

    hash: str
    layer: str
    pictures: dict = field(default_factory=dict)


def as_rgb(picture) -> np.ndarray:
    """Return a picture (3, S, S) float in [0, 1] (a tensor) as RGB uint8 (S, S, 3), read-only."""
    from ..figures.featvis import picture_rgb

    return m.frozen_array(picture_rgb(picture))


def featvis_job(layer: str, channels: list[int], params: FeatvisParams, folder: Path | None, known_hash: str | None,
                chunk: int = CHUNK, polite: Callable[[Callable[[], bool]], Callable[[], bool]] | None = None) -> Callable:
    """Return an Analysis function computing ``channels`` of ``layer``: it reports (``progress(done, total,
    Pictures)``) the cached ones first, then each finished chunk, storing each in the cache before; returns the
    last :class:`Pictures` (empty pictures). ``polite(cancel)``, when given, returns the cancel check the run
    uses instead of the runner's (a background job's: it may wait, or stop to let others go first)."""

    def job(model, progress, cancel):
        from ..analyses.featvis import feature_visualisation

        if polite is not None:
            cancel = polite(cancel)
        digest = known_hash or cache.weights_hash(model.net)
        keys = {c: cache.picture_key(digest, layer, c, **params.key_params()) for c in channels}
        found = {}
        for c in channels:
            picture = cache.load(keys[c], folder)
            if picture is not None and tuple(picture.shape) == (3, params.size, params.size):
                found[c] = as_rgb(picture)
        todo = [c for c in channels if c not in found]
        total = -(-len(todo) // chunk) * params.steps  # the engine's count: steps over all chunks
        report = progress if progress is not None else (lambda *a, **k: None)
        report(0, total, Pictures(digest, layer, found))

        def on_chunk(rows, images):
            done = {}
            for i, picture in zip(rows, images):
                cache.store(keys[todo[i]], picture, folder)
                done[todo[i]] = as_rgb(picture)
            report((min(rows) // chunk + 1) * params.steps, total, Pictures(digest, layer, done))

        if todo:
            feature_visualisation(model, layer, todo, params.steps, params.size, params.seed, batch=chunk,
                                  progress=progress, cancel=cancel, on_chunk=on_chunk)
        return Pictures(digest, layer)

    return job


class FeatvisTiles:
    """The grid's and the pane's pictures for the session's loaded model (see the module docstring).

    ``submit(request)`` and ``cancel(owner)`` are the runner's; ``params()`` and ``folder()`` are read at each
    request (the app's settings); ``shown(channel, rgb)`` paints a grid tile, ``pane(channel, rgb or None)`` the
    pane's picture, ``state(text)`` says how far the grid's batch is.
    """

    def __init__(self, submit: Callable[[m.Request], None], cancel: Callable[[str], None],
                 generations: Generations | None = None) -> None:
        self.submit, self.cancel = submit, cancel
        self.tracker = Tracker(generations)
        self.params: Callable[[], FeatvisParams] = FeatvisParams
        self.folder: Callable[[], Path | None] = lambda: None
        self.shown: Callable[[int, np.ndarray], None] = lambda channel, rgb: None
        self.pane: Callable[[int, np.ndarray | None], None] = lambda channel, rgb: None
        self.state: Callable[[str], None] = lambda text: None
        self.loaded = None  # the ModelFacts the hash and pictures belong to
        self.hash: str | None = None
        self.model_args: tuple = ("", None)
        self.layer: str | None = None  # the grid's layer, while the grid shows pictures
        self.pictures: dict[int, np.ndarray] = {}  # the grid's layer's pictures so far
        self.count = 0
        self.job: m.Analysis | None = None  # the grid's running batch
        self.pane_job: m.Analysis | None = None
        self.pane_channel: tuple[str, int] | None = None  # (layer, channel) the pane wants

    # -- the window's choices -------------------------------------------------------------------------
    def model(self, loaded, model_args: tuple) -> None:
        """A model loaded (``loaded``, its ModelFacts; ``model_args`` (name, weights)): forget the last one's hash
        and pictures, and stop its jobs."""
        if loaded is self.loaded:
            return
        self.stop()
        self.loaded, self.model_args, self.hash = loaded, model_args, None
        self.pane_channel = None

    def show(self, layer: str, count: int) -> None:
        """Show ``layer``'s ``count`` channels' pictures: the cached ones at once, the rest from one job (an
        earlier layer's job is cancelled; the same layer again keeps its job)."""
        if layer == self.layer and self.pictures and (self.job is not None or len(self.pictures) == self.count):
            for channel, rgb in sorted(self.pictures.items()):
                self.shown(channel, rgb)
            return
        self.hide()
        self.layer, self.count, self.pictures = layer, count, {}
        channels = list(range(count))
        if self.hash is not None:
            params, folder = self.params(), self.folder()
            for c in channels:
                picture = cache.load(cache.picture_key(self.hash, layer, c, **params.key_params()), folder)
                if picture is not None and tuple(picture.shape) == (3, params.size, params.size):
                    self._add(c, as_rgb(picture))
            channels = [c for c in channels if c not in self.pictures]
        if not channels:
            self.state(f"feature vis: {count} channels (cached)")
            return
        self.job = self._submit(OWNER, "grid", layer, channels)
        self._say()

    def hide(self) -> None:
        """The grid stops showing pictures: its batch is cancelled (finished chunks stay cached)."""
        if self.job is not None:
            self.cancel(OWNER)
        self.job, self.layer, self.pictures = None, None, {}

    def stop(self) -> None:
        """Cancel every job (the grid's and the pane's)."""
        self.hide()
        if self.pane_job is not None:
            self.cancel(PANE_OWNER)
            self.pane_job = None

    def choose(self, layer: str | None, channel: int | None, compute: bool) -> None:
        """The pane's channel is ``channel`` of ``layer``: show its picture from the grid or the cache; when
        there is none, compute it (``compute``) unless the grid's batch will bring it."""
        if self.pane_job is not None:
            self.cancel(PANE_OWNER)
            self.pane_job = None
        self.pane_channel = None if layer is None or channel is None else (layer, channel)
        if self.pane_channel is None:
            self.pane(-1, None)
            return
        rgb = self.pictures.get(channel) if layer == self.layer else None
        if rgb is None and self.hash is not None:
            params = self.params()
            picture = cache.load(cache.picture_key(self.hash, layer, channel, **params.key_params()), self.folder())
            if picture is not None and tuple(picture.shape) == (3, params.size, params.size):
                rgb = as_rgb(picture)
        self.pane(channel, rgb)
        coming = self.job is not None and layer == self.layer
        if rgb is None and compute and not coming:
            self.pane_job = self._submit(PANE_OWNER, "pane", layer, [channel])

    def snapshot(self, order: list[int], sort: str = "index"):
        """Return the grid's pictures (a :class:`~.featvis_export.FeatvisShown`) in the grid's ``order``, or
        None when the grid shows none of a layer."""
        from .featvis_export import FeatvisShown

        if self.layer is None:
            return None
        return FeatvisShown(self.layer, tuple(order), tuple((c, self.pictures[c]) for c in order
                                                            if c in self.pictures), self.params(), sort)

    # -- the runner's answers -------------------------------------------------------------------------
    def on_result(self, result: m.Result) -> bool:
        """Take a result of this object's jobs (others: ignored); return whether it was one."""
        job = result.request
        if not isinstance(job, m.Analysis) or job.owner not in (OWNER, PANE_OWNER):
            return False
        current = (job is self.job or job is self.pane_job) and self.tracker.is_latest(job)
        if not current:
            return True
        if isinstance(result, (m.Partial, m.Done)):
            self._pictures(job, result.value)
        if isinstance(result, (m.Done, m.Failed, m.Cancelled)):
            if job is self.job:
                self.job = None
                self._say(result.message if isinstance(result, m.Failed) else
                          "cancelled" if isinstance(result, m.Cancelled) else "")
            else:
                self.pane_job = None
        return True

    def on_progress(self, generation: int, done: int, total: int) -> None:
        """Say how far the grid's batch is."""
        if self.job is not None and generation == self.job.generation and total:
            self._say(f"{100 * done // total} %")

    # -- inside ---------------------------------------------------------------------------------------
    def _submit(self, owner: str, name: str, layer: str, channels: list[int]) -> m.Analysis:
        fn = featvis_job(layer, channels, self.params(), self.folder(), self.hash)
        request = self.tracker.stamp(lambda g: m.Analysis(g, owner=owner, name=name, fn=fn,
                                                          model_args=self.model_args, long=True))
        self.submit(request)
        return request

    def _pictures(self, job: m.Analysis, value) -> None:
        if not isinstance(value, Pictures):
            return
        self.hash = value.hash
        for channel, rgb in sorted(value.pictures.items()):
            if job is self.job and value.layer == self.layer:
                self._add(channel, rgb)
            elif self.pane_channel == (value.layer, channel):
                self.pane(channel, rgb)

    def _add(self, channel: int, rgb: np.ndarray) -> None:
        self.pictures[channel] = rgb
        self.shown(channel, rgb)
        if self.pane_channel == (self.layer, channel):
            self.pane(channel, rgb)

    def _say(self, note: str = "") -> None:
        text = f"feature vis: {len(self.pictures)} of {self.count} channels"
        self.state(text + (f" · {note}" if note else ""))
