"""``deconvviz correspondence``: Table 1, how consistently a masked part changes a layer's features."""

from __future__ import annotations

from . import add_model_arguments, shell_command


def add_parser(sub) -> None:
    from ..analyses.correspondence import PARTS_HELP

    parser = sub.add_parser("correspondence", help="Delta per part and layer, vs random boxes (Table 1)")
    add_model_arguments(parser)
    parser.add_argument("--images", required=True, nargs="+", help="two or more image files")
    parser.add_argument("--parts", required=True, help=PARTS_HELP)
    parser.add_argument("--layers", nargs="+",
                        help="layers (default: the last conv block and the penultimate layer, the paper's 5 and 7)")
    parser.add_argument("--random", type=int, default=10, metavar="N",
                        help="random boxes of each part's sizes, N draws (default 10; 0: none)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random boxes")
    parser.add_argument("--csv", help="write the table as CSV")
    parser.add_argument("--out", help="PNG of the images with their part boxes")
    parser.set_defaults(run=run)


def run(args) -> int:
    from ..analyses.correspondence import correspondence_rows, correspondence_table, load_inputs, read_parts
    from ..figures.parts import parts_panel
    from ..figures.png import save_panel
    from ..models import load_model
    from ..tables import format_table, write_csv

    model = load_model(args.model, args.weights, args.device, download=args.download)
    height, width = model.preprocessing.size
    parts = read_parts(args.parts, args.images, height, width)
    rows = correspondence_table(model, args.images, parts, args.layers, args.random, args.seed)
    header, table = correspondence_rows(rows)
    print(format_table(header, table))
    if args.csv:
        write_csv(args.csv, header, table)
    if args.out:
        from pathlib import Path

        x = load_inputs(model, args.images)
        save_panel(parts_panel(model, x, [Path(p).name for p in args.images], parts, shell_command(args.argv)),
                   args.out)
    written = [p for p in (args.csv, args.out) if p]
    if written:
        print("wrote " + " and ".join(written))
    return 0
