"""Building a top-k index over a data set for a LoadedModel: batched, resumable, shardable across processes."""

from __future__ import annotations

from pathlib import Path

from ..data.sources import ImageSource, batches, open_images
from ..engine._control import Cancel, Cancelled, Progress
from ..engine.topk import TopKIndex, build_index, empty_index, layer_channels, load_index, merge, save_index
from ..errors import DeconvvizError
from ..models import LoadedModel


def _source(data: ImageSource | str | Path) -> ImageSource:
    return open_images(data) if isinstance(data, (str, Path)) else data


def topk_index(
    model: LoadedModel,
    data: ImageSource | str | Path,
    layer: str,
    channels: list[int] | None = None,
    k: int = 9,
    batch_size: int = 64,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 20,
    rank: int = 0,
    world: int = 1,
    distinct: bool = True,
) -> TopKIndex:
    """Return the TopKIndex of ``layer`` over ``data`` (this process's share when ``world`` > 1).

    The data set is cut into batches of ``batch_size``; process ``rank`` of ``world`` takes batches rank,
    rank + world, ... so that every batch is the same as in a single process. With ``checkpoint`` (a file),
    the state is saved every ``checkpoint_every`` batches and on cancel, and a later call with the same
    arguments resumes from it. ``distinct``: at most one activation per image and channel (see
    :mod:`deconvviz.engine.topk`). Raises DeconvvizError for a bad layer, channel or data set.
    """
    source = _source(data)
    first = model.preprocess(source.image(0))
    n_channels = layer_channels(model.net, first, layer)
    channels = list(range(n_channels)) if channels is None else list(channels)
    bad = [c for c in channels if not 0 <= c < n_channels]
    if bad or not channels:
        raise DeconvvizError(f"channel(s) {bad or '[]'} out of range for layer {layer!r}: valid 0..{n_channels - 1}")
    n = len(source)
    all_batches = [list(range(s, min(s + batch_size, n))) for s in range(0, n, max(1, batch_size))]
    mine = all_batches[rank::world]
    run = {"model": model.name, "weights": model.weights, "data": str(getattr(source, "name", data)), "images": n,
           "layer": layer, "k": k, "channels": channels, "batch_size": batch_size, "rank": rank, "world": world, "distinct": distinct}
    index, done = empty_index(layer, channels, k, {"run": run}, distinct), 0
    if checkpoint is not None and Path(checkpoint).is_file():
        saved = load_index(checkpoint)
        if saved.meta.get("run") == run:
            index, done = saved, int(saved.meta.get("done_batches", 0))
    state = {"done": done, "index": index}

    def save(ix: TopKIndex) -> None:
        ix.meta["done_batches"] = state["done"]
        save_index(ix, checkpoint)

    def on_batch(ix: TopKIndex) -> None:
        state["done"] += 1
        state["index"] = ix
        if checkpoint is not None and state["done"] % checkpoint_every == 0:
            save(ix)

    flat = [i for b in mine[done:] for i in b]
    total = sum(len(b) for b in mine)
    try:
        index = build_index(model.net, batches(source, model.preprocess, flat, batch_size), index, total,
                            progress, cancel, on_batch)
    except Cancelled:
        if checkpoint is not None:
            save(state["index"])
        raise
    index.meta = {"model": model.name, "weights": model.weights, "data": run["data"], "images": n,
                  "batch_size": batch_size}
    return index


def gather(index: TopKIndex) -> TopKIndex | None:
    """Return, on rank 0 of an initialised torch.distributed group, the merge of every rank's index; else None."""
    import torch.distributed as dist

    parts: list = [None] * dist.get_world_size()
    dist.all_gather_object(parts, index)
    if dist.get_rank() != 0:
        return None
    merged = merge(parts)
    merged.meta = dict(index.meta)
    return merged
