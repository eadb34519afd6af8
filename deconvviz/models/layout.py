"""How a layer's output is a stack of feature maps: the one place that knows (C, H, W), channels-last and tokens.

Here beside the layer tree (:mod:`.layers`, whose records carry a Layout); the engine imports it as
:mod:`deconvviz.engine.layout`.

Every command sees a layer as C maps of H x W. Most layers produce that directly, (B, C, H, W). Two other
layouts are read as maps too:

* channels-last, (B, H, W, C): Swin's blocks, ConvNeXt's permuted block interiors (``Permute``,
  ``LayerNorm``, ``Linear``, ``GELU``): channel = last index, position = (row, col);
* tokens, (B, T, D) batch first, where T is ``prefix`` tokens (a class token, register tokens) followed by
  a square grid g x g of patch tokens in row-major order (ViT: 197 = 1 + 14 x 14): D maps of g x g,
  channel = d, position (row, col) = patch token ``prefix + row * g + col``. The prefix tokens are no map
  position: a projection seed is zero there.

:func:`layout_for` decides from the output's shape, helped by the module that produced it (a ``Linear``
acts on the last axis, a convolution's channels come first); :meth:`Layout.maps` returns the (B, C, H, W)
view and :meth:`Layout.unmaps` puts maps back into the layer's own layout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import DeconvvizError

MAPS, CHANNELS_LAST, TOKENS, FLAT = "maps", "channels-last", "tokens", "flat"
MAX_PREFIX = 8  # class token + registers (DINOv2 with registers: 1 + 4)

# Modules whose output has channels first, and those whose output has its features on the last axis.
_CHANNELS_FIRST = (nn.Conv2d, nn.ConvTranspose2d, nn.BatchNorm2d, nn.MaxPool2d, nn.AvgPool2d,
                   nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.LocalResponseNorm, nn.GroupNorm,
                   nn.InstanceNorm2d)
_LAST_AXIS = (nn.Linear,)


@dataclass(frozen=True)
class Layout:
    """A layer output's layout: ``kind`` (maps, channels-last, tokens or flat), ``shape`` (batch dropped),
    and for tokens the number of ``prefix`` tokens before the grid."""

    kind: str
    shape: tuple[int, ...]
    prefix: int = 0

    @property
    def spatial(self) -> bool:
        """Return whether the output reads as feature maps."""
        return self.kind != FLAT

    @property
    def map_shape(self) -> tuple[int, int, int] | None:
        """Return (channels, height, width) of the maps, or None for a flat output."""
        if self.kind == MAPS:
            return tuple(self.shape)
        if self.kind == CHANNELS_LAST:
            h, w, c = self.shape
            return c, h, w
        if self.kind == TOKENS:
            t, d = self.shape
            g = math.isqrt(t - self.prefix)
            return d, g, g
        return None

    def maps(self, out: torch.Tensor) -> torch.Tensor:
        """Return the layer output ``out`` (B, *shape) as maps (B, C, H, W) (a view: no copy)."""
        self._check(out)
        if self.kind == MAPS:
            return out
        if self.kind == CHANNELS_LAST:
            return out.permute(0, 3, 1, 2)
        if self.kind == TOKENS:
            c, h, w = self.map_shape
            return out[:, self.prefix:].unflatten(1, (h, w)).permute(0, 3, 1, 2)
        raise DeconvvizError(f"an output of shape {self.shape} has no feature maps")

    def unmaps(self, maps: torch.Tensor) -> torch.Tensor:
        """Return maps (B, C, H, W) in the layer's own layout (B, *shape); prefix tokens are zero."""
        if self.kind == MAPS:
            return maps
        if self.kind == CHANNELS_LAST:
            return maps.permute(0, 2, 3, 1)
        if self.kind == TOKENS:
            b, c = maps.shape[:2]
            patches = maps.flatten(2).transpose(1, 2)  # (B, H*W, C), row-major
            return torch.cat([patches.new_zeros(b, self.prefix, c), patches], 1)
        raise DeconvvizError(f"an output of shape {self.shape} has no feature maps")

    def describe(self) -> str:
        """Return the map shape for people: ``CxHxW``, with how it was read for tokens and channels-last."""
        if self.kind == FLAT:
            return "x".join(map(str, self.shape))
        c, h, w = self.map_shape
        if self.kind == TOKENS:
            return f"{c}x{h}x{w} ({self.shape[0]} tokens: {self.prefix} + {h}x{w})"
        if self.kind == CHANNELS_LAST:
            return f"{c}x{h}x{w} (HxWxC)"
        return f"{c}x{h}x{w}"

    def _check(self, out: torch.Tensor) -> None:
        if tuple(out.shape[1:]) != self.shape:
            raise DeconvvizError(f"expected a layer output of shape (B, {', '.join(map(str, self.shape))}), "
                                 f"got {tuple(out.shape)}")


