"""``deconvviz sanity``: the model-parameter randomisation test (Adebayo et al. 2018) as a PNG and CSV."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import DeconvvizError
from . import add_model_arguments, parse_position, shell_command
from ._args import progress_printer

METHODS = ("deconvnet", "guided", "backprop", "saliency")


def add_parser(sub) -> None:
    parser = sub.add_parser("sanity", help="do the projections and saliency change when the weights are randomised?")
    add_model_arguments(parser)
    parser.add_argument("--image", required=True, help="image file")
    parser.add_argument("--layer", help="layer whose channel's strongest activation is explained")
    parser.add_argument("--channel", type=int, help="channel of --layer")
    parser.add_argument("--position", help="ROW,COL of the activation (default: the strongest, on the learnt weights)")
    parser.add_argument("--class", dest="class_index", help="class index or name whose score is explained "
                                                            "(default, with no --layer: the top class)")
    parser.add_argument("--methods", default=",".join(METHODS), help=f"comma-separated, of {','.join(METHODS)}")
    parser.add_argument("--test", default="cascading", choices=["cascading", "independent"],
                        help="cascading: re-initialise from the top layer down, cumulatively; independent: one at a time")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights")
    parser.add_argument("--csv", required=True, help="CSV to write: method, randomised, spearman, ssim, spearman_signed, hog, step, test")
    parser.add_argument("--out", required=True, help="PNG to write")
    parser.set_defaults(run=run)


@dataclass(frozen=True)
class SanityRequest:
    """The validated arguments of one ``deconvviz sanity`` run."""

    model: str
    weights: str | None
    device: str
    image: str
    layer: str | None
    channel: int | None
    position: tuple[int, int] | None
    class_text: str | None
    methods: tuple[str, ...]
    test: str
    seed: int
    csv: str
    out: str


def parse_request(args) -> SanityRequest:
    """Return the SanityRequest for parsed arguments; DeconvvizError for a contradictory or invalid one."""
    methods = tuple(m.strip() for m in args.methods.split(",") if m.strip())
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        raise DeconvvizError(f"unknown method {bad[0] if bad else '(none)'!r}; valid: {', '.join(METHODS)}")
    if len(set(methods)) != len(methods):
        raise DeconvvizError(f"--methods names a method twice: {args.methods}")
    if args.layer is not None and args.class_index is not None:
        raise DeconvvizError("give either --layer L --channel C, or --class K, not both")
    if (args.layer is None) != (args.channel is None):
        raise DeconvvizError("--layer and --channel go together")
    if args.position is not None and args.layer is None:
        raise DeconvvizError("--position needs --layer and --channel")
    if Path(args.csv).resolve() == Path(args.out).resolve():
        raise DeconvvizError("--csv and --out name the same file")
    position = parse_position(args.position) if args.position is not None else None
    return SanityRequest(args.model, args.weights, args.device, args.image, args.layer, args.channel, position,
                         args.class_index, methods, args.test, args.seed, args.csv, args.out)


def run(args) -> int:
    from ..analyses.sanity import sanity_check, sanity_rows, verdicts
    from ..api import parse_target
    from ..data.images import load_image
    from ..figures.png import save_panel
    from ..figures.sanity import sanity_panel
    from ..models import load_model
    from ..tables import write_csv

    request = parse_request(args)
    model = load_model(request.model, request.weights, request.device)
    x = model.preprocess(load_image(request.image))
    class_index = parse_target(model, request.class_text)
    result = sanity_check(model, x, request.layer, request.channel, request.position, class_index, request.methods,
                          request.test, request.seed, progress=progress_printer("randomised layers"))
    header, rows = sanity_rows(result)
    panel = sanity_panel(model, x, result, request.image, shell_command(args.argv))
    write_both(lambda: save_panel(panel, request.out), lambda: write_csv(request.csv, header, rows), request.out)
    for line in verdicts(result):
        print(line)
    if result.skipped:
        print(f"not re-initialised (no reset_parameters): {', '.join(result.skipped)}", file=sys.stderr)
    print(f"wrote {request.out} and {request.csv}")
    return 0


def write_both(first, second, first_path: str) -> None:
    """Write two files (``first()``, then ``second()``); when the second fails, remove the first: all or nothing."""
    first()
    try:
        second()
    except BaseException:
        Path(first_path).unlink(missing_ok=True)
        raise
