"""``deconvviz faithfulness``: deletion and insertion curves (Petsiuk et al. 2018) of the occlusion and saliency maps."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import DeconvvizError
from . import add_model_arguments, shell_command

MAPS = ("occlusion", "saliency")


def add_parser(sub) -> None:
    parser = sub.add_parser("faithfulness", help="deletion/insertion curves of the occlusion and saliency maps")
    add_model_arguments(parser)
    parser.add_argument("--image", required=True, help="image file")
    parser.add_argument("--target", help="class index or name (default: the top class)")
    parser.add_argument("--maps", default=",".join(MAPS), help=f"comma-separated, of {','.join(MAPS)}")
    parser.add_argument("--steps", type=int, default=50, help="points along each curve after the first (default 50)")
    parser.add_argument("--random", type=int, default=3, dest="random_orders",
                        help="random pixel orders averaged for the baseline (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random orders")
    parser.add_argument("--patch", type=int, help="occluding square in pixels (default: as for occlusion)")
    parser.add_argument("--stride", type=int, help="step of the square (default: a quarter of the patch)")
    parser.add_argument("--csv", required=True, help="CSV to write: map, fraction, deletion, insertion, deletion_auc, insertion_auc")
    parser.add_argument("--out", required=True, help="PNG to write")
    parser.set_defaults(run=run)


@dataclass(frozen=True)
class FaithfulnessRequest:
    """The validated arguments of one ``deconvviz faithfulness`` run."""

    model: str
    weights: str | None
    device: str
    image: str
    target: str | None
    maps: tuple[str, ...]
    steps: int
    random_orders: int
    seed: int
    patch: int | None
    stride: int | None
    csv: str
    out: str


def parse_request(args) -> FaithfulnessRequest:
    """Return the FaithfulnessRequest for parsed arguments; DeconvvizError for an invalid one."""
    maps = tuple(m.strip() for m in args.maps.split(",") if m.strip())
    bad = [m for m in maps if m not in MAPS]
    if bad or not maps or len(set(maps)) != len(maps):
        raise DeconvvizError(f"--maps takes distinct names of {', '.join(MAPS)}, got {args.maps!r}")
    if not 1 <= args.steps <= 10_000:
        raise DeconvvizError(f"--steps must be 1..10000, got {args.steps}")
    if not 1 <= args.random_orders <= 100:
        raise DeconvvizError(f"--random must be 1..100, got {args.random_orders}")
    if Path(args.csv).resolve() == Path(args.out).resolve():
        raise DeconvvizError("--csv and --out name the same file")
    return FaithfulnessRequest(args.model, args.weights, args.device, args.image, args.target, maps, args.steps,
                               args.random_orders, args.seed, args.patch, args.stride, args.csv, args.out)


def run(args) -> int:
    from ..analyses.faithfulness import faithfulness_curves, faithfulness_rows
    from ..api import parse_target
    from ..data.images import load_image
    from ..figures.png import save_panel
    from ..figures.sanity import faithfulness_panel
    from ..models import load_model
    from ..tables import format_table, write_csv
    from .sanity import write_both

    request = parse_request(args)
    model = load_model(request.model, request.weights, request.device)
    x = model.preprocess(load_image(request.image))
    target = parse_target(model, request.target)
    result = faithfulness_curves(model, x, target, request.maps, request.steps, request.random_orders, request.seed,
                                 request.patch, request.stride)
    header, rows = faithfulness_rows(result)
    panel = faithfulness_panel(model, x, result, request.image, shell_command(args.argv))
    write_both(lambda: save_panel(panel, request.out), lambda: write_csv(request.csv, header, rows), request.out)
    summary = [[name, c.deletion_auc, c.insertion_auc] for name, c in result.curves.items()]
    print(format_table(["map", "deletion AUC", "insertion AUC"], summary))
    print(f"wrote {request.out} and {request.csv}")
    return 0
