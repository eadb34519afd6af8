"""``deconvviz evolution``: how chosen features form during training (Fig. 4)."""

from __future__ import annotations

from . import shell_command
from ._args import parse_int_list


def add_parser(sub) -> None:
    parser = sub.add_parser("evolution", help="strongest activation per channel at each training snapshot (Fig. 4)")
    parser.add_argument("--history", required=True, help="folder of snapshot .safetensors files (one per epoch)")
    parser.add_argument("--data", required=True,
                        help="data set: a folder of class folders, a folder of images, or an IDX images file")
    parser.add_argument("--layer", required=True, help="layer name (see `deconvviz layers`)")
    parser.add_argument("--channels", required=True, type=parse_int_list, help="channels, e.g. 0,3,5-8")
    parser.add_argument("--limit", type=int, help="use only the first N images of the data set")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--patches", action="store_true", help="also write the image patches beside (PNG-patches)")
    parser.add_argument("--device", default="cpu", help="torch device")
    parser.add_argument("--out", required=True, help="PNG to write")
    parser.set_defaults(run=run)


def run(args) -> int:
    from pathlib import Path

    from ..analyses.evolution import feature_evolution
    from ..data.sources import open_images
    from ..figures.evolution import evolution_panel
    from ..figures.png import save_panel
    from ._args import progress_printer

    source = open_images(args.data, args.limit)
    evolution = feature_evolution(args.history, source, args.layer, args.channels, args.batch_size, args.device,
                                  progress_printer("snapshots"))
    command = shell_command(args.argv)
    save_panel(evolution_panel(evolution, command), args.out)
    written = [args.out]
    if args.patches:
        out = Path(args.out)
        path = out.with_name(out.stem + "-patches" + out.suffix)
        save_panel(evolution_panel(evolution, command, patches=True), path)
        written.append(str(path))
    print("wrote " + " and ".join(written))
    return 0
