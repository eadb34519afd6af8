"""``deconvviz saliency``: gradient saliency |d score / d image| of a class."""

from __future__ import annotations

from . import add_model_arguments, shell_command


def add_parser(sub) -> None:
    parser = sub.add_parser("saliency", help="gradient saliency map of a class for an image")
    add_model_arguments(parser)
    parser.add_argument("--image", required=True, help="image file")
    parser.add_argument("--target", type=int, help="class index (default: the top class)")
    parser.add_argument("--out", required=True, help="PNG to write")
    parser.add_argument("--npy", help="also write the map (H, W) as float32 .npy")
    parser.set_defaults(run=run)


def run(args) -> int:
    from ..analyses.actmax import class_saliency
    from ..data.images import load_image
    from ..figures.png import save_panel
    from ..figures.saliency import saliency_panel
    from ..models import load_model
    from ..npy import save_npy

    model = load_model(args.model, args.weights, args.device, download=args.download)
    x = model.preprocess(load_image(args.image))
    s = class_saliency(model, x, args.target)
    save_panel(saliency_panel(model, x, s, args.image, shell_command(args.argv)), args.out)
    if args.npy:
        save_npy(args.npy, s.map.cpu().numpy())
    print(f"class {s.target} ({model.class_name(s.target)}), p = {s.probability:.3f}; wrote {args.out}"
          + (f" and {args.npy}" if args.npy else ""))
    return 0
