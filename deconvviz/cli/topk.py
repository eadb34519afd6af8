"""``deconvviz topk``: the paper's Fig. 2 for a layer: per channel the top-k activations over a data set."""

from __future__ import annotations

import os
from pathlib import Path

from ..session.recipes import TopkRecipe as RECIPE


def run(r: RECIPE) -> int:
    from ..errors import DeconvvizError

    if r.k < 1:
        raise DeconvvizError(f"--k must be at least 1, got {r.k}")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return _run(r, 0, 1)
    import torch.distributed as dist

    dist.init_process_group("gloo")
    try:
        return _run(r, dist.get_rank(), world)
    finally:
        dist.destroy_process_group()


def _run(r: RECIPE, rank: int, world: int) -> int:
    """Index this process's share, merge the shares on rank 0, and write the index and PNGs there."""
    import signal

    from ..analyses.topk import gather, topk_index
    from ..data.sources import open_images
    from ..engine._control import Cancelled
    from ..engine.topk import save_index
    from ..errors import DeconvvizError
    from ..figures.png import save_panel
    from ..figures.topk import topk_crops, topk_overview, topk_panel
    from ._args import progress_printer

    out = Path(r.out)
    model = r.load_model()
    source = open_images(r.data, r.limit)
    checkpoint = out / f".topk-checkpoint-{rank}-of-{world}.npz"
    stop = {"now": False}
    previous = signal.signal(signal.SIGINT, lambda *_: stop.update(now=True))
    try:
        index = topk_index(model, source, r.layer, r.channels, r.k, r.batch_size,
                           progress_printer(f"rank {rank}: images" if world > 1 else "images"),
                           lambda: stop["now"], checkpoint, rank=rank, world=world,
                           distinct=not r.all_positions)
    except Cancelled:
        print(f"\ninterrupted; the state is in {checkpoint}: run the same command again to resume")
        return 130
    finally:
        signal.signal(signal.SIGINT, previous)
    if world > 1:
        index = gather(index)
        if index is None:
            checkpoint.unlink(missing_ok=True)
            return 0
    command = r.shell()
    index.meta["command"] = command
    save_index(index, out / "index.npz")
    shown = list(index.channels[:8]) if r.channels is None else list(r.channels)

    def load_input(i: int):
        return model.preprocess(source.image(i))

    crops = {int(c): topk_crops(model, index, int(c), load_input) for c in shown}
    crops = {c: v for c, v in crops.items() if v[0]}
    if not crops:
        raise DeconvvizError("no activations were indexed (is the data set empty?)")
    save_panel(topk_overview(model, index, crops, command), out / "overview.png")
    for c, v in crops.items():
        save_panel(topk_panel(model, index, c, v, command), out / f"channel-{c:04d}.png")
    for r in range(world):
        (out / f".topk-checkpoint-{r}-of-{world}.npz").unlink(missing_ok=True)
    print(f"wrote {out / 'index.npz'} ({index.n_images} images, {len(index.channels)} channels) "
          f"and {len(shown) + 1} PNGs in {out}")
    return 0
