"""The input as a picture, read one way for the CLI, the app and its views: an image file, or frame N of a video.

``deconvviz COMMAND --image clip.mp4 --frame 12`` reads frame 12 with :func:`read_input`; the app holds the
frame it paused on and builds the same recipe. Both name the frame on the panel with :func:`frame_panel`, so
an exported PNG of a paused frame is the PNG its ``command`` writes, byte for byte.
"""

from __future__ import annotations

from pathlib import Path

from ..data.images import Picture, load_image
from ..figures.png import Panel
from .state import FrameInput


def read_input(path: str, frame: int | None = None) -> tuple[Picture, FrameInput | None]:
    """Return the picture ``path`` names (with ``frame``: that frame of the video ``path``) and, for a frame,
    which one it is (None for an image file). DeconvvizError for a file that cannot be read, or a frame the
    video lacks (naming the valid range)."""
    if frame is None:
        return Picture(Path(path).name, load_image(path)), None
    from ..data.video import read_frame

    got = read_frame(path, frame)
    where = FrameInput(str(path), got.index, got.time_s)
    return Picture(where.label(), got.image()), where


def frame_panel(panel: Panel, frame: FrameInput | None, command: bool = True) -> Panel:
    """Return ``panel`` naming the video frame it shows (None: the panel as it is): the frame's label in the
    caption and the ``image`` fact, and the video, frame index and time as facts of their own. ``command``
    False drops the regenerating command (a camera's frame: nothing can read it again)."""
    if frame is None:
        return panel
    caption = panel.caption
    for shown in (str(frame.video), Path(frame.video).name):  # panels name their input by path or by file name
        caption = caption.replace(f" · {shown}", "")
    caption += f" · {frame.label()}"
    facts = {k: v for k, v in panel.facts.items() if command or k != "command"}
    facts.update(image=frame.label(), video=frame.video, frame=str(frame.index), time_s=f"{frame.time_s:.6f}")
    return Panel(panel.pixels, caption, facts)

