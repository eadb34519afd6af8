"""``deconvviz layers``: print a model's layer tree."""

from __future__ import annotations

from . import add_model_arguments


def add_parser(sub) -> None:
    parser = sub.add_parser("layers", help="print the model's layers: name, type, output shape, maps, parameters")
    add_model_arguments(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    from ..models import load_model

    model = load_model(args.model, args.weights, args.device, download=args.download)
    print(f"# {model.name}  weights: {model.weights}" + ("  (random weights)" if model.random_weights else ""))
    # "maps" is how every command reads the output: CxHxW, also for token layers (ViT: 197x768 is
    # 768 maps of 14x14 after the class token) and channels-last ones (Swin: 56x56x96 is 96 maps of 56x56).
    print(f"{'layer':<48} {'type':<26} {'output':<14} {'maps':<30} {'params':>10}")
    for r in model.layers():
        name = "  " * (r.depth - 1) + r.name
        shape = "x".join(str(s) for s in r.output_shape)
        maps = r.layout.describe() if r.spatial else ""
        print(f"{name:<48} {r.type_name:<26} {shape:<14} {maps:<30} {r.n_params:>10,}")
    return 0
