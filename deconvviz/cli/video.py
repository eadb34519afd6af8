"""``deconvviz video``: classify every frame (or one in N) of a video file; optionally a panel per frame.

Writes one CSV row per analysed frame (``frame``, ``time_s``, ``class``, ``label``, ``p``) and, with
``--out``, the frame's panel (the frame, the layer's maps or the channel's projection, the top-5) as a
video file (by suffix: .mp4, .mkv, .mov, .avi, .webm) or, for any other name, a folder of PNGs.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import DeconvvizError
from ..session.recipes import VideoRecipe as RECIPE

CSV_HEADER = ["frame", "time_s", "class", "label", "p"]


def check(r: RECIPE) -> None:
    """Raise DeconvvizError for option values the parser cannot refuse on its own."""
    if r.every < 1:
        raise DeconvvizError(f"--every must be at least 1, got {r.every}")
    if r.channel is not None and r.layer is None:
        raise DeconvvizError("--channel needs --layer")


def run(r: RECIPE) -> int:
    from ..analyses.frames import FrameAnalyser
    from ..data.video import open_video
    from ..tables import write_csv
    from ._args import progress_printer

    check(r)
    source = open_video(r.video)  # not a video: one line naming it, before anything is loaded or written
    try:
        model = r.load_model()
        analyse = FrameAnalyser(model, r.layer, r.channel, r.mode)
        total = -(-source.frame_count // r.every) if source.frame_count else 0
        show = progress_printer("frames")
        rows = []
        with _PanelSink(r, source.fps) as sink:
            for frame in source.frames():
                if frame.index % r.every:
                    continue
                result = analyse(frame.image())
                top = result.top
                rows.append([frame.index, f"{frame.time_s:.6f}", top, model.class_name(top), float(result.probs[top])])
                if sink is not None:
                    sink(model, result, frame)
                show(len(rows), max(total, len(rows)))
        if not rows:
            raise DeconvvizError(f"{Path(r.video).name}: no frame was decoded")
        write_csv(r.csv, CSV_HEADER, rows)
    finally:
        source.close()
    for warning in source.warnings:
        print(f"deconvviz: warning: {warning}", file=sys.stderr)
    print(f"wrote {r.csv} ({len(rows)} frames)" + (f" and {r.out}" if r.out else ""))
    return 0


class _PanelSink:
    """Context manager yielding ``write(model, analysis, frame)`` for ``--out`` (or None without it)."""

    def __init__(self, r: RECIPE, fps: float | None) -> None:
        self.r, self.fps = r, fps
        self._writer = None

    def __enter__(self):
        from ..data.video_writer import is_video_path, video_writer
        from ..figures.png import save_panel
        from ..figures.video import frame_panel

        r = self.r
        if r.out is None:
            return None
        out, command = Path(r.out), r.shell()

        def panel(model, analysis, frame):
            return frame_panel(model, analysis, r.video, frame.index, frame.time_s, r.layer, r.channel, command)

        if is_video_path(out):
            # panels at the analysed frames' rate, so the panel video lasts as long as the clip
            self._writer = video_writer(out, (self.fps or 25.0) / r.every)
            write = self._writer.__enter__()
            return lambda model, analysis, frame: write(panel(model, analysis, frame).captioned())
        if out.exists() and not out.is_dir():
            raise DeconvvizError(f"--out {out} exists and is not a folder (a video needs one of "
                                 f".mp4, .mkv, .mov, .avi, .webm)")
        return lambda model, analysis, frame: save_panel(panel(model, analysis, frame),
                                                         out / f"frame-{frame.index:06d}.png")

    def __exit__(self, *exc):
        if self._writer is not None:
            return self._writer.__exit__(*exc)
        return False
