"""Per-frame analysis of a picture stream: class probabilities, a layer's maps, a channel's projection.

What the live panes need for one frame comes from one forward pass: a hook keeps the layer's output (the
maps, and the start of the projection), the network runs on to the class scores, and the projection is the
backward pass through the same graph, by the deconvnet's rules. Where no projection is wanted, the pass
runs under ``torch.inference_mode``. Each result equals the separate computations (``probe`` for the
probabilities and maps, :func:`deconvviz.engine.deconv.project` for the projection); tests check it.

Playback's analyser is given two more things (``net`` and ``fields``), and is cheaper for them:

- ``net``: a network for the plain pass (a channels-last copy, :mod:`deconvviz.engine.fast_forward`): the
  probabilities and maps then come from it, under ``torch.inference_mode``, with no graph;
- ``fields``: the layer's receptive fields (``fields(position)`` returns its Box). The projection of one
  position depends on the pixels of its receptive field only, and so does every value on its way, so it is
  the projection of the same position computed on a crop of the input holding that field (its edges on
  the layer's stride grid, so every window falls where it falls on the whole input), pasted back into
  zeros; the crop's pass runs on ``net``. On EfficientNet-Lite0's ``_blocks.4`` (fields of 41-80 px of 224)
  it covers 4-13 % of the pixels, and the frame's pass to the layer needs no graph. The first frame checks
  the crop against the whole pass on the model as loaded (where they differ, or the crop does not run, e.g.
  a network that needs its input size, the whole pass answers from then on).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from PIL import Image

from ..engine.deconv import top_positions
from ..engine.receptive_field import Box
from ..engine.layers import resolve_layer
from ..engine.layout import Layout, layout_for, maps_array, no_maps_error
from ..engine.probe import first_tensor
from ..engine.rules import MODES, backward_rules
from ..errors import DeconvvizError
from ..models import LoadedModel


@dataclass(frozen=True)
class FrameAnalysis:
    """One frame's results.

    ``x`` is the model's input (1, C, H, W); ``probs`` the class probabilities (classes,) float32 (None when
    the analyser was asked for none: the pass then stops at the layer);
    ``maps`` the layer's output read as maps (C, h, w) float32 by :mod:`deconvviz.models.layout` (tokens and
    channels-last as the stills read them; a vector as (C, 1, 1)), or None without a layer;
    ``projection`` the channel's strongest activation projected to the input space (C, H, W) float32, or
    None without a channel, with its ``position`` (row, col) (None for a vector layer) and ``value``.
    """

    x: torch.Tensor
    probs: np.ndarray | None
    maps: np.ndarray | None = None
    projection: np.ndarray | None = None
    position: tuple[int, int] | None = None
    value: float | None = None

    @property
    def top(self) -> int:
        """Return the index of the most probable class (None without probabilities)."""
        return None if self.probs is None else int(np.argmax(self.probs))


class FrameAnalyser:
    """Callable on a PIL image (or a preprocessed input): returns its :class:`FrameAnalysis`.

    ``probs`` False (with a layer): no class probabilities, the forward pass stops at the layer (playback
    with the square in place shows the square's probabilities, computed apart). ``net`` and ``fields``: the
    plain pass's network and the layer's receptive fields (module docstring); :attr:`cropped` says whether
    the projection is computed on a crop (None before the first frame with a projection).

    Raises DeconvvizError for an unknown layer or mode, a channel given without a layer, a channel out of
    range (on the first frame, when the layer's width is known), or a layer whose output is no feature map.
    """

    def __init__(self, model: LoadedModel, layer: str | None = None, channel: int | None = None,
                 mode: str = "deconvnet", probs: bool = True, net: torch.nn.Module | None = None,
                 fields: Callable[[tuple[int, int]], Box] | None = None) -> None:
        if channel is not None and layer is None:
            raise DeconvvizError("a channel needs a layer (--layer)")
        if mode not in MODES:
            raise DeconvvizError(f"unknown mode {mode!r}; valid: {', '.join(MODES)}")
        if layer is not None:
            resolve_layer(model.net, layer)
        self.model, self.layer, self.channel, self.mode = model, layer, channel, mode
        self.probs = probs or layer is None
        self.net, self.fields = (net if net is not None else model.net), fields
        self.cropped: bool | None = None if fields is not None else False
        self.backward_s = 0.0  # the CPU time of the last frame's projection pass (backward; on a crop, its forward too)

    def __call__(self, image: Image.Image | torch.Tensor) -> FrameAnalysis:
        """Return the analysis of one frame (a PIL image goes through the model's preprocessing)."""
        x = image if isinstance(image, torch.Tensor) else self.model.preprocess(image)
        if self.layer is None:
            return FrameAnalysis(x, _probs(self._plain(lambda net: net(x))))
        if self.channel is None or self.cropped is not False:
            logits, act, layout = self._plain(lambda net: _forward_keeping(net, x, self.layer, not self.probs))
            if self.channel is not None:
                return self._cropped(x, logits, act, layout)
            return FrameAnalysis(x, _probs(logits), _maps(act, layout, self.layer))
        return self._with_projection(x)

    def _plain(self, forward: Callable[[torch.nn.Module], object]):
        """Return ``forward(net)`` under inference mode on the plain pass's network; where that copy raises,
        on the model as loaded, from then on."""
        with torch.inference_mode():
            try:
                return forward(self.net)
            except DeconvvizError:
                raise
            except Exception:
                if self.net is self.model.net:
                    raise
                self.net = self.model.net  # a model whose code needs its own memory order
                return forward(self.net)

    def _cropped(self, x: torch.Tensor, logits, act: torch.Tensor, layout: Layout) -> FrameAnalysis:
        """Return the analysis with the projection computed on a crop of ``x`` around the strongest position's
        receptive field (``act`` and ``logits`` from the plain pass). The whole pass answers for a position
        whose crop would be most of the input, and from then on where the layer is on no stride grid, the
        crop does not run or, on the first frame, its projection differs from the whole pass's."""
        maps = _maps(act, layout, self.layer)
        if not layout.spatial or not 0 <= self.channel < maps.shape[0]:
            if not layout.spatial:
                self.cropped = False  # a vector layer: nothing to crop
            return self._with_projection(x)  # (a channel out of range: its error)
        (height, width), (rows, cols) = x.shape[-2:], maps.shape[1:]
        if height % rows or width % cols:  # no whole number of strides: no grid to crop on
            self.cropped = False
            return self._with_projection(x)
        (position, value), = top_positions(torch.from_numpy(maps[self.channel]), 1)
        window = _crop_window(self.fields(position), tuple(x.shape), maps.shape[1:])
        if window is None:  # this position's field is most of the input: the whole pass, this frame
            return self._with_projection(x)
        start = time.thread_time()
        try:
            image = self._crop_projection(x, window, position, value)
        except DeconvvizError:
            raise
        except Exception:  # a network that needs its input size
            image = None
        self.backward_s = time.thread_time() - start
        if image is None:  # the whole pass from now on
            self.cropped = False
            return self._with_projection(x)
        if self.cropped is None:  # the first frame: the crop must give what the whole pass gives
            whole = self._with_projection(x)
            scale = max(1e-12, float(np.abs(whole.projection).max()))
            self.cropped = whole.position == position and \
                float(np.abs(whole.projection - image).max()) <= 1e-4 * scale
            if not self.cropped:
                return whole
        return FrameAnalysis(x, _probs(logits), maps, image, position, value)

    def _crop_projection(self, x: torch.Tensor, window: tuple[int, ...], position, value: float) -> np.ndarray | None:
        """Return the projection (C, H, W) of ``position`` with ``value`` computed on the crop ``window``
        (top, left, bottom, right, its first row and column on the layer) of ``x``; None where the crop's
        layer does not hold the position."""
        top, left, bottom, right, row0, col0 = window
        leaf = x[..., top:bottom, left:right].detach().clone().requires_grad_(True)
        with torch.enable_grad(), backward_rules(self.mode):
            _, act, layout = _forward_keeping(self.net, leaf, self.layer, True)
        maps = layout.maps(act) if layout.spatial else None
        row, col = position[0] - row0, position[1] - col0
        if maps is None or not (0 <= row < maps.shape[2] and 0 <= col < maps.shape[3]):
            return None
        seed = torch.zeros_like(maps)
        seed[0, self.channel, row, col] = value
        crop = torch.autograd.grad(act, leaf, layout.unmaps(seed))[0][0].float()
        image = torch.zeros(x.shape[1:], dtype=torch.float32)
        image[:, top:bottom, left:right] = crop
        return image.numpy()

    def _with_projection(self, x: torch.Tensor) -> FrameAnalysis:
        leaf = x.detach().clone().requires_grad_(True)
        with torch.enable_grad(), backward_rules(self.mode):
            logits, act, layout = _forward_keeping(self.model.net, leaf, self.layer, not self.probs)
        if not layout.spatial and act.dim() != 2:
            raise no_maps_error(self.layer, tuple(act.shape[1:]), "a projection")
        # the seed is made on the maps (tokens and channels-last read as maps) and put back in the layer's layout
        maps = layout.maps(act) if layout.spatial else act
        channels = maps.shape[1]
        if not 0 <= self.channel < channels:
            raise DeconvvizError(f"channel {self.channel} out of range for layer {self.layer!r}: "
                                 f"valid 0..{channels - 1}")
        fmap = maps[0, self.channel].detach()
        seed = torch.zeros_like(maps)
        if fmap.dim() == 0:  # a fully connected unit: its value is the seed
            seed[0, self.channel] = fmap
            position, value = None, float(fmap)
        else:
            (position, value), = top_positions(fmap, 1)
            seed[0, self.channel, position[0], position[1]] = value
        if layout.spatial:
            seed = layout.unmaps(seed)
        start = time.thread_time()
        image = torch.autograd.grad(act, leaf, seed)[0][0]
        self.backward_s = time.thread_time() - start
        return FrameAnalysis(x, _probs(logits), _maps(act.detach(), layout, self.layer),
                             image.float().cpu().numpy(), position, value)


def _crop_window(box: Box, input_shape: tuple[int, ...], map_shape: tuple[int, int]) -> tuple[int, ...] | None:
    """Return the crop (top, left, bottom, right, its first row and column on the layer) of an input of
    ``input_shape`` that holds ``box`` with its edges on the layer's stride grid, counted from either side of
    the input (an input size that is a whole number of strides, so that every layer's padding falls as on
    the whole input); None where the input is no whole number of strides or the crop is most of it."""
    height, width = input_shape[-2:]
    rows, cols = map_shape
    if rows <= 0 or cols <= 0 or height % rows or width % cols:
        return None
    sr, sc = height // rows, width // cols
    top, left = box.top // sr * sr, box.left // sc * sc
    bottom, right = height - (height - box.bottom) // sr * sr, width - (width - box.right) // sc * sc
    if (bottom - top) * (right - left) > 0.5 * height * width:
        return None  # the crop would cost about the whole pass
    return top, left, bottom, right, top // sr, left // sc


class _Reached(Exception):
    """Raised by the hook once the layer's output is kept, when the rest of the network is not wanted."""


def _forward_keeping(net, x, layer, stop: bool = False):
    """Return (net(x), layer's output, its Layout): the output as computed, the rest of the network run on a
    copy; the Layout read from the output's shape and the module, as the still-image probe reads it.
    ``stop``: the pass ends at the layer and net(x) is None.

    The copy keeps later in-place operations (a ReLU with ``inplace=True``, ``out += identity``) from
    changing the kept output or its graph; past the layer gradients are off (no graph is built there).
    """
    module, wanted = resolve_layer(net, layer)
    box: dict = {"calls": 0}
    grad_mode = torch.is_grad_enabled()

    def hook(_module, _inputs, output):
        call = box["calls"]
        box["calls"] += 1
        if call != wanted:
            return None
        tensor = first_tensor(output)
        if tensor is None:
            raise DeconvvizError(f"layer {layer!r} outputs no tensor ({type(output).__name__})")
        box["output"] = tensor
        box["layout"] = layout_for(tuple(tensor.shape[1:]), module)
        if stop:
            raise _Reached
        torch.set_grad_enabled(False)  # restored when the forward returns
        return output.detach().clone() if isinstance(output, torch.Tensor) else None

    handle = module.register_forward_hook(hook)
    logits = None
    try:
        logits = net(x)
    except _Reached:
        pass
    finally:
        handle.remove()
        torch.set_grad_enabled(grad_mode)
    if "output" not in box:
        raise DeconvvizError(f"layer {layer!r} was not called during the forward pass (it has {box['calls']} calls)")
    return logits, box["output"], box["layout"]


def _probs(logits) -> np.ndarray | None:
    if logits is None:
        return None
    if not isinstance(logits, torch.Tensor) or logits.dim() != 2 or logits.shape[0] != 1:
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise DeconvvizError(f"model returned {shape}; deconvviz needs class scores of shape (1, classes)")
    return torch.softmax(logits.detach().float(), 1)[0].cpu().numpy()


def _maps(act: torch.Tensor, layout: Layout, layer: str) -> np.ndarray:
    """Return the layer's output as maps (C, h, w) float32, read as the stills read it."""
    try:
        return maps_array(act, layout)
    except DeconvvizError as exc:
        raise DeconvvizError(f"layer {layer!r}: {exc}") from None