def token_prefix(tokens: int) -> int | None:
    """Return how many tokens precede a square grid of >= 4 patch tokens (the fewest that fit), or None."""
    for prefix in range(0, min(MAX_PREFIX, tokens) + 1):
        g = math.isqrt(tokens - prefix)
        if g >= 2 and g * g == tokens - prefix:
            return prefix
    return None


def layout_for(shape: tuple[int, ...], module: nn.Module | None = None, batched: bool = True) -> Layout:
    """Return the Layout of a layer output of ``shape`` (batch dropped) made by ``module`` (when known).

    ``batched`` False says the output's first axis is not the input's batch (Swin's window attention
    has windows x batch there, each window's tokens a 7 x 7 piece of the image): such an output is flat.

    3-D outputs are channels first unless the module puts its features last (``Linear``, a ``LayerNorm``
    over the last axis, a ``Permute`` to (0, 2, 3, 1)) or, for modules that do not say (activations,
    blocks), the shape does: (H, H, C) with C != H is channels-last, as feature maps are square on the
    square inputs these models take. 2-D outputs are tokens when a square grid of them follows at most
    :data:`MAX_PREFIX` others; anything else is flat.
    """
    shape = tuple(int(s) for s in shape)
    if not batched:
        return Layout(FLAT, shape)
    if len(shape) == 3:
        last = _features_last(shape, module)
        if last is None:
            last = shape[0] == shape[1] and shape[1] != shape[2]
        return Layout(CHANNELS_LAST if last else MAPS, shape)
    if len(shape) == 2:
        prefix = token_prefix(shape[0])
        if prefix is not None:
            return Layout(TOKENS, shape, prefix)
    return Layout(FLAT, shape)


def _features_last(shape, module) -> bool | None:
    """Return True/False when ``module`` says where its output's channels are, None when it does not."""
    if module is None:
        return None
    if isinstance(module, _CHANNELS_FIRST):
        return False
    if isinstance(module, _LAST_AXIS):
        return True
    if isinstance(module, nn.LayerNorm):
        features = module.normalized_shape[-1]
        if shape[2] == features and shape[0] != features:  # torchvision's LayerNorm2d permutes back: first
            return True
        if shape[0] == features and shape[2] != features:
            return False
        return None
    dims = getattr(module, "dims", None)  # torchvision.ops.misc.Permute
    if type(module).__name__ == "Permute" and dims is not None:
        return list(dims) == [0, 2, 3, 1]
    return None


def maps_array(activation: torch.Tensor, layout: Layout | None = None) -> "np.ndarray":
    """Return a layer's output (1, ...) as maps (C, h, w) float32 (a vector as C maps of 1 x 1).

    ``layout`` (default: read from the shape) says how tokens and channels-last outputs are maps; every
    path that shows a layer (stills, video frames, exports) reads it here. Raises DeconvvizError for an
    output that is neither maps nor a vector.
    """
    import numpy as np

    layout = layout or layout_for(tuple(activation.shape[1:]))
    if layout.spatial:
        activation = layout.maps(activation)
    act = activation[0].detach().float().cpu().numpy()
    if act.ndim == 1:
        act = act[:, None, None]
    if act.ndim != 3:
        raise DeconvvizError(f"output shape {tuple(layout.shape)} is neither feature maps (C, H, W; "
                             f"H, W, C; a square grid of tokens) nor a vector")
    return np.ascontiguousarray(act, dtype=np.float32)


def no_maps_error(layer: str, shape: tuple[int, ...], need: str) -> DeconvvizError:
    """Return the error for a layer whose output has no feature maps, naming what ``need``s them."""
    return DeconvvizError(f"layer {layer!r} has no spatial maps (output shape {tuple(shape)}: neither maps, "
                          f"channels-last maps nor a square grid of tokens); {need} needs a layer with maps "
                          f"(see `deconvviz layers`)")
