"""``deconvviz actmax``: regularised gradient ascent on a channel or a class score."""

from __future__ import annotations

from . import add_model_arguments, shell_command


def add_parser(sub) -> None:
    parser = sub.add_parser("actmax", help="activation maximisation: the input a channel or a class likes most")
    add_model_arguments(parser)
    parser.add_argument("--layer", help="layer of the channel to maximise")
    parser.add_argument("--channel", type=int, help="channel whose mean output is maximised")
    parser.add_argument("--class", type=int, dest="class_index", help="class whose pre-softmax score is maximised")
    parser.add_argument("--start", default="noise", help="noise, mean (the mean image) or an image file")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--step-size", type=float, default=0.05,
                        help="mean change of an input value per step, in normalised units (default 0.05)")
    parser.add_argument("--l1", type=float, default=0.1, help="L1 penalty weight (default 0.1)")
    parser.add_argument("--l2", type=float, default=0.0, help="L2 penalty weight (default 0)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise start")
    parser.add_argument("--out", required=True, help="PNG to write")
    parser.set_defaults(run=run)


def run(args) -> int:
    from ..analyses.actmax import activation_maximisation, start_input
    from ..engine.actmax import Target
    from ..errors import DeconvvizError
    from ..figures.png import save_panel
    from ..figures.saliency import actmax_panel
    from ..models import load_model
    from ._args import progress_printer

    if (args.class_index is None) == (args.layer is None or args.channel is None):
        raise DeconvvizError("give either --class N, or --layer L with --channel C")
    target = Target(class_index=args.class_index) if args.class_index is not None else \
        Target(args.layer, args.channel)
    model = load_model(args.model, args.weights, args.device, download=args.download)
    ascent = activation_maximisation(model, target, args.start, args.steps, args.step_size, args.l1, args.l2,
                                     args.seed, progress_printer("steps"))
    start = start_input(model, args.start, args.seed)
    save_panel(actmax_panel(model, start, ascent, shell_command(args.argv)), args.out)
    print(f"{target.describe()}: {ascent.values[0]:.4g} -> {ascent.values[-1]:.4g}; wrote {args.out}")
    return 0
