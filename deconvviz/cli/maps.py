"""``deconvviz maps``: a layer's feature maps for an image (or the first layer's filters) as one PNG."""

from __future__ import annotations

from . import add_model_arguments, shell_command


def add_parser(sub) -> None:
    parser = sub.add_parser("maps", help="a layer's feature maps (shared levels) or first-layer filters as a PNG")
    add_model_arguments(parser)
    parser.add_argument("--image", required=True, help="image file")
    parser.add_argument("--layer", required=True, help="layer name (see `deconvviz layers`)")
    parser.add_argument("--sort", default="index", choices=["index", "max"], help="channel order (default: index)")
    parser.add_argument("--filters", action="store_true", help="show the first convolution's filters instead")
    parser.add_argument("--out", required=True, help="PNG to write")
    parser.set_defaults(run=run)


def run(args) -> int:
    from ..data.images import load_image
    from ..engine.probe import probe
    from ..errors import DeconvvizError
    from ..figures.feature_maps import layer_maps, layer_panel
    from ..figures.png import save_panel
    from ..models import load_model

    model = load_model(args.model, args.weights, args.device, download=args.download)
    x = model.preprocess(load_image(args.image))
    result = probe(model.net, x, keep=[args.layer])
    if args.layer not in result.activations:
        valid = ", ".join(r.name for r in result.records[:12])
        raise DeconvvizError(f"unknown layer {args.layer!r} (valid: {valid}, ...; `deconvviz layers` lists them all)")
    maps = layer_maps(result.activations[args.layer], result.record(args.layer).layout)
    panel = layer_panel(model, maps, result.records, args.layer, args.image, args.sort, args.filters,
                        shell_command(args.argv))
    save_panel(panel, args.out)
    print(f"wrote {args.out}")
    return 0
