"""``deconvviz video``: classify every frame (or one in N) of a video file; optionally a panel per frame.

Writes one CSV row per analysed frame (``frame``, ``time_s``, ``class``, ``label``, ``p``) and, with
``--out``, the frame's panel (the frame, the layer's maps or the channel's projection, the top-5) as a
video file (by suffix: .mp4, .mkv, .mov, .avi, .webm) or, for any other name, a folder of PNGs.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from . import add_model_arguments, shell_command
from ..errors import DeconvvizError

CSV_HEADER = ["frame", "time_s", "class", "label", "p"]


def add_parser(sub) -> None:
    parser = sub.add_parser("video", help="classify a video's frames (CSV), optionally a panel per frame")
    add_model_arguments(parser)
    parser.add_argument("--video", required=True, help="video file (anything FFmpeg reads: .mp4, .mkv, .webm, ...)")
    parser.add_argument("--csv", required=True, help="CSV to write: frame, time_s, class, label, p")
    parser.add_argument("--every", type=int, default=1, metavar="N", help="analyse one frame in N (default: every frame)")
    parser.add_argument("--layer", help="layer whose feature maps each panel shows (see `deconvviz layers`)")
    parser.add_argument("--channel", type=int, help="with --layer: show this channel's strongest activation projected")
    parser.add_argument("--mode", default="deconvnet", choices=["deconvnet", "guided", "backprop"],
                        help="the projection's rule at rectifiers (default: deconvnet)")
    parser.add_argument("--out", help="panels: a video file (.mp4, .mkv, .mov, .avi, .webm) or a folder of PNGs")
    parser.set_defaults(run=run)


@dataclass(frozen=True)
class VideoOptions:
    """The command's arguments, checked."""

    model: str
    weights: str | None
    device: str
    video: Path
    csv: Path
    every: int
    layer: str | None
    channel: int | None
    mode: str
    out: Path | None
    command: str


def options(args) -> VideoOptions:
    """Return the checked options of a parsed command line (DeconvvizError for bad combinations)."""
    if args.every < 1:
        raise DeconvvizError(f"--every must be at least 1, got {args.every}")
    if args.channel is not None and args.layer is None:
        raise DeconvvizError("--channel needs --layer")
    return VideoOptions(args.model, args.weights, args.device, Path(args.video), Path(args.csv), args.every,
                        args.layer, args.channel, args.mode, Path(args.out) if args.out else None,
                        shell_command(args.argv))


def run(args) -> int:
    from ..analyses.frames import FrameAnalyser
    from ..data.video import open_video
    from ..models import load_model
    from ..tables import write_csv
    from ._args import progress_printer

    opts = options(args)
    source = open_video(opts.video)  # not a video: one line naming it, before anything is loaded or written
    try:
        model = load_model(opts.model, opts.weights, opts.device)
        analyse = FrameAnalyser(model, opts.layer, opts.channel, opts.mode)
        total = -(-source.frame_count // opts.every) if source.frame_count else 0
        show = progress_printer("frames")
        rows = []
        with _PanelSink(opts, source.fps) as sink:
            for frame in source.frames():
                if frame.index % opts.every:
                    continue
                result = analyse(frame.image())
                top = result.top
                rows.append([frame.index, f"{frame.time_s:.6f}", top, model.class_name(top), float(result.probs[top])])
                if sink is not None:
                    sink(model, result, frame)
                show(len(rows), max(total, len(rows)))
        if not rows:
            raise DeconvvizError(f"{opts.video.name}: no frame was decoded")
        write_csv(opts.csv, CSV_HEADER, rows)
    finally:
        source.close()
    for warning in source.warnings:
        print(f"deconvviz: warning: {warning}", file=sys.stderr)
    print(f"wrote {opts.csv} ({len(rows)} frames)" + (f" and {opts.out}" if opts.out else ""))
    return 0


class _PanelSink:
    """Context manager yielding ``write(model, analysis, frame)`` for ``--out`` (or None without it)."""

    def __init__(self, opts: VideoOptions, fps: float | None) -> None:
        self.opts, self.fps = opts, fps
        self._writer = None

    def __enter__(self):
        from ..data.video_writer import is_video_path, video_writer
        from ..figures.png import save_panel
        from ..figures.video import frame_panel

        o = self.opts
        if o.out is None:
            return None

        def panel(model, analysis, frame):
            return frame_panel(model, analysis, o.video, frame.index, frame.time_s, o.layer, o.channel, o.command)

        if is_video_path(o.out):
            # panels at the analysed frames' rate, so the panel video lasts as long as the clip
            fps = (self.fps or 25.0) / o.every
            self._writer = video_writer(o.out, fps)
            write = self._writer.__enter__()
            return lambda model, analysis, frame: write(panel(model, analysis, frame).captioned())
        if o.out.exists() and not o.out.is_dir():
            raise DeconvvizError(f"--out {o.out} exists and is not a folder (a video needs one of "
                                 f".mp4, .mkv, .mov, .avi, .webm)")
        return lambda model, analysis, frame: save_panel(panel(model, analysis, frame),
                                                         o.out / f"frame-{frame.index:06d}.png")

    def __exit__(self, *exc):
        if self._writer is not None:
            return self._writer.__exit__(*exc)
        return False

