"""``deconvviz invariance``: feature distance and p(true class) under translation, scaling or rotation (Fig. 5)."""

from __future__ import annotations

from . import add_model_arguments, shell_command
from ._args import parse_float_list, parse_int_list


def add_parser(sub) -> None:
    parser = sub.add_parser("invariance", help="how features and the class change under a transform (Fig. 5)")
    add_model_arguments(parser)
    parser.add_argument("--images", required=True, nargs="+", help="up to 5 image files")
    parser.add_argument("--transform", default="translate", choices=["translate", "scale", "rotate"],
                        help="vertical translation (pixels), scaling (factor) or rotation (degrees)")
    parser.add_argument("--range", type=parse_float_list, dest="amounts",
                        help="amounts: a,b,c or START:STOP:COUNT (default: a range per transform)")
    parser.add_argument("--layers", nargs="+",
                        help="layers to compare (default: the first conv block and the penultimate layer)")
    parser.add_argument("--true-class", type=parse_int_list,
                        help="true class per image, e.g. 3,3,7 (default: each image's top class)")
    parser.add_argument("--out", required=True, help="PNG to write")
    parser.add_argument("--csv", help="also write the numbers as CSV")
    parser.set_defaults(run=run)


def run(args) -> int:
    from ..analyses.invariance import invariance_curves, invariance_rows
    from ..data.images import load_image
    from ..figures.invariance import invariance_panel
    from ..figures.png import save_panel
    from ..models import load_model
    from ..tables import format_table, write_csv

    model = load_model(args.model, args.weights, args.device, download=args.download)
    result = invariance_curves(model, args.images, args.transform, args.amounts, args.layers, args.true_class)
    first = model.preprocess(load_image(args.images[0]))
    header, rows = invariance_rows(result, model)
    panel = invariance_panel(model, result, first, shell_command(args.argv))
    save_panel(panel, args.out)
    if args.csv:
        write_csv(args.csv, header, rows)
    print(format_table(header, rows))
    print(f"wrote {args.out}" + (f" and {args.csv}" if args.csv else ""))
    return 0
