"""``deconvviz occlusion``: the occlusion sensitivity map (Zeiler & Fergus Fig. 7) as a PNG panel and .npy."""

from __future__ import annotations

import sys

from . import add_model_arguments, shell_command


def add_parser(sub) -> None:
    parser = sub.add_parser("occlusion", help="occlusion sensitivity map: p(target) as a grey square slides over the image")
    add_model_arguments(parser)
    parser.add_argument("--image", required=True, help="image file")
    parser.add_argument("--patch", type=int, help="side of the grey square in input pixels (default: 32 at 224 px, 6 at 28 px)")
    parser.add_argument("--stride", type=int, help="step between square positions (default: a quarter of the patch)")
    parser.add_argument("--fill", type=float, help="grey level of the square, 0..1 (default: the data set's mean pixel)")
    parser.add_argument("--target", help="class index or name whose probability is mapped (default: the top class)")
    parser.add_argument("--layer", help="feature layer for panels (b) and (c) (default: the last conv block)")
    parser.add_argument("--out", required=True, help="PNG to write")
    parser.add_argument("--npy", help="also write p(target) as float32 (ny, nx), entry [i, j] for the square at (i*S, j*S)")
    parser.set_defaults(run=run)


def run(args) -> int:
    from ..api import occlusion_map, parse_target
    from ..data.images import load_image
    from ..engine.deconv import project
    from ..figures.occlusion import occlusion_panel
    from ..figures.png import save_panel
    from ..models import load_model
    from ..npy import save_npy

    model = load_model(args.model, args.weights, args.device, download=args.download)
    x = model.preprocess(load_image(args.image))
    target = parse_target(model, args.target)
    result = occlusion_map(model, x, patch=args.patch, stride=args.stride, fill=args.fill, target=target,
                           layer=args.layer, progress=_progress if sys.stderr.isatty() else None)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    projection = project(model.net, x, result.layer, result.channel)
    panel = occlusion_panel(model, x, result, projection, image_name=args.image, command=shell_command(args.argv))
    save_panel(panel, args.out)
    if args.npy:
        save_npy(args.npy, result.prob)
    i, j = divmod(int(result.prob.argmin()), result.prob.shape[1])
    print(f"p({model.class_name(result.target)}) = {result.base_prob:.3f} unoccluded; lowest {result.prob.min():.3f} "
          f"with the square at ({i * result.stride}, {j * result.stride}) [{result.method}]")
    print(f"wrote {args.out}" + (f" and {args.npy}" if args.npy else ""))
    return 0


def _progress(done: int, total: int) -> None:
    print(f"\roccluding: {done}/{total} positions", end="", file=sys.stderr, flush=True)
