"""Writing RGB frames to a video file with PyAV, atomically (a failed or interrupted run leaves no file)."""

from __future__ import annotations

import contextlib
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from ..atomic import atomic_path
from ..errors import DeconvvizError

# container (by suffix) -> (FFmpeg muxer, codec, pixel format)
_FORMATS = {
    ".mp4": ("mp4", "libx264", "yuv420p"),
    ".m4v": ("mp4", "libx264", "yuv420p"),
    ".mov": ("mov", "libx264", "yuv420p"),
    ".mkv": ("matroska", "libx264", "yuv420p"),
    ".avi": ("avi", "mpeg4", "yuv420p"),
    ".webm": ("webm", "libvpx-vp9", "yuv420p"),
}
VIDEO_OUT_SUFFIXES = tuple(_FORMATS)


def is_video_path(path: str | Path) -> bool:
    """Return whether ``path``'s suffix names a container :func:`video_writer` can write."""
    return Path(path).suffix.lower() in _FORMATS


def _even(pixels: np.ndarray, height: int, width: int) -> np.ndarray:
    """Return ``pixels`` padded with white to (height, width): yuv420p needs even sizes."""
    h, w = pixels.shape[:2]
    if (h, w) == (height, width):
        return np.ascontiguousarray(pixels)
    out = np.full((height, width, 3), 255, np.uint8)
    out[:min(h, height), :min(w, width)] = pixels[:height, :width]
    return out


@contextlib.contextmanager
def video_writer(path: str | Path, fps: float, crf: int = 23, options: dict | None = None) -> Iterator:
    """Yield ``write(pixels)`` that appends one RGB uint8 frame (H, W, 3) to the video at ``path``.

    The first frame fixes the size (rounded up to even; later frames are padded or cut to it). The file
    appears only when the block ends without an error. Raises DeconvvizError for an unknown suffix or
    when the folder cannot be written.
    """
    import av

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _FORMATS:
        raise DeconvvizError(f"cannot write video {path.name}: use one of {', '.join(_FORMATS)}")
    muxer, codec, pix_fmt = _FORMATS[suffix]
    rate = Fraction(fps).limit_denominator(1001)
    with atomic_path(path) as tmp:
        try:
            container = av.open(str(tmp), "w", format=muxer)
        except av.FFmpegError as exc:
            raise DeconvvizError(f"cannot write {path}: {exc}") from None
        state: dict = {}
        try:
            def write(pixels: np.ndarray) -> None:
                if "stream" not in state:
                    h, w = pixels.shape[:2]
                    stream = container.add_stream(codec, rate=rate)
                    stream.width, stream.height, stream.pix_fmt = w + w % 2, h + h % 2, pix_fmt
                    if codec == "libx264":
                        stream.options = {"crf": str(crf), **(options or {})}
                    elif options:
                        stream.options = dict(options)
                    state["stream"] = stream
                stream = state["stream"]
                frame = av.VideoFrame.from_ndarray(_even(pixels, stream.height, stream.width), format="rgb24")
                for packet in stream.encode(frame):
                    container.mux(packet)

            yield write
            if "stream" in state:
                for packet in state["stream"].encode():
                    container.mux(packet)
        finally:
            container.close()
