"""The frozen requests the window sends to the backend and the frozen results it gets back.

Every request carries a ``generation`` (a number that only grows, over all requests one runner sees); the
runner coalesces waiting requests with the same :attr:`Request.key` (only the newest is computed) and the
asker drops results older than the newest request of their kind. Results hold numpy arrays (read-only)
and the request they answer. The main window's requests belong to the owner "main"; an analysis view's
jobs are :class:`Analysis` requests owned by the view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .budget import DEFAULT_BUDGET_MS


def frozen_array(a) -> np.ndarray:
    """Return ``a`` as a C-contiguous numpy array that cannot be written to."""
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class Request:
    """Base of all requests: ``generation`` orders them."""

    generation: int

    owner = "main"  # who asked: cancel and the resets act within one owner
    long = False  # checks cancel between steps and shows progress (no stall watchdog)

    @property
    def key(self):
        """Return the coalescing key: waiting requests with equal keys collapse into the newest."""
        return type(self).__name__


@dataclass(frozen=True)
class LoadModel(Request):
    """Load model ``name`` (with ``weights``; ``download``: named torchvision weights missing from the cache
    are downloaded), then re-run the current image through it."""

    name: str = "efficientnet-lite0"
    weights: str | None = None
    download: bool = False


@dataclass(frozen=True)
class LoadImage(Request):
    """Open the image file at ``path`` and run it through the current model (the probe is cached)."""

    path: str = ""


@dataclass(frozen=True)
class LoadFrame(LoadImage):
    """A still video frame as the input, like an image (every layer's activations kept): ``pixels`` RGB uint8
    (H, W, 3) of frame ``index`` at ``time_s`` of ``path`` (the video file, or the camera's name)."""

    index: int = 0
    time_s: float = 0.0
    pixels: np.ndarray = field(default=None, compare=False, repr=False)

    @property
    def key(self):
        """Return LoadImage's key: the newest of a waiting image and a waiting frame wins."""
        return "LoadImage"


@dataclass(frozen=True)
class AnalyseFrame(Request):
    """A playing video frame in one pass (not kept as the input): its probabilities, ``layer``'s maps,
    ``channel``'s strongest activation projected by ``mode``, and with ``square`` (top, left, size) the
    occluded probabilities and the channel's map total. ``pixels`` as in :class:`LoadFrame`. ``panes`` False:
    the maps and the projection are left out (the probabilities and the square only: playback's every other
    frame, :mod:`.playback`)."""

    path: str = ""
    index: int = 0
    time_s: float = 0.0
    pixels: np.ndarray = field(default=None, compare=False, repr=False)
    layer: str | None = None
    channel: int | None = None
    mode: str = "deconvnet"
    square: tuple[int, int, int] | None = None
    panes: bool = True


@dataclass(frozen=True)
class LayerMaps(Request):
    """The feature maps of ``layer`` for the current image, and its filters if it is the first convolution."""

    layer: str = ""


@dataclass(frozen=True)
class Project(Request):
    """A deconvnet projection of ``layer``/``channel`` (see :func:`deconvviz.engine.deconv.project`)."""

    layer: str = ""
    channel: int = 0
    position: tuple[int, int] | None = None
    mode: str = "deconvnet"
    whole_map: bool = False
    top_k: int | None = None


@dataclass(frozen=True)
class Occlude(Request):
    """Class probabilities (and ``layer``/``channel``'s total activation) with a grey square at (top, left).

    ``approximate``: the square is moving: answer at the most accurate level whose cost fits ``budget_ms``
    (:mod:`deconvviz.session.budget`; the window asks for the exact answer when it stops). Approximate and
    exact requests share one key: the newer replaces the other.
    """

    top: int = 0
    left: int = 0
    size: int = 8
    layer: str | None = None
    channel: int | None = None
    approximate: bool = False
    budget_ms: float = DEFAULT_BUDGET_MS


@dataclass(frozen=True)
class OcclusionMap(Request):
    """The full occlusion sensitivity map: p(``target``) for the square at every ``stride``-th position
    (``approximate``: the approximate map ``deconvviz occlusion --approximate`` computes)."""

    long = True
    patch: int = 8
    stride: int = 2
    target: int = 0
    approximate: bool = False


@dataclass(frozen=True)
class Export(Request):
    """Write pane ``pane`` ("grid", "deconv" or "occlusion") as a PNG at ``path``.

    ``spec`` is the request the pane shows (LayerMaps, Project, or Occlude/OcclusionMap); ``options`` holds
    pane details as (key, value) pairs (grid: sort order, filters; occlusion: the map request).
    """

    pane: str = ""
    path: str = ""
    spec: Request | None = None
    options: tuple = ()

    @property
    def key(self):
        """Return a key of its own: exports are never coalesced."""
        return ("Export", self.generation)


@dataclass(frozen=True)
class Analysis(Request):
    """An analysis view's job: ``fn(model, progress, cancel)`` on the runner's own copy of model
    ``model_args`` = (name, weights) on the runner's device (None: no model), answered by :class:`Done`.

    ``name`` coalesces within the view (``owner``); a ``long`` job shows progress and can be cancelled.
    """

    owner: str = "analysis"
    name: str = ""
    fn: Callable = field(default=None, compare=False, repr=False)
    model_args: tuple | None = None
    long: bool = False

    @property
    def key(self):
        """Return (owner, name): a view's waiting job is replaced by its newer job of the same name."""
        return (self.owner, self.name)


@dataclass(frozen=True)
class Result:
    """Base of all results: the request answered."""

    request: Request


@dataclass(frozen=True)
class Partial(Result):
    """Part of a long analysis job's answer while it runs: ``value``, what its function passed as
    ``progress(done, total, value)``; its Done (or Cancelled) still comes at the end."""

    value: Any = None


@dataclass(frozen=True)
class ModelLoaded(Result):
    """A model is ready: its name, weights source, device text, layer rows and class names, and whether its
    weights are random (the title and status bar say so)."""

    name: str
    weights: str
    device: str
    layers: tuple
    class_names: tuple
    input_size: tuple[int, int]
    first_conv: str | None
    random_weights: bool = False


@dataclass(frozen=True)
class ImageLoaded(Result):
    """An image ran through the model: its model-input pixels (H, W, 3) uint8, class probabilities,
    the file's own size (width, height) and the occluder's RGB fill (the model's mean pixel)."""

    path: str
    pixels: np.ndarray
    probs: np.ndarray
    original_size: tuple[int, int]
    fill: tuple[int, int, int]
    frame: Any = None  # a FrameInput when the input is a video frame
    source: np.ndarray | None = None  # the frame's own pixels (H, W, 3) uint8


@dataclass(frozen=True)
class MapsReady(Result):
    """Feature maps (C, h, w) float32 of a layer, each map's maximum (C,), shared levels and filters.

    ``filters`` is (C, k, k, 3) uint8 for the first convolution (each filter scaled on its own), else None.
    """

    maps: np.ndarray
    maxima: np.ndarray
    levels: tuple[float, float]
    filters: np.ndarray | None


@dataclass(frozen=True)
class ProjectionReady(Result):
    """A projection for display: the feature map (h, w), the full projection (H, W, 3), its receptive-field
    crops and the image patches under them (tiled for top-k), with the positions and values projected."""

    feature_map: np.ndarray | None
    full: np.ndarray
    crops: np.ndarray
    patches: np.ndarray
    positions: tuple
    values: tuple


@dataclass(frozen=True)
class FrameAnalysed(Result):
    """An AnalyseFrame's answer: the frame's model-input pixels (H, W, 3) uint8 and probabilities, and the
    answers the panes show (each with a request of the answer's generation): ``maps`` (a MapsReady, or None
    without a layer), ``projection`` (a ProjectionReady, or None without a channel), ``occluded`` (an
    Occluded, or None without a square); ``seconds``: the worker's compute time for it. ``probs`` is None
    with the square in place and a layer chosen (the class table shows the square's probabilities)."""

    pixels: np.ndarray
    probs: "np.ndarray | None"
    maps: "MapsReady | None"
    projection: "ProjectionReady | None"
    occluded: "Occluded | None"
    seconds: float = 0.0


@dataclass(frozen=True)
class Occluded(Result):
    """Class probabilities (num_classes,) with the square in place and the chosen map's total (or None);
    ``approximate``: whether they are approximate (an approximate request on a model incremental inference
    does not support, or whose exact answer fits the budget, is answered exactly); ``level``: the level that
    answered in words ("exact", "field 0.3")."""

    probs: np.ndarray
    map_total: float | None
    approximate: bool = False
    level: str = "exact"


@dataclass(frozen=True)
class MapReady(Result):
    """The occlusion sensitivity map: p(target) (ny, nx) for the square's top-left at (i*stride, j*stride).

    ``approximation``: the approximate map's parameters in words (None: exact), ``computed``: the fraction of
    positions evaluated (the rest interpolated)."""

    prob: np.ndarray
    approximation: str | None = None
    computed: float = 1.0


@dataclass(frozen=True)
class Exported(Result):
    """A pane was written to ``path``."""

    path: str


@dataclass(frozen=True)
class Done(Result):
    """An Analysis job's return value."""

    value: Any


@dataclass(frozen=True)
class Failed(Result):
    """A request failed; ``message`` is for the user."""

    message: str


@dataclass(frozen=True)
class Cancelled(Result):
    """A long request was cancelled before it finished."""
