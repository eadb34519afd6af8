"""The runner's synchronous core (no Qt): owns the model and the current image, answers requests.

:class:`Compute.handle` turns one request into a list of results and never raises: a DeconvvizError
becomes its message, any other exception from the model becomes "model raised X: ...", and the previous
model and image stay in place. An analysis view's :class:`~.messages.Analysis` job runs on this Compute's
own copy of its model, on the same device. Tests and scripts call it directly; :mod:`.runner` runs it in a
worker thread.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..analyses.frames import FrameAnalyser
from ..data.images import load_image
from ..engine._control import Cancelled as EngineCancelled
from ..engine.deconv import Projection, project
from ..engine.fast_forward import fast_copy
from ..engine.probe import ProbeResult, probe, split_call_name
from ..engine.receptive_field import FieldTable
from ..errors import DeconvvizError
from ..figures.feature_maps import feature_map_levels, filters_rgb, first_conv_layer, layer_maps, layer_panel
from ..figures.occlusion import occlusion_panel as occlusion_figure
from ..figures.overlay import occlusion_panel
from ..figures.png import save_panel, tile
from ..figures.projections import projection_panel, projection_tiles
from ..figures.render import projection_rgb
from ..models import LoadedModel, load_model
from .recipes import MapsRecipe, OcclusionRecipe, ProjectRecipe
from . import messages as m
from .occlusion_adapter import Cancelled, Occluder, occlusion_map
from .featvis_export import featvis_export_panel
from .pictures import frame_panel
from .state import FrameInput


def default_device() -> str:
    """Return "cuda" when a CUDA device is available, else "cpu"."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def app_threads() -> int:
    """Return the torch intra-op threads for the app: all cores but one, which the UI thread keeps.

    Measured on 2 busy cores: efficientnet-lite0's forward pass takes ~40 ms with 1 thread and ~900 ms
    with 2, whose OpenMP workers then wait on cores the UI and other processes hold. ``OMP_NUM_THREADS``,
    when set, wins.
    """
    import os

    if os.environ.get("OMP_NUM_THREADS", "").isdigit():
        return max(1, int(os.environ["OMP_NUM_THREADS"]))
    return max(1, (os.cpu_count() or 1) - 1)


def device_text(device: str) -> str:
    """Return the device for the status bar: "CPU" or "CUDA: <name>"."""
    if device.startswith("cuda"):
        return f"CUDA: {torch.cuda.get_device_name(torch.device(device))}"
    return "CPU"


def _frame_image(pixels, name: str):
    """Return a frame's RGB uint8 (H, W, 3) pixels as a PIL image (DeconvvizError naming ``name`` otherwise)."""
    from PIL import Image

    a = np.asarray(pixels) if pixels is not None else np.zeros((0,))
    if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 3 or 0 in a.shape:
        raise DeconvvizError(f"{Path(name).name}: a frame must be RGB uint8 (H, W, 3), got {a.dtype} {a.shape}")
    return Image.fromarray(np.ascontiguousarray(a), "RGB")


def _columns(n: int) -> int:
    """Return the columns of a near-square grid of n tiles (3 for top-9)."""
    import math

    return max(1, math.ceil(math.sqrt(n)))


