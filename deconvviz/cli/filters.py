"""``deconvviz filters``: first-layer filters as a grid; two snapshots or two models side by side (Fig. 6)."""

from __future__ import annotations

from . import add_model_arguments, shell_command


def add_parser(sub) -> None:
    parser = sub.add_parser("filters", help="first-layer filters; compare two snapshots or models (Fig. 6)")
    add_model_arguments(parser)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--compare", metavar="WEIGHTS", help="a second weights file of the same model to show beside")
    which.add_argument("--compare-model", metavar="MODEL", help="a second model to show beside")
    parser.add_argument("--compare-weights", help="weights for --compare-model")
    parser.add_argument("--out", required=True, help="PNG to write")
    parser.set_defaults(run=run)


def run(args) -> int:
    from ..errors import DeconvvizError
    from ..figures.filters import filters_panel
    from ..figures.png import save_panel
    from ..models import load_model

    if args.compare_weights and not args.compare_model:
        raise DeconvvizError("--compare-weights needs --compare-model")
    model = load_model(args.model, args.weights, args.device, download=args.download)
    other = None
    if args.compare:
        other = load_model(model.name, args.compare, args.device)
    elif args.compare_model:
        other = load_model(args.compare_model, args.compare_weights, args.device)
    save_panel(filters_panel(model, other, shell_command(args.argv)), args.out)
    print(f"wrote {args.out}")
    return 0
