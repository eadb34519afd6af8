"""``deconvviz topk``: the paper's Fig. 2 for a layer: per channel the top-k activations over a data set."""

from __future__ import annotations

import os
from pathlib import Path

from . import add_model_arguments, shell_command
from ._args import parse_int_list


def add_parser(sub) -> None:
    parser = sub.add_parser("topk", help="index a data set's top-k activations per channel and render them (Fig. 2)")
    add_model_arguments(parser)
    parser.add_argument("--data", required=True,
                        help="data set: a folder of class folders, a folder of images, or an IDX images file")
    parser.add_argument("--layer", required=True, help="layer name (see `deconvviz layers`)")
    parser.add_argument("--channels", type=parse_int_list,
                        help="channels to index, e.g. 0,3,5-8 (default: all; the first 8 are rendered)")
    parser.add_argument("--k", type=int, default=9, help="activations kept per channel (default 9)")
    parser.add_argument("--all-positions", action="store_true",
                        help="let one image fill several of a channel's k slots (default: its strongest only)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--limit", type=int, help="use only the first N images of the data set")
    parser.add_argument("--out", required=True, help="folder for index.npz, overview.png and channel-NNNN.png")
    parser.set_defaults(run=run)


def run(args) -> int:
    from ..errors import DeconvvizError

    if args.k < 1:
        raise DeconvvizError(f"--k must be at least 1, got {args.k}")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return _run(args, 0, 1)
    import torch.distributed as dist

    dist.init_process_group("gloo")
    try:
        return _run(args, dist.get_rank(), world)
    finally:
        dist.destroy_process_group()


def _run(args, rank: int, world: int) -> int:
    """Index this process's share, merge the shares on rank 0, and write the index and PNGs there."""
    import signal

    from ..analyses.topk import gather, topk_index
    from ..data.sources import open_images
    from ..engine._control import Cancelled
    from ..engine.topk import save_index
    from ..errors import DeconvvizError
    from ..figures.png import save_panel
    from ..figures.topk import topk_crops, topk_overview, topk_panel
    from ..models import load_model
    from ._args import progress_printer

    out = Path(args.out)
    model = load_model(args.model, args.weights, args.device, download=args.download)
    source = open_images(args.data, args.limit)
    checkpoint = out / f".topk-checkpoint-{rank}-of-{world}.npz"
    stop = {"now": False}
    previous = signal.signal(signal.SIGINT, lambda *_: stop.update(now=True))
    try:
        index = topk_index(model, source, args.layer, args.channels, args.k, args.batch_size,
                           progress_printer(f"rank {rank}: images" if world > 1 else "images"),
                           lambda: stop["now"], checkpoint, rank=rank, world=world,
                           distinct=not args.all_positions)
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
    index.meta["command"] = shell_command(args.argv)
    save_index(index, out / "index.npz")
    command = shell_command(args.argv)
    shown = list(index.channels[:8]) if args.channels is None else list(args.channels)

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