class _Stages:
    """CPU time (this thread's) per named stage: ``done(name)`` closes the stage begun at the previous one."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._mark = time.thread_time()

    def done(self, name: str) -> None:
        """Record the CPU time since the previous stage ended under ``name``."""
        now = time.thread_time()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - self._mark
        self._mark = now

    def split(self, name: str, part: str, seconds: float) -> None:
        """Move ``seconds`` of stage ``name`` to a stage ``part`` of its own."""
        self.seconds[name] -= seconds
        self.seconds[part] = self.seconds.get(part, 0.0) + seconds


class Compute:
    """The model, the current image (PIL and preprocessed), its cached probe, and the request handlers."""

    def __init__(self, device: str | None = None) -> None:
        self.device = device or default_device()
        self.model: LoadedModel | None = None
        self.model_args: tuple[str, str | None] = ("", None)
        self.image = None
        self.image_path = ""
        self.frame: FrameInput | None = None  # when the input is a video frame: which one
        self.x: torch.Tensor | None = None
        self.probe: ProbeResult | None = None
        self.occluder: Occluder | None = None
        self.last_map: m.MapReady | None = None
        self.last_map_result = None  # the engine's OcclusionResult behind last_map
        self._analysis_models: dict[tuple, LoadedModel] = {}
        self._frames: FrameAnalyser | None = None  # the playing frames' one-pass analyser (model, layer, ...)
        self._frames_key: tuple = ()  # what it was made for
        self._fast: tuple = (None, None)  # (model, its network for plain forward passes: engine/fast_forward.py)
        self._fields: dict = {}  # "model" -> the model, (layer, input shape) -> its receptive fields' FieldTable
        self._first: tuple = (None, None, None)  # (model, layer records, the first convolution's name)
        self.frame_stages: dict[str, float] = {}  # the last playing frame's CPU seconds per stage (bench/video.py)

    # -- dispatch -------------------------------------------------------------------------------------
    def handle(self, request: m.Request, progress: Callable[[int, int], None] | None = None,
               cancel: Callable[[], bool] | None = None) -> list[m.Result]:
        """Return the results answering ``request`` (a Failed or Cancelled result instead of raising)."""
        try:
            handler = HANDLERS.get(type(request))
            if handler is None:
                raise DeconvvizError(f"no handler for request {type(request).__name__}")
            if not isinstance(request, (m.LoadModel, m.LoadImage, m.Analysis)):
                self._need_image()
            if request.long or isinstance(request, m.Analysis):
                return handler(self, request, progress, cancel)
            return handler(self, request)
        except DeconvvizError as exc:
            return [m.Failed(request, str(exc))]
        except (Cancelled, EngineCancelled):
            return [m.Cancelled(request)]
        except MemoryError:
            return [m.Failed(request, "out of memory: try a smaller image or model")]
        except Exception as exc:  # the user's model may raise anything; the app must survive it
            return [m.Failed(request, f"model raised {type(exc).__name__}: {exc}")]

    def _need_image(self) -> None:
        if self.model is None or self.probe is None:
            raise DeconvvizError("no model and image loaded yet")

    # -- loading --------------------------------------------------------------------------------------
    def _LoadModel(self, req: m.LoadModel) -> list[m.Result]:
        model = load_model(req.name, req.weights, self.device, download=req.download)
        results: list[m.Result] = []
        x, pr = self.x, self.probe
        if self.image is not None:
            x, pr = self._run(model, self.image)  # raises before anything is replaced
            model._layers = pr.records
        # one statement: a request interrupted in the worker (see backend.Interrupted) never leaves half a swap
        self.model, self.model_args, self.x, self.probe, self.occluder, self.last_map = \
            model, (req.name, req.weights), x, pr, None, None
        layers = tuple(model.layers())
        results.append(m.ModelLoaded(req, model.name, model.weights, device_text(self.device), layers,
                                     tuple(model.class_name(i) for i in range(self._num_classes())),
                                     tuple(model.preprocessing.size), self._first_conv(layers),
                                     model.random_weights))
        if self.image is not None:
            results.append(self._image_result(req))
        return results

    def _LoadImage(self, req: m.LoadImage) -> list[m.Result]:
        image = load_image(req.path)
        if self.model is None:
            self.image, self.image_path = image, req.path
            return []
        x, pr = self._run(self.model, image)
        self.image, self.image_path, self.frame, self.x, self.probe, self.occluder, self.last_map = \
            image, req.path, None, x, pr, None, None
        return [self._image_result(req)]

    def _LoadFrame(self, req: m.LoadFrame) -> list[m.Result]:
        image = _frame_image(req.pixels, req.path)
        frame = FrameInput(req.path, req.index, req.time_s)
        if self.model is None:
            self.image, self.image_path, self.frame = image, req.path, frame
            return []
        x, pr = self._run(self.model, image)
        self.image, self.image_path, self.frame, self.x, self.probe, self.occluder, self.last_map = \
            image, req.path, frame, x, pr, None, None
        return [self._image_result(req)]

    def field(self, layer: str, shape: tuple, position: tuple[int, int]):
        """Return the receptive field of ``layer`` at ``position`` for inputs of ``shape``, from a FieldTable kept
        per model and layer: it depends on the network's geometry only, and tracing one position costs a pass
        of its own (136 ms of a 270 ms frame on efficientnet-lite0, measured), while a playing video's
        strongest activation moves with the picture."""
        key = (layer, shape)
        if self._fields.get("model") is not self.model or len(self._fields) > 64:
            self._fields = {"model": self.model}  # a new model (or many layers): start again
        if key not in self._fields:
            self._fields[key] = FieldTable(self.model.net, shape, layer)
        return self._fields[key].box(position)

    def _AnalyseFrame(self, req: m.AnalyseFrame) -> list[m.Result]:
        """One playing frame: one forward (and the projection's backward), plus a plain forward with the
        square pasted in; without ``panes`` no maps or projection. With the square in place the class table
        shows the square's probabilities, so the frame's own are left out (None): its forward stops at the
        layer, or, without panes, does not run. The kept input (image or paused frame) and its probe stay as
        they are. Each stage's CPU time goes to :attr:`frame_stages`."""
        start = time.perf_counter()
        stages = _Stages()
        image = _frame_image(req.pixels, req.path)
        g = req.generation
        maps = projection = occluded = None
        if req.panes:
            x = self.model.preprocess(image)
            stages.done("frame")
            a = self._frame_analyser(req, tuple(x.shape))
            result = a(x)
            stages.done("forward to the layer")
            if result.projection is not None:
                stages.split("forward to the layer", "projection pass", a.backward_s)
            probs = result.probs
        else:  # a frame without panes: a plain forward, none at all when the square's answer is what is shown
            x = self.model.preprocess(image)
            stages.done("frame")
            probs = None
            if req.square is None:
                probs = self._plain_probs(x)
                stages.done("class table")
        if req.panes and result.maps is not None:
            maps = self._maps_result(m.LayerMaps(g, req.layer), result.maps)
            stages.done("grid")
        if req.panes and result.projection is not None:
            proj = Projection(torch.from_numpy(result.projection)[None], [result.position], [result.value],
                              req.layer, req.channel, req.mode)
            fmap, boxes = None, [None]
            if result.position is not None:
                fmap, boxes = result.maps[req.channel], [self.field(req.layer, tuple(x.shape), result.position)]
            projection = self._projection_result(m.Project(g, req.layer, req.channel, None, req.mode), x,
                                                 proj, fmap, boxes)
            stages.done("projection")
        if req.square is not None:
            top, left, size = req.square
            # a plain forward with the square in place (an incremental session per frame would cost more)
            channel = req.channel if req.layer is not None else None
            fill = self.model.preprocessing.mean_pixel()
            read = req.layer if channel is not None else None
            square_probs, total = self._plain(lambda net: Occluder(net, x, fill).forward(
                top, left, size, read, channel), read)
            occluded = m.Occluded(m.Occlude(g, top, left, size, req.layer, channel), m.frozen_array(square_probs),
                                  total)
            stages.done("square")
        pixels = m.frozen_array(self.model.preprocessing.to_pixels(x))
        stages.done("pixels")
        self.frame_stages = stages.seconds
        return [m.FrameAnalysed(req, pixels, None if probs is None else m.frozen_array(probs), maps, projection,
                                occluded, time.perf_counter() - start)]

    def _frame_analyser(self, req: m.AnalyseFrame, shape: tuple) -> FrameAnalyser:
        """Return the playing frames' analyser for ``req``'s layer, channel and mode and inputs of ``shape``,
        kept while they stay: its plain pass on the channels-last copy, its projection on a crop around the
        receptive field (from this Compute's table). With the square in place the class table shows the
        square's probabilities, so the analyser computes none."""
        a, probs = self._frames, req.square is None or req.layer is None
        key = (self.model, req.layer, req.channel, req.mode, probs, shape)
        if a is None or self._frames_key != key:
            fields = None if req.layer is None else lambda position: self.field(req.layer, shape, position)
            a = self._frames = FrameAnalyser(self.model, req.layer, req.channel, req.mode, probs,
                                             net=self._fast_net(req.layer), fields=fields)
            self._frames_key = key
        return a

    def _fast_net(self, layer: str | None = None) -> torch.nn.Module:
        """Return the loaded model's network for plain forward passes that read ``layer`` (a channels-last copy
        on the CPU, its batch norms folded where that checks out on the current input; the model as loaded
        for a layer that is a folded convolution, whose own output the copy no longer has)."""
        if self._fast[0] is not self.model:
            self._fast = (self.model, fast_copy(self.model.net, self.device, self.x))
        net = self._fast[1]
        if layer is not None and split_call_name(layer)[0] in getattr(net, "folded", ()):
            return self.model.net
        return net

    def _plain(self, forward: Callable[[torch.nn.Module], object], layer: str | None = None):
        """Return ``forward(net)`` on the loaded model's network for plain forward passes reading ``layer``
        (:meth:`_fast_net`); where the copy raises, the model as loaded answers, from then on."""
        net = self._fast_net(layer)
        try:
            return forward(net)
        except DeconvvizError:
            raise
        except Exception:
            if net is self.model.net:
                raise
            self._fast = (self.model, self.model.net)  # a model whose code needs its own memory order
            return forward(self.model.net)

    def _plain_probs(self, x: torch.Tensor) -> np.ndarray:
        """Return the class probabilities of ``x`` from one plain forward pass."""
        with torch.inference_mode():
            out = self._plain(lambda net: net(x))
        if not isinstance(out, torch.Tensor) or out.dim() != 2 or out.shape[0] != 1:
            shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise DeconvvizError(f"{self.model.name} returned {shape}; deconvviz needs class scores of shape (1, classes)")
        return torch.softmax(out.float(), 1)[0].cpu().numpy()

    def _run(self, model: LoadedModel, image) -> tuple[torch.Tensor, ProbeResult]:
        x = model.preprocess(image)
        pr = probe(model.net, x)
        out = pr.output
        if not isinstance(out, torch.Tensor) or out.dim() != 2 or out.shape[0] != 1:
            shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise DeconvvizError(f"{model.name} returned {shape}; deconvviz needs class scores of shape (1, classes)")
        return x, pr

    def _num_classes(self) -> int:
        if self.probe is not None:
            return int(self.probe.output.shape[1])
        return len(self.model.class_names)

    def _image_result(self, req: m.Request) -> m.ImageLoaded:
        probs = torch.softmax(self.probe.output.float(), 1)[0].cpu().numpy()
        source = m.frozen_array(np.asarray(self.image)) if self.frame is not None else None
        return m.ImageLoaded(req, self.image_path, m.frozen_array(self.model.preprocessing.to_pixels(self.x)),
                             m.frozen_array(probs), tuple(self.image.size), self._fill(), self.frame, source)

    def _fill(self) -> tuple[int, int, int]:
        prep = self.model.preprocessing
        return tuple(int(v) for v in prep.to_pixels(prep.mean_pixel())[0, 0])

    def _first_conv(self, layers) -> str | None:
        """Return the model's first convolution reading the image (None: none), kept per model and records: a
        walk over the modules that every playing frame's grid would otherwise repeat."""
        model, records, name = self._first
        if model is not self.model or records is not layers:
            name = first_conv_layer(self.model.net, layers)
            self._first = (self.model, layers, name)
        return name

    # -- views ----------------------------------------------------------------------------------------
    def maps(self, layer: str) -> np.ndarray:
        """Return ``layer``'s output for the current image as maps (C, h, w) float32 (a vector as (C, 1, 1))."""
        if layer not in self.probe.activations:
            raise DeconvvizError(f"unknown layer {layer!r} for {self.model.name}")
        try:
            return layer_maps(self.probe.activations[layer], self.probe.record(layer).layout)
        except DeconvvizError as exc:
            raise DeconvvizError(f"layer {layer!r}: {exc}") from None

    def _LayerMaps(self, req: m.LayerMaps) -> list[m.Result]:
        return [self._maps_result(req, self.maps(req.layer))]

    def _maps_result(self, req: m.LayerMaps, maps: np.ndarray) -> m.MapsReady:
        filters = None
        if req.layer == self._first_conv(self.probe.records):
            module = dict(self.model.net.named_modules())[split_call_name(req.layer)[0]]
            filters = m.frozen_array(filters_rgb(module.weight.detach().cpu()))
        return m.MapsReady(req, m.frozen_array(maps), m.frozen_array(maps.reshape(len(maps), -1).max(1)),
                           feature_map_levels(maps), filters)

    def _projection(self, req: m.Project):
        return project(self.model.net, self.x, req.layer, req.channel, req.position, req.mode,
                       req.whole_map, req.top_k)

    def _Project(self, req: m.Project) -> list[m.Result]:
        proj = self._projection(req)  # first: it checks the layer and channel
        act = self.probe.activations.get(req.layer)
        fmap = None
        layout = self.probe.record(req.layer).layout if act is not None else None
        if layout is not None and layout.spatial:  # maps, channels-last or tokens (engine/layout.py)
            fmap = layout.maps(act)[0, req.channel]
        return [self._projection_result(req, self.x, proj, fmap)]

    def _projection_result(self, req: m.Project, x: torch.Tensor, proj, fmap, boxes=None) -> m.ProjectionReady:
        """Return a projection for the pane: ``fmap`` (h, w) (a tensor or an array) is the projected channel's map
        (None: no map); ``boxes`` the receptive fields, when known."""
        crops, patches = projection_tiles(self.model, x, proj, boxes)
        if isinstance(fmap, torch.Tensor):
            fmap = fmap.float().cpu().numpy()
        fmap = None if fmap is None else m.frozen_array(np.asarray(fmap, np.float32))
        return m.ProjectionReady(req, fmap, m.frozen_array(projection_rgb(proj.images[0])),
                                 m.frozen_array(tile(crops, _columns(len(crops)), 4)),
                                 m.frozen_array(tile(patches, _columns(len(patches)), 4)),
                                 tuple(proj.positions), tuple(proj.values))

    def _Occlude(self, req: m.Occlude) -> list[m.Result]:
        if self.occluder is None:
            spatial = {r.name for r in self.probe.records if r.spatial}
            self.occluder = Occluder(self.model.net, self.x, self.model.preprocessing.mean_pixel(), spatial)
        probs, total = self.occluder.occlude(req.top, req.left, req.size, req.layer, req.channel, req.approximate,
                                             req.budget_ms)
        level = self.occluder.last_level
        return [m.Occluded(req, m.frozen_array(probs), total, not level.exact, level.describe())]

    def _OcclusionMap(self, req: m.OcclusionMap, progress=None, cancel=None) -> list[m.Result]:
        size = self.model.preprocessing.size
        if not 1 <= req.patch <= min(size) or req.stride < 1:
            raise DeconvvizError(f"occluder size must be 1..{min(size)} and stride at least 1")
        result = occlusion_map(self.model, self.x, req.patch, req.stride, req.target, progress, cancel,
                               approximate=req.approximate)
        approx = result.approximation
        self.last_map = m.MapReady(req, m.frozen_array(result.prob), None if approx is None else approx.describe(),
                                   1.0 if result.computed is None else float(result.computed.mean()))
        self.last_map_result = result
        return [self.last_map]

    # -- analysis views -------------------------------------------------------------------------------
    def analysis_model(self, name: str, weights: str | None) -> LoadedModel:
        """Return the analyses' own LoadedModel for (name, weights) on this device, loaded on first use (one is
        kept: the views' current). Not the live model: its probe and occlusion sessions stay untouched."""
        key = (name, weights)
        if key not in self._analysis_models:
            self._analysis_models = {key: load_model(name, weights, self.device)}
        return self._analysis_models[key]

    def _Analysis(self, req: m.Analysis, progress=None, cancel=None) -> list[m.Result]:
        model = self.analysis_model(*req.model_args) if req.model_args is not None else None
        value = req.fn(model, progress, cancel)
        if cancel is not None and cancel():  # stopped early with a partial result: still a cancel
            return [m.Cancelled(req)]
        return [m.Done(req, value)]

    # -- export ---------------------------------------------------------------------------------------
    def _model_options(self) -> dict:
        """Return the model options of a regenerating command (a recipe's model, weights, device)."""
        name, weights = self.model_args
        return {"model": name, "weights": str(weights) if weights else None, "device": self.device}

    def _input_options(self) -> dict:
        """Return the input options of a regenerating command: the image file, or the video and its frame."""
        return {"image": self.image_path, "frame": self.frame.index if self.frame is not None else None}

    def _facts(self, **more) -> dict[str, str]:
        return {"model": self.model.name, "weights": self.model.weights, "image": self.image_path,
                **{k: str(v) for k, v in more.items()}}

    def _Export(self, req: m.Export) -> list[m.Result]:
        out = str(req.path)
        options = dict(req.options)
        spec = req.spec
        image_name = Path(self.image_path).name
        if req.pane == "grid" and options.get("featvis") is not None:  # the pictures the grid shows
            save_panel(featvis_export_panel(self.model, options["featvis"], self._model_options(), out), out)
            return [m.Exported(req, out)]
        if req.pane == "grid":
            sort, filters = options.get("sort", "index"), bool(options.get("filters", False))
            recipe = MapsRecipe(**self._model_options(), **self._input_options(), layer=spec.layer, sort=sort,
                                filters=filters, out=out)
            panel = self.grid_panel(spec.layer, sort, filters, recipe.shell())
        elif req.pane == "deconv":
            position = None if spec.position is None else tuple(spec.position)
            whole_map = position is None and spec.whole_map
            recipe = ProjectRecipe(**self._model_options(), **self._input_options(), layer=spec.layer,
                                   channel=spec.channel, position=position, map=whole_map,
                                   top_k=None if position is not None or whole_map else spec.top_k or None,
                                   mode=spec.mode, out=out)
            panel = projection_panel(self.model, self.x, self._projection(spec), self.image_path, recipe.shell())
        elif req.pane == "occlusion":
            panel = self._occlusion_export(spec, options, out, image_name)
        else:
            raise DeconvvizError(f"unknown pane {req.pane!r}; valid: grid, deconv, occlusion")
        save_panel(frame_panel(panel, self.frame, command=self.frame is None or self.frame.rereadable()), out)
        return [m.Exported(req, out)]

    def grid_panel(self, layer: str, sort: str, filters: bool, command: str):
        """Return the channel grid's Panel (feature maps, or the first layer's filters) with its facts."""
        return layer_panel(self.model, self.maps(layer), self.probe.records, layer, self.image_path, sort, filters,
                           command)

    def _occlusion_export(self, spec: m.Occlude | None, options: dict, out: str, image_name: str):
        """Return the occlusion pane's Panel: with a computed map, the Fig. 7 panel ``deconvviz occlusion``
        writes (same code, same command); without one, the image with the square and its top class."""
        shown = self.last_map if options.get("map", True) else None
        if shown is not None:
            r, result = shown.request, self.last_map_result
            recipe = OcclusionRecipe(**self._model_options(), **self._input_options(), patch=r.patch, stride=r.stride,
                                     target=str(r.target), approximate=r.approximate, out=out)
            projection = project(self.model.net, self.x, result.layer, result.channel)
            return occlusion_figure(self.model, self.x, result, projection, self.image_path, recipe.shell())
        pixels = self.model.preprocessing.to_pixels(self.x)
        fill = np.array(self._fill())
        square = (spec.top, spec.left, spec.size) if spec is not None else None
        facts = self._facts(occluder="none" if square is None else f"top={square[0]} left={square[1]} size={square[2]}")
        caption = f"{self.model.name} · occlusion · {image_name}"
        if square is not None:
            probs, _ = Occluder(self.model.net, self.x, self.model.preprocessing.mean_pixel(), set()).occlude(*square)
            best = int(np.argmax(probs))
            facts["top class with square"] = f"{best} ({self.model.class_name(best)}) p={probs[best]:.4f}"
            caption += f" · square {square[2]} px at ({square[0]}, {square[1]}) · {self.model.class_name(best)} {probs[best]:.3f}"
            recipe = OcclusionRecipe(**self._model_options(), **self._input_options(), patch=square[2],
                                     out=out)
            facts["command"] = recipe.shell()  # the full map for this square size
        return occlusion_panel(pixels, square, fill, None, 0, 1, caption, facts)


# request type -> the Compute method that answers it (tests/session/test_controller.py: one for every request)
HANDLERS: dict[type, Callable[..., list[m.Result]]] = {
    m.LoadModel: Compute._LoadModel,
    m.LoadImage: Compute._LoadImage,
    m.LoadFrame: Compute._LoadFrame,
    m.AnalyseFrame: Compute._AnalyseFrame,
    m.LayerMaps: Compute._LayerMaps,
    m.Project: Compute._Project,
    m.Occlude: Compute._Occlude,
    m.OcclusionMap: Compute._OcclusionMap,
    m.Export: Compute._Export,
    m.Analysis: Compute._Analysis,
}
