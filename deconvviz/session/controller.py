"""The main window's logic without Qt: what the user chose becomes requests, and current results become state.

:class:`Controller` observes a :class:`~.state.Session`. Each change it cares about (model, input, layer,
channel, mode, square) is frozen into a request (:mod:`.messages`), stamped by its
:class:`~.tracker.Tracker` and handed to ``submit`` (the runner's). Each result goes through
:meth:`Controller.on_result`: a current one is applied to the session and shown on a :class:`Screen` (the
window's panes implement it; tests record it). Which method applies which result is one table,
:data:`RESULTS`; a result type without an entry fails ``tests/session/test_controller.py``.

Invariants the controller keeps:

- ``session.channel`` is None or a channel of ``session.layer``: a new layer clears it in the same change
  and its maps choose one (the previous channel when the maps are of the same layer, else the strongest);
  a channel out of the layer's range is never set.
- A result is applied only when it answers the newest request of its kind made after the newest model or
  input load (for the live occluder: newer than the answer on screen); a playing frame's answer that comes
  after the pause is dropped.
- While playing, the grid and the projection go to every other analysed frame before the class table
  loses any (:mod:`.playback`); the frames between keep the grid and projection of the frame before.
- A model choice being loaded is not loaded again (Enter in the model box also activates its item).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

import numpy as np

from ..figures.overlay import map_levels
from . import messages as m
from .budget import DEFAULT_BUDGET_MS
from .playback import PlaybackPlan
from .state import FrameInput, ImageFacts, ImageInput, LiveFrame, ModelChoice, ModelFacts, Session, Square
from .tracker import Generations, Tracker

PANES = {"grid": "channel grid", "deconv": "deconvnet pane", "occlusion": "occlusion canvas"}


class Screen:
    """What the controller shows. Every method does nothing here; a window overrides what it shows."""

    def model_loaded(self, r: m.ModelLoaded) -> None:
        """A model loaded (the session already holds it, with no layer chosen yet): layers, title, settings."""

    def image_loaded(self, r: m.ImageLoaded, keep: bool) -> None:
        """An input ran through the model; ``keep``: another frame of the same video (square and class stay)."""

    def maps(self, r: m.MapsReady, channel: int) -> None:
        """A layer's maps, with ``channel`` to select (without asking for anything)."""

    def projection(self, r: m.ProjectionReady) -> None:
        """A deconvnet projection."""

    def occluded(self, r: m.Occluded) -> None:
        """The probabilities with the square in place."""

    def frame(self, r: m.FrameAnalysed) -> None:
        """A playing frame's picture, probabilities and occluded answer (its maps and projection come apart)."""

    def occlusion_map(self, r: m.MapReady) -> None:
        """A full occlusion map."""

    def map_running(self, on: bool) -> None:
        """An occlusion map started or ended."""

    def map_progress(self, done: int, total: int) -> None:
        """The newest occlusion map's progress."""

    def error(self, text: str) -> None:
        """A message the user must see (the banner); the status line says it too."""

    def model_reverted(self, name: str) -> None:
        """A model failed to load: the model box goes back to ``name``, the loaded one."""


def channel_count(record) -> int | None:
    """Return how many channels ``record`` (a LayerRecord) offers the grid: its maps' channels, a vector's
    length; None when unknown."""
    if record is None:
        return None
    if record.channels is not None:
        return record.channels
    shape = tuple(record.output_shape)
    return shape[0] if len(shape) == 1 else None


