"""Tiny video clips made inside the tests with PyAV's own encoder (nothing is downloaded or bundled)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def clip_frames(n: int = 32, width: int = 64, height: int = 48) -> list[np.ndarray]:
    """Return ``n`` RGB frames (height, width, 3): a bright bar sweeping over a shifting background."""
    frames = []
    yy, xx = np.mgrid[0:height, 0:width]
    for i in range(n):
        a = np.zeros((height, width, 3), np.uint8)
        a[..., 0] = (xx * 4 + i * 8) % 256
        a[..., 1] = (yy * 5) % 256
        a[..., 2] = (40 + i * 6) % 256
        bar = (i * 3) % width
        a[:, bar:bar + 6] = 250
        frames.append(a)
    return frames


def write_clip(path: Path, frames: list[np.ndarray], fps: int = 10, codec: str = "libx264",
               container_options: dict | None = None) -> Path:
    """Encode ``frames`` at ``fps`` into ``path`` (the container from its suffix, with FFmpeg's muxer
    ``container_options``) and return the path."""
    import av

    h, w = frames[0].shape[:2]
    with av.open(str(path), "w", options=container_options or {}) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        if codec == "libx264":
            stream.options = {"crf": "12"}
        for pixels in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def truncated_copy(path: Path, out: Path, keep: float = 0.6) -> Path:
    """Write the first ``keep`` share of ``path``'s bytes to ``out`` and return it (a cut download)."""
    data = path.read_bytes()
    out.write_bytes(data[: int(len(data) * keep)])
    return out


def rotate_mp4(path: Path, out: Path) -> Path:
    """Write a copy of the MP4 at ``path`` whose track says "turn 90 degrees clockwise to display" (as a
    phone writes portrait video): the tkhd box's display matrix, patched in place."""
    import struct

    data = bytearray(path.read_bytes())
    box = data.index(b"tkhd")
    # version 0 tkhd: type, version/flags, creation, modification, track id, reserved, duration, 8 reserved,
    # layer, alternate group, volume, reserved, then the 3x3 matrix in 16.16 / 2.30 fixed point
    matrix = box + 4 + 4 + 4 * 5 + 8 + 8
    assert struct.unpack(">9i", data[matrix:matrix + 36]) == (0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    data[matrix:matrix + 36] = struct.pack(">9i", 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)
    out.write_bytes(bytes(data))
    return out
