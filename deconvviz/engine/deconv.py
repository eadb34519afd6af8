"""Project activations back to pixel space: the deconvnet of Zeiler & Fergus (2014), section 2.1.

One activation (or a whole feature map, or each of a channel's top-k activations) is kept with its own
value, every other activation of the layer is set to zero, and the signal is sent down the network:
unpooled through the max-pool switches (contributions add where pooling windows overlap), rectified,
filtered with the transposed filters, with no bias and no normalisation. :mod:`.rules` explains how this
is autograd with the rule at each rectifier replaced, which makes it work on any graph (skip connections,
depthwise convolutions, ReLU6) and lets ``mode`` pick the two neighbours, guided backprop and backprop.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..errors import DeconvvizError
from .layers import capture, run_until
from .layout import no_maps_error
from .rules import MODES, backward_rules

MAX_TOP_K = 64  # on a GPU, each of the k projections holds a copy of the activations up to the layer


@dataclass(frozen=True)
class Projection:
    """Projections in the model's input space, shape (K, C, H, W), one per projected activation.

    ``positions[i]`` is the (row, col) of activation i in the layer's maps (for a token layer, of its patch
    token in the grid; see :mod:`.layout`; None for a whole map or a non-spatial layer) and ``values[i]`` its value (for a whole map: the map's sum).
    """

    images: torch.Tensor
    positions: list[tuple[int, int] | None]
    values: list[float]
    layer: str
    channel: int
    mode: str


def project(
    net: nn.Module,
    x: torch.Tensor,
    layer: str,
    channel: int,
    position: tuple[int, int] | None = None,
    mode: str = "deconvnet",
    whole_map: bool = False,
    top_k: int | None = None,
) -> Projection:
    """Return the Projection of ``layer``'s activation(s) in ``channel`` for input ``x`` (1, C, H, W).

    ``position=None`` (and neither ``whole_map`` nor ``top_k``) projects the channel's strongest activation.
    ``top_k=K`` projects each of the K strongest separately, from one forward pass on the CPU (one batch on a GPU).
    """
    if mode not in MODES:
        raise DeconvvizError(f"unknown mode {mode!r}; valid: {', '.join(MODES)}")
    if top_k is not None and not 1 <= top_k <= MAX_TOP_K:
        raise DeconvvizError(f"top_k must be between 1 and {MAX_TOP_K}, got {top_k}")
    if x.dim() != 4 or x.shape[0] != 1:
        raise DeconvvizError(f"expected one input image of shape (1, C, H, W), got {tuple(x.shape)}")
    # Each of the top-k projections needs the network's state once. On a GPU, k copies of the input in one
    # batch are fastest; on a CPU, one forward pass and k backward passes through its graph (bench/deconv.py
    # measures both; a vmapped backward is slower than either, as its convolution backward loops).
    batched = bool(top_k) and position is None and not whole_map and x.is_cuda
    x = x.detach().expand(top_k if batched else 1, *x.shape[1:]).clone().requires_grad_(True)
    with torch.enable_grad(), backward_rules(mode), capture(net, layer) as box:
        act = run_until(net, x, box, layer)
    layout = box["layout"]
    if not layout.spatial and act.dim() != 2:
        raise no_maps_error(layer, tuple(act.shape[1:]), "a projection")
    # Seeds are made on the layer's maps (tokens and channels-last read as maps) and put back in its layout.
    maps = layout.maps(act) if layout.spatial else act
    channels = maps.shape[1]
    if not 0 <= channel < channels:
        raise DeconvvizError(f"channel {channel} out of range for layer {layer!r}: valid 0..{channels - 1}")
    seeds, positions, values = _seeds(maps[:1], channel, position, whole_map, top_k, layer)
    if layout.spatial:
        seeds = layout.unmaps(seeds)
    if batched:
        padded = torch.zeros_like(act)
        padded[: len(seeds)] = seeds
        images = torch.autograd.grad(act, x, padded)[0][: len(seeds)]
    else:
        images = torch.cat([torch.autograd.grad(act, x, seed[None], retain_graph=i < len(seeds) - 1)[0]
                            for i, seed in enumerate(seeds)])
    return Projection(images.detach(), positions, values, layer, channel, mode)


def top_positions(feature_map: torch.Tensor, k: int) -> list[tuple[tuple[int, int], float]]:
    """Return the k largest entries of a 2-D map as ((row, col), value), strongest first; ties by index.

    Ties are common (overlapping pooling windows often share a maximum), so the order must not depend on
    the device's top-k kernel: a stable sort keeps tied entries in index order.
    """
    flat = feature_map.reshape(-1)
    values, idx = torch.sort(flat, descending=True, stable=True)
    width = feature_map.shape[-1]
    k = min(k, flat.numel())
    return [((int(i) // width, int(i) % width), float(v)) for v, i in zip(values[:k], idx[:k])]


def _seeds(act, channel, position, whole_map, top_k, layer):
    """Return (seeds (K, *act.shape[1:]), positions, values): seed i keeps only the i-th chosen activation."""
    fmap = act[0, channel].detach()
    if fmap.dim() == 0 and position is not None and tuple(position) != (0, 0):  # (0, 0): its 1 x 1 tile, clicked
        raise DeconvvizError(f"position ({position[0]}, {position[1]}) on layer {layer!r}, whose {act.shape[1]} "
                             f"units have no maps: project the unit (strongest or whole map)")
    if fmap.dim() == 0 or whole_map:  # a fully connected unit, or the whole map
        seeds = torch.zeros_like(act)
        seeds[0, channel] = fmap
        return seeds, [None], [float(fmap.sum())]
    if position is not None:
        row, col = position
        height, width = fmap.shape
        if not (0 <= row < height and 0 <= col < width):
            raise DeconvvizError(
                f"position ({row}, {col}) outside layer {layer!r}'s {height}x{width} maps: "
                f"valid rows 0..{height - 1}, cols 0..{width - 1}"
            )
        chosen = [((row, col), float(fmap[row, col]))]
    else:
        chosen = top_positions(fmap, top_k or 1)
    seeds = torch.zeros((len(chosen),) + tuple(act.shape[1:]), dtype=act.dtype, device=act.device)
    for i, ((row, col), value) in enumerate(chosen):
        seeds[i, channel, row, col] = value
    return seeds, [p for p, _ in chosen], [v for _, v in chosen]
