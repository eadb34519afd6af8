"""``deconvviz layers``: print a model's layer tree."""

from __future__ import annotations

from . import add_model_arguments


def add_parser(sub) -> None:
    parser = sub.add_parser("layers", help="print the model's layers: name, type, output shape, parameters")
    add_model_arguments(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    from ..models import load_model

    model = load_model(args.model, args.weights, args.device, download=args.download)
    print(f"# {model.name}  weights: {model.weights}")
    print(f"{'layer':<48} {'type':<26} {'output':<18} {'params':>10}")
    for r in model.layers():
        name = "  " * (r.depth - 1) + r.name
        shape = "x".join(str(s) for s in r.output_shape)
        print(f"{name:<48} {r.type_name:<26} {shape:<18} {r.n_params:>10,}")
    return 0
