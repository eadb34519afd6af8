"""``deconvviz project``: project a layer's activation(s) back to pixel space and write a PNG."""

from __future__ import annotations


from . import add_model_arguments, parse_position, shell_command


def add_parser(sub) -> None:
    parser = sub.add_parser("project", help="deconvnet projection of an activation, a feature map or its top-k")
    add_model_arguments(parser)
    parser.add_argument("--image", required=True, help="image file")
    parser.add_argument("--layer", required=True, help="layer name (see `deconvviz layers`)")
    parser.add_argument("--channel", required=True, type=int, help="channel (feature map) index, 0-based")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--position", type=parse_position, help="ROW,COL of the activation (default: the strongest)")
    which.add_argument("--map", action="store_true", help="project the whole feature map")
    which.add_argument("--top-k", type=int, metavar="K", help="project each of the K strongest activations")
    parser.add_argument("--mode", default="deconvnet", choices=["deconvnet", "guided", "backprop"])
    parser.add_argument("--out", required=True, help="PNG to write")
    parser.add_argument("--npy", help="also write the raw float32 projection (C, H, W) of the first activation")
    parser.set_defaults(run=run)


def run(args) -> int:
    from ..data.images import load_image
    from ..engine.deconv import project
    from ..figures.projections import projection_panel
    from ..figures.png import save_panel
    from ..models import load_model
    from ..npy import save_npy

    model = load_model(args.model, args.weights, args.device, download=args.download)
    x = model.preprocess(load_image(args.image))
    result = project(model.net, x, args.layer, args.channel, args.position, args.mode, args.map, args.top_k)
    panel = projection_panel(model, x, result, image_name=args.image, command=shell_command(args.argv))
    save_panel(panel, args.out)
    if args.npy:
        save_npy(args.npy, result.images[0].cpu().numpy())
    print(f"wrote {args.out}" + (f" and {args.npy}" if args.npy else ""))
    return 0
