"""The top-k data set index (the paper's Fig. 2): per channel of a layer, the k strongest activations over
a whole data set, with the image index and position of each.

The data set is streamed once in batches; memory is O(k x channels). Order is total and deterministic:
by value (largest first), then image index, row, column (smallest first), so an index merged from shards
(:func:`merge`) equals the index of one process over all images, whatever the split.

By default an index is ``distinct``: each image contributes at most one activation per channel (its
strongest), so the k entries show k different images, as in the paper's figure. Without it, neighbouring
positions of one image may fill several slots.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch
from torch import nn

from ..atomic import atomic_path
from ..errors import DeconvvizError
from ._control import Cancel, Progress, check, report
from .layers import capture, run_until
from .layout import Layout, layout_for, no_maps_error

FORMAT = "deconvviz-topk-1"


@dataclass
class TopKIndex:
    """Per channel the k strongest activations: arrays of shape (channels, k), strongest first.

    ``channels[c]`` is the layer channel of row c. Unfilled slots (fewer than k positions seen) have
    value -inf and image -1. ``n_images`` counts the images seen; ``meta`` describes the run (model,
    weights, data, ...) and is saved with the index.
    """

    layer: str
    k: int
    channels: np.ndarray  # (C,) int64
    values: np.ndarray  # (C, k) float32
    image: np.ndarray  # (C, k) int64
    row: np.ndarray  # (C, k) int64
    col: np.ndarray  # (C, k) int64
    n_images: int = 0
    meta: dict = field(default_factory=dict)
    distinct: bool = True

    def entries(self, channel: int) -> list[tuple[int, int, int, float]]:
        """Return the filled (image index, row, col, value) of layer channel ``channel``, strongest first."""
        where = np.flatnonzero(self.channels == channel)
        if where.size == 0:
            raise DeconvvizError(f"channel {channel} is not in this index (it holds channels "
                                 f"{_ranges(self.channels)})")
        c = int(where[0])
        return [(int(self.image[c, j]), int(self.row[c, j]), int(self.col[c, j]), float(self.values[c, j]))
                for j in range(self.k) if self.image[c, j] >= 0]


def _ranges(channels: np.ndarray) -> str:
    return f"{int(channels.min())}..{int(channels.max())}" if len(channels) else "none"


def empty_index(layer: str, channels: Sequence[int], k: int, meta: dict | None = None,
                distinct: bool = True) -> TopKIndex:
    """Return an index with no activations yet, for ``channels`` of ``layer`` (see the module for ``distinct``)."""
    if k < 1:
        raise DeconvvizError(f"k must be at least 1, got {k}")
    n = len(channels)
    return TopKIndex(layer, k, np.asarray(channels, np.int64), np.full((n, k), -np.inf, np.float32),
                     np.full((n, k), -1, np.int64), np.full((n, k), -1, np.int64), np.full((n, k), -1, np.int64),
                     0, dict(meta or {}), distinct)


def batch_candidates(act: torch.Tensor, image: torch.Tensor, k: int):
    """Return (values, image, row, col), each (C, k'), the exact top-k of one batch of maps (B, C, H, W).

    Ties are broken by (image, row, col), smallest first, as :func:`merge` orders them. k' = min(k, B*H*W).
    """
    order = torch.argsort(image, stable=True)
    act, image = act[order], image[order]
    b, c, h, w = act.shape
    flat = act.detach().float().permute(1, 0, 2, 3).reshape(c, b * h * w)  # flat order = (image, row, col)
    k = min(k, flat.shape[1])
    kth = torch.topk(flat, k, dim=1).values[:, -1:]
    above = flat > kth
    need = k - above.sum(1, keepdim=True)
    tied = flat == kth
    chosen = above | (tied & (tied.cumsum(1) <= need))
    flat_idx = chosen.nonzero()[:, 1].reshape(c, k)  # exactly k per row, in flat order
    values = flat.gather(1, flat_idx)
    img, rest = flat_idx // (h * w), flat_idx % (h * w)
    return (values.cpu().numpy(), image.cpu()[img.cpu()].numpy(), (rest // w).cpu().numpy(),
            (rest % w).cpu().numpy())


def _select(values, image, row, col, k):
    """Return the k best of concatenated candidate arrays (C, n), by (-value, image, row, col)."""
    order = np.lexsort((col, row, image, -values.astype(np.float64)), axis=-1)[:, :k]
    take = lambda a: np.take_along_axis(a, order, axis=1)  # noqa: E731
    return take(values), take(image), take(row), take(col)


def _absorb(index: TopKIndex, values, image, row, col, n_images: int) -> TopKIndex:
    v, i, r, c = _select(np.concatenate([index.values, values], 1), np.concatenate([index.image, image], 1),
                         np.concatenate([index.row, row], 1), np.concatenate([index.col, col], 1), index.k)
    # Empty slots (-inf) sort last; a real -inf activation is indistinguishable and equally useless.
    return replace(index, values=v.astype(np.float32), image=i, row=r, col=c, n_images=index.n_images + n_images)


def update(index: TopKIndex, act: torch.Tensor, image: torch.Tensor, layout: Layout | None = None) -> TopKIndex:
    """Return ``index`` updated with a batch of the layer's outputs of images ``image`` (B,).

    ``act`` is (B, C_layer, H, W), or any layout :mod:`.layout` reads as maps (tokens, channels-last),
    described by ``layout`` (default: read from the shape); rows and columns are map positions.
    """
    layout = layout or layout_for(tuple(act.shape[1:]))
    if not layout.spatial:
        raise no_maps_error(index.layer, tuple(act.shape[1:]), "the top-k index")
    act = layout.maps(act)
    sel = act[:, torch.as_tensor(index.channels, device=act.device)].detach()
    image = image.to(act.device)
    if not index.distinct:
        return _absorb(index, *batch_candidates(sel, image, index.k), int(act.shape[0]))
    b, c, h, w = sel.shape
    best, where = sel.reshape(b, c, h * w).max(dim=2)  # the first maximum: smallest (row, col) among ties
    values, img, _, _ = batch_candidates(best[:, :, None, None], image, index.k)
    ids = image.cpu().numpy()
    order = np.argsort(ids, kind="stable")
    batch_row = order[np.searchsorted(ids[order], img)]
    flat = where.cpu().numpy()[batch_row, np.arange(c)[:, None]]
    return _absorb(index, values, img, flat // w, flat % w, b)


def merge(indices: Sequence[TopKIndex]) -> TopKIndex:
    """Return one index from indices over disjoint parts of a data set (e.g. one per process)."""
    if not indices:
        raise ValueError("nothing to merge")
    first = indices[0]
    for other in indices[1:]:
        if (other.layer != first.layer or other.k != first.k or other.distinct != first.distinct
                or not np.array_equal(other.channels, first.channels)):
            raise DeconvvizError("cannot merge top-k indices of different layers, k, channels or distinctness")
    merged = empty_index(first.layer, first.channels, first.k, first.meta, first.distinct)
    for ix in indices:
        merged = _absorb(merged, ix.values, ix.image, ix.row, ix.col, ix.n_images)
    return merged


def layer_channels(net: nn.Module, x: torch.Tensor, layer: str) -> int:
    """Return the number of channels of ``layer``'s spatial output for input ``x`` (DeconvvizError if not spatial)."""
    with torch.no_grad(), capture(net, layer) as box:
        act = run_until(net, x, box, layer)
    if not box["layout"].spatial:
        raise no_maps_error(layer, tuple(act.shape[1:]), "the top-k index")
    return int(box["layout"].map_shape[0])


def build_index(
    net: nn.Module,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    index: TopKIndex,
    total: int = 0,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    checkpoint=None,
) -> TopKIndex:
    """Return ``index`` updated with every batch of (image indices (B,), inputs (B, C, H, W)).

    ``checkpoint(index)`` is called after each batch (to save a resumable state); ``progress(images seen,
    total)`` too. ``cancel()`` returning True raises :class:`~._control.Cancelled` after the last checkpoint.
    """
    device = next(net.parameters()).device
    for image, x in batches:
        check(cancel)
        with torch.no_grad(), capture(net, index.layer) as box:
            act = run_until(net, x.to(device), box, index.layer)
        index = update(index, act, image, box["layout"])
        if checkpoint is not None:
            checkpoint(index)
        report(progress, index.n_images, total)
    return index


def save_index(index: TopKIndex, path: str | Path) -> Path:
    """Write ``index`` to ``path`` as ``.npz`` (arrays plus a JSON description), atomically; return the path."""
    path = Path(path)
    info = {"format": FORMAT, "layer": index.layer, "k": index.k, "n_images": index.n_images, "meta": index.meta,
            "distinct": index.distinct}
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, channels=index.channels, values=index.values, image=index.image, row=index.row,
                     col=index.col, info=np.array(json.dumps(info)))
    return path


def load_index(path: str | Path) -> TopKIndex:
    """Return the TopKIndex saved at ``path`` by :func:`save_index` (DeconvvizError if it is not one)."""
    path = Path(path)
    if not path.is_file():
        raise DeconvvizError(f"top-k index not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as z:
            info = json.loads(str(z["info"]))
            arrays = {k: z[k] for k in ("channels", "values", "image", "row", "col")}
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
        raise DeconvvizError(f"{path.name} is not a deconvviz top-k index: {exc}") from None
    if info.get("format") != FORMAT:
        raise DeconvvizError(f"{path.name} is not a deconvviz top-k index (format {info.get('format')!r})")
    return TopKIndex(info["layer"], int(info["k"]), arrays["channels"].astype(np.int64),
                     arrays["values"].astype(np.float32), arrays["image"].astype(np.int64),
                     arrays["row"].astype(np.int64), arrays["col"].astype(np.int64), int(info["n_images"]),
                     info.get("meta", {}), bool(info.get("distinct", True)))