class Controller:
    """Turns ``session`` changes into requests for ``submit`` and results into session state (module docstring).

    The window plugs in what only it knows, as plain callables: ``playing()`` (a video plays: its frames carry
    the requests), ``dragging()`` (the square is being dragged: ask approximately), ``project(generation,
    layer, channel)`` (the projection pane's request). ``default_model`` and ``default_image`` are the
    fallbacks when the remembered ones no longer load at start-up.
    """

    def __init__(self, session: Session, submit: Callable[[m.Request], None], generations: Generations | None = None,
                 device: str = "cpu", screen: Screen | None = None, default_model: str = "",
                 default_image: str = "") -> None:
        self.session, self.submit, self.device = session, submit, device
        self.screen = screen or Screen()
        self.tracker = Tracker(generations, is_reset=lambda r: isinstance(r, (m.LoadModel, m.LoadImage)),
                               is_live=lambda r: isinstance(r, (m.Occlude, m.AnalyseFrame)))
        self.playing: Callable[[], bool] = lambda: False
        self.dragging: Callable[[], bool] = lambda: False
        self.budget_ms: Callable[[], float] = lambda: DEFAULT_BUDGET_MS  # the moving square's answer-time budget
        self.project: Callable[[int, str, int], m.Project] = lambda g, layer, channel: m.Project(g, layer, channel)
        self.default_model, self.default_image = default_model, default_image
        self.startup_model = self.startup_image = True  # the first loads may fall back to the defaults
        self.layers: dict = {}  # the loaded model's LayerRecords by name
        self.grid_layer: str | None = None  # the layer of the maps on screen
        self.last_project: m.Project | None = None  # the projection on screen
        self.last_occlude: m.Occlude | None = None  # the newest live request sent
        self.last_probs: np.ndarray | None = None  # the probabilities on screen
        self.loading: ModelChoice | None = None
        self.playback = PlaybackPlan()  # which playing frames carry the grid and the projection
        self._held = None  # the video frame that is the input

    def observe(self) -> None:
        """Start observing the session (after the window's own observers, which sync its widgets first)."""
        events = self.session.events
        events.model.connect(self._on_model)
        events.input.connect(self._on_input)
        events.layer.connect(self._on_layer)
        events.channel.connect(lambda channel: self._channel_requests())
        events.mode.connect(lambda mode: self.request_projection())
        events.square.connect(lambda square: self.request_occlusion())

    def send(self, make: Callable[[int], m.Request]) -> m.Request:
        """Stamp ``make(generation)`` as the newest of its kind, submit it and return it."""
        request = self.tracker.stamp(make)
        self.submit(request)
        return request

    def status(self, text: str) -> None:
        """Say ``text`` in the status line (through the session, so every observer hears it again)."""
        if self.session.status == text:
            self.session.events.status.emit(text)
        else:
            self.session.status = text

    def fail(self, text: str) -> None:
        """Show ``text`` as an error."""
        self.screen.error(text)
        self.status(text)

    # -- the user's choices -----------------------------------------------------------------------------
    def open_model(self, name: str, weights: str | None = None, download: bool = False) -> None:
        """Choose model ``name`` (with ``weights``); the current one stays until the new one has loaded; the
        same choice again loads it again (unless it is loading)."""
        name = name.strip()
        if not name:
            return
        choice = ModelChoice(name, weights, self.device, download)
        if self.loading == choice:
            return
        if self.session.model == choice:
            self._load_model(choice)
        else:
            self.session.model = choice  # -> _on_model

    def _on_model(self, choice: ModelChoice | None) -> None:
        loaded = self.session.loaded
        if choice is not None and (loaded is None or (loaded.name, loaded.weights) != (choice.name, choice.weights)):
            self._load_model(choice)

    def _load_model(self, choice: ModelChoice) -> None:
        self.loading = choice
        self.status(f"downloading weights and loading {choice.name}…" if choice.download else f"loading {choice.name}…")
        self.send(lambda g: m.LoadModel(g, choice.name, choice.weights, choice.download))

    def open_image(self, path: str) -> None:
        """Choose the image file at ``path`` as the input (opened again when it is already the input)."""
        choice = ImageInput(str(path))
        if self.session.input == choice:
            self._load_image(choice)
        else:
            self.session.input = choice  # -> _on_input

    def _on_input(self, choice) -> None:
        if isinstance(choice, ImageInput) and (self.session.image is None or self.session.image.path != choice.path):
            self._load_image(choice)

    def _load_image(self, choice: ImageInput) -> None:
        self.status(f"opening {Path(choice.path).name}…")
        self.send(lambda g: m.LoadImage(g, choice.path))

    def hold_frame(self, video: str, frame) -> None:
        """Make ``frame`` (a data.video Frame of ``video``) the input, like an image (once per frame)."""
        self.session.live = None  # no video plays: the held frame is the input
        if frame is self._held:
            return
        self._held = frame
        self.status(f"opening {FrameInput(video, frame.index, frame.time_s).label()}…")
        self.send(lambda g: m.LoadFrame(g, video, frame.index, frame.time_s, frame.pixels))

    def analyse_frame(self, video: str, frame) -> None:
        """Ask for a playing frame's answers in one pass (the frame does not become the input; it is the
        session's ``live`` frame, for the views that follow a playing video); the grid and the projection come
        with every frame, or with every other one when frames arrive faster than those are analysed
        (:class:`~.playback.PlaybackPlan`)."""
        s = self.session
        s.live = LiveFrame(FrameInput(video, frame.index, frame.time_s), frame.pixels)
        square = None if s.square is None else (s.square.top, s.square.left, s.square.size)
        layer, channel, mode = s.layer, s.channel, s.mode
        panes = self.playback.next_frame()
        request = self.send(lambda g: m.AnalyseFrame(g, video, frame.index, frame.time_s, frame.pixels, layer,
                                                     channel, mode, square, panes))
        self.playback.sent(request.generation, panes)

    def playback_skipping(self) -> str:
        """Return what playback analyses on every other frame only, in words ("" when every frame has it all)."""
        s = self.session
        return self.playback.skipping(s.layer is not None, s.layer is not None and s.channel is not None)

    def valid_channel(self, channel: int | None, layer: str | None = None) -> bool:
        """Return whether ``channel`` may be the channel of ``layer`` (default: the session's)."""
        if channel is None:
            return True
        count = channel_count(self.layers.get(layer if layer is not None else self.session.layer))
        return channel >= 0 and (count is None or channel < count)

    def choose_layer(self, layer: str) -> None:
        """Choose ``layer``: its channel is cleared until its maps choose one (the same layer: maps again)."""
        if self.session.layer == layer:
            self.request_maps()
        else:
            with self.session.events.batch():
                self.session.layer, self.session.channel = layer, None

    def _on_layer(self, layer: str | None) -> None:
        if not self.valid_channel(self.session.channel, layer):
            self.session.channel = None  # set with another layer by someone else: not one of this layer's
        self.request_maps()

    def choose_channel(self, channel: int) -> None:
        """Choose ``channel`` of the current layer (chosen again: its answers are asked for again)."""
        if not self.valid_channel(channel):
            self.status(f"{self.session.layer} has no channel {channel}")
        elif self.session.channel == channel:
            self._channel_requests()
        else:
            self.session.channel = channel

    def choose_mode(self, mode: str) -> None:
        """Choose the projection rule (the same one: the projection is asked for again with the pane's options)."""
        if self.session.mode == mode:
            self.request_projection()
        else:
            self.session.mode = mode

    def choose_target(self, target: int) -> None:
        """Choose the class the occlusion pane follows; the user's own choice stops following the top class."""
        self.session.update(target=target, follow_top=False)

    def choose_square(self, square: Square | None) -> None:
        """Put the occluder at ``square`` (None: remove it)."""
        if self.session.square == square:
            self.request_occlusion()
        else:
            self.session.square = square

    def square_stopped(self) -> None:
        """The square stopped moving: ask for its exact answer if the newest request was approximate."""
        if self.last_occlude is not None and self.last_occlude.approximate:
            self.request_occlusion(approximate=False)

    # -- requests -----------------------------------------------------------------------------------------
    def request_maps(self) -> None:
        """Ask for the current layer's maps (playing: the next frame carries them)."""
        layer = self.session.layer
        if layer is not None and not self.playing():
            self.send(lambda g: m.LayerMaps(g, layer))

    def _channel_requests(self) -> None:
        self.request_projection()
        if self.session.square is not None:
            self.request_occlusion()

    def request_projection(self) -> None:
        """Ask for the current channel's projection with the pane's options."""
        layer, channel = self.session.layer, self.session.channel
        if layer is not None and channel is not None and not self.playing():
            self.last_project = self.send(lambda g: self.project(g, layer, channel))

    def request_occlusion(self, approximate: bool | None = None) -> None:
        """Ask for the live square's answer (``approximate`` None: approximate while it is dragged)."""
        square = self.session.square
        if square is None or self.playing():
            return
        if approximate is None:
            approximate = self.dragging()
        layer, channel = (self.session.layer, self.session.channel) if self.session.channel is not None else (None, None)
        budget = self.budget_ms()
        self.last_occlude = self.send(lambda g: m.Occlude(g, square.top, square.left, square.size, layer, channel,
                                                          approximate, budget))

    def request_map(self, size: int, stride: int, approximate: bool = False) -> m.OcclusionMap | None:
        """Ask for the full occlusion map of the session's target for a ``size`` px square every ``stride`` px."""
        if self.session.image is None:
            return None
        self.screen.map_running(True)
        target = self.session.target
        return self.send(lambda g: m.OcclusionMap(g, size, stride, target, approximate))

    def export(self, pane: str, path: str, options: tuple = ()) -> m.Export | None:
        """Ask for pane ``pane`` ("grid", "deconv", "occlusion") as a PNG at ``path``; ``options`` as Export's."""
        s = self.session
        if pane == "grid" and s.layer is not None:
            spec = m.LayerMaps(0, s.layer)
        elif pane == "deconv" and self.last_project is not None:
            spec = self.last_project
        elif pane == "occlusion" and s.image is not None:
            spec = None if s.square is None else m.Occlude(0, s.square.top, s.square.left, s.square.size)
        else:
            self.fail(f"nothing to export in the {PANES.get(pane, pane)} yet")
            return None
        self.status(f"exporting {PANES[pane]}…")
        return self.send(lambda g: m.Export(g, pane, str(path), spec, tuple(options)))

    def suggested_name(self, pane: str) -> str:
        """Return a file name for exporting ``pane``: model, input, frame, layer, channel and pane."""
        s = self.session
        frame = s.image.frame if s.image is not None else None
        parts = [s.loaded.name if s.loaded else "", Path(s.image.path).stem if s.image else ""]
        parts += [f"frame{frame.index}"] if frame else []
        if pane != "occlusion":
            parts += [s.layer or "", f"ch{s.channel}" if pane == "deconv" else ""]
        parts.append(pane)
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", "_".join(p for p in parts if p)) + ".png"

    # -- results ------------------------------------------------------------------------------------------
    def is_current(self, result: m.Result) -> bool:
        """Return whether ``result`` may be shown (see the module docstring; exports always)."""
        return isinstance(result.request, m.Export) or self.tracker.is_current(result.request)

    def on_result(self, result: m.Result) -> bool:
        """Apply ``result`` if it is the main window's and current; return whether it was applied (a Failed
        one of the main window: always, as a message when it still matters)."""
        request = result.request
        if request.owner != "main":
            return False
        if isinstance(request, m.OcclusionMap) and self.tracker.is_latest(request):
            self.screen.map_running(False)  # the newest map ended, even if a later load made it stale
        if isinstance(result, m.Failed):
            self._failed(result)
            return True
        if not self.is_current(result) or (isinstance(result, m.FrameAnalysed) and not self.playing()):
            return False
        self.tracker.show(request)
        RESULTS[type(result)](self, result)
        return True

    def on_progress(self, generation: int, done: int, total: int) -> None:
        """Pass the newest occlusion map's progress to the screen."""
        if generation == self.tracker.latest.get("OcclusionMap"):
            self.screen.map_progress(done, total)

    def _failed(self, result: m.Failed) -> None:
        request, s = result.request, self.session
        self.tracker.failed(request)  # a load that failed replaced nothing: earlier answers still hold
        latest = self.tracker.is_latest(request)
        if isinstance(request, m.LoadModel):
            if latest:
                self.loading = None
                if s.loaded is not None:  # the choice goes back to the model that is loaded
                    s.model = ModelChoice(s.loaded.name, s.loaded.weights, self.device)
            if s.loaded is not None:
                self.screen.model_reverted(s.loaded.name)
            elif self.startup_model and self.default_model and request.name != self.default_model:
                self.startup_model = False  # the remembered model no longer loads: fall back to the default
                self.open_model(self.default_model)
        if isinstance(request, m.LoadImage) and latest and s.image is not None:
            s.input = s.image.input
        if type(request) is m.LoadImage and self.startup_image and self.default_image \
                and request.path != self.default_image:
            self.startup_image = False  # the remembered image is gone: fall back to the bundled photo
            self.open_image(self.default_image)
        if isinstance(request, (m.Export, m.LoadModel, m.LoadImage)) or self.is_current(result):
            self.fail(result.message)

    def _model_loaded(self, r: m.ModelLoaded) -> None:
        s = self.session
        self.startup_model, self.loading = False, None
        previous = s.layer
        self.layers = {rec.name: rec for rec in r.layers}
        self.grid_layer = self.last_project = None
        with s.events.batch():  # observers see the new model with no layer chosen yet
            s.loaded = ModelFacts(r.request.name, r.request.weights, r.weights, r.device, r.layers, r.class_names,
                                  r.input_size, r.first_conv, r.random_weights)
            s.model = ModelChoice(r.request.name, r.request.weights, self.device)
            s.square, s.layer, s.channel = None, None, None
        self.screen.model_loaded(r)
        self.status(f"{r.name}: random weights (untrained: the pictures show the architecture, not learnt "
                    f"features)" if r.random_weights else f"{r.name}: {r.weights}")
        spatial = [rec.name for rec in r.layers if rec.spatial]
        self.choose_layer(previous if previous in self.layers else r.first_conv or (spatial[0] if spatial
                                                                                   else r.layers[0].name))

    def _image_loaded(self, r: m.ImageLoaded) -> None:
        s = self.session
        self.startup_image = False
        before = s.image
        # another frame of the same video: the square and the class followed stay where they are
        keep = isinstance(r.request, m.LoadFrame) and before is not None and before.frame is not None \
            and before.frame.video == r.frame.video
        self.last_occlude = None
        self.last_probs = r.probs
        with s.events.batch():
            s.image = ImageFacts(r.path, r.pixels, r.probs, r.original_size, r.fill, r.frame, r.source)
            s.input = s.image.input
            if not keep:
                s.square, s.target = None, int(np.argmax(r.probs))
        self.screen.image_loaded(r, keep)
        w, h = r.original_size
        note = f" (scaled from {w}×{h})" if max(w, h) > 4 * max(r.pixels.shape[:2]) else ""
        name = s.loaded.class_name(s.target) if s.loaded is not None else str(s.target)
        self.status(f"{s.image.name}: {name} p={float(r.probs[s.target]):.3f}{note}")
        self.request_maps()

    def _maps(self, r: m.MapsReady) -> None:
        s = self.session
        same_layer = r.request.layer == self.grid_layer  # a new image: keep the channel; a new layer: the strongest
        keep = s.channel if same_layer and s.channel is not None and s.channel < len(r.maps) else None
        self.grid_layer = r.request.layer
        channel = keep if keep is not None else int(np.argmax(r.maxima))
        self.screen.maps(r, channel)
        if s.layer == r.request.layer:
            self.choose_channel(channel)

    def _projection(self, r: m.ProjectionReady) -> None:
        self.last_project = r.request
        self.screen.projection(r)

    def _occluded(self, r: m.Occluded) -> None:
        self.last_probs = r.probs
        self.screen.occluded(r)

    def _frame(self, r: m.FrameAnalysed) -> None:
        self.playback.answered(r.request.generation, r.request.panes, r.seconds)
        self.last_probs = r.occluded.probs if r.occluded is not None else r.probs
        if self.session.follow_top:
            self.session.target = int(np.argmax(r.probs))  # the unoccluded frame's top class
        self.screen.frame(r)
        if r.maps is not None:
            self._maps(r.maps)  # selects the channel; while playing that asks for nothing
        if r.projection is not None:
            self._projection(r.projection)

    def _occlusion_map(self, r: m.MapReady) -> None:
        req = r.request
        self.screen.occlusion_map(r)
        low = np.unravel_index(int(np.argmin(r.prob)), r.prob.shape)
        levels = map_levels(r.prob)
        name = self.session.loaded.class_name(req.target) if self.session.loaded else f"class {req.target}"
        self.status(f"{'approximate ' if r.approximation is not None else ''}occlusion map {r.prob.shape[0]}×"
                    f"{r.prob.shape[1]}: p({name}) from {levels[0]:.3f} (square at {low[0] * req.stride},"
                    f"{low[1] * req.stride}) to {levels[1]:.3f}")

    def _cancelled(self, r: m.Cancelled) -> None:
        self.screen.map_running(False)
        self.status("occlusion map cancelled")

    def _exported(self, r: m.Exported) -> None:
        self.status(f"wrote {r.path}")


# result type -> what applies it (a main-window result; Done answers an analysis view, Failed is _failed)
RESULTS: dict[type, Callable[[Controller, m.Result], None]] = {
    m.ModelLoaded: Controller._model_loaded,
    m.ImageLoaded: Controller._image_loaded,
    m.MapsReady: Controller._maps,
    m.ProjectionReady: Controller._projection,
    m.Occluded: Controller._occluded,
    m.FrameAnalysed: Controller._frame,
    m.MapReady: Controller._occlusion_map,
    m.Cancelled: Controller._cancelled,
    m.Exported: Controller._exported,
}
NOT_MAIN = (m.Done, m.Partial, m.Failed)  # results the table leaves out, on purpose (a view's, _failed)
