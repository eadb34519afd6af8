"""``deconvviz``: with no subcommand, the app; with one, a headless command.

Each subcommand lives in its own module here. A module with ``RECIPE`` (a class from
:mod:`deconvviz.session.recipes`) gets its options from that recipe and defines ``run(recipe) -> int``; a
module without one (``train``) defines ``add_parser(subparsers)``, whose parser sets ``run(args) -> int``.
Add a module's name to COMMANDS to make it a subcommand.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import DeconvvizError

COMMANDS = ["layers", "project", "train", "evaluate", "topk", "invariance", "correspondence", "saliency", "actmax",
            "featvis", "filters", "evolution", "occlusion", "maps", "video", "sanity", "faithfulness", "attribute"]


def _subcommand_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deconvviz",
        description="Look inside a convolutional network (Zeiler & Fergus 2014). "
                    "Run with no subcommand to open the app.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"{__name__}.{name.replace('-', '_')}")
        if hasattr(module, "RECIPE"):
            module.RECIPE.add_parser(sub).set_defaults(run=lambda args, m=module: m.run(m.RECIPE.from_args(args)))
        else:
            module.add_parser(sub)
    return parser


def parse_recipe(argv: list[str]):
    """Return the recipe that the subcommand argv ``argv`` parses to (through the very parser ``main`` uses)."""
    args = _subcommand_parser().parse_args(argv)
    return importlib.import_module(f"{__name__}.{args.command}").RECIPE.from_args(args)


def _app_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deconvviz",
        description="Open the deconvviz app. Headless subcommands: " + ", ".join(COMMANDS)
                    + " (deconvviz COMMAND --help).",
    )
    parser.add_argument("--model", help="model name (default: the last one used, else efficientnet-lite0)")
    parser.add_argument("--weights", help="weights file for the model")
    parser.add_argument("--image", help="image file to open")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--video", metavar="FILE", help="video file to open (paused on its first frame)")
    source.add_argument("--camera", metavar="N", type=int, nargs="?", const=0,
                        help="play camera N (Qt's order, default 0)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the app or a subcommand and return the process exit code (2 for bad input)."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv and argv[0] in COMMANDS + ["-h", "--help"]:
            args = _subcommand_parser().parse_args(argv)
            try:
                return args.run(args) or 0
            except Exception as exc:
                # A user's model (file.py:factory) may fail on a real image though it passed load_model's
                # check on a blank one: that is the user's code failing, so one line, not our traceback.
                model = str(getattr(args, "model", "") or "")
                if ".py:" not in model or isinstance(exc, DeconvvizError):
                    raise
                raise DeconvvizError(f"{model}: model raised {type(exc).__name__}: {exc}") from None
        args = _app_parser().parse_args(argv)
        from ..gui.app import run_app

        return run_app(model=args.model, weights=args.weights, image=args.image, video=args.video,
                       camera=args.camera)
    except DeconvvizError as exc:
        print(f"deconvviz: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("deconvviz: interrupted", file=sys.stderr)
        return 130


def entry() -> int:
    """The ``deconvviz`` program: :func:`main` in a process whose heap is held (:func:`deconvviz.engine.heap.hold`:
    the memory a computation used stays for the next one, measured 1.3-1.6 times faster for batched attributions)."""
    from ..engine.heap import hold

    hold()
    return main()
