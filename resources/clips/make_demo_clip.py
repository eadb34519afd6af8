"""Make ``demo.mp4``: a slow pan and zoom over each bundled photo (resources/photos, public domain / CC0).

    python resources/clips/make_demo_clip.py            # writes resources/clips/demo.mp4
    python resources/clips/make_demo_clip.py out.mp4 --seconds 60

Each photo is shown for an equal share of the clip: a 4:3 window starts on the whole photo and closes in
by a third towards a point of interest while it drifts, so a classifier's answer changes as the object
fills the frame. Needs PyAV (a deconvviz dependency) and Pillow.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
PHOTOS = HERE.parent / "photos"
# photo, and where the zoom heads (fractions of width, height)
SHOTS = [("coffee.png", (0.45, 0.45)), ("chelsea.png", (0.4, 0.4)), ("astronaut.png", (0.45, 0.35)),
         ("rocket.jpg", (0.5, 0.55))]
SIZE = (320, 240)
FPS = 15


def _window(photo: Image.Image, t: float, focus: tuple[float, float]) -> tuple[float, float, float, float]:
    """Return the crop box (left, top, right, bottom) at progress ``t`` on [0, 1]: the largest 4:3 box,
    shrunk by up to a third and moved from the centre towards ``focus``."""
    w, h = photo.size
    aspect = SIZE[0] / SIZE[1]
    bw, bh = (w, w / aspect) if w / h < aspect else (h * aspect, h)
    ease = 0.5 - 0.5 * np.cos(np.pi * t)  # slow in, slow out
    scale = 1.0 - ease / 3
    bw, bh = bw * scale, bh * scale
    cx = w / 2 + (focus[0] * w - w / 2) * ease
    cy = h / 2 + (focus[1] * h - h / 2) * ease
    cx = min(max(cx, bw / 2), w - bw / 2)
    cy = min(max(cy, bh / 2), h - bh / 2)
    return cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2


def demo_frames(seconds: float = 16.0, fps: int = FPS, size: tuple[int, int] = SIZE):
    """Yield the clip's frames, RGB uint8 (H, W, 3), ``seconds * fps`` of them."""
    total = max(1, round(seconds * fps))
    photos = [(Image.open(PHOTOS / name).convert("RGB"), focus) for name, focus in SHOTS]
    for i in range(total):
        shot, within = divmod(i * len(photos) / total, 1.0)
        photo, focus = photos[int(shot)]
        box = _window(photo, within, focus)
        yield np.asarray(photo.resize(size, Image.BICUBIC, box=box))


def write_clip(path: Path, seconds: float = 16.0, fps: int = FPS) -> Path:
    """Write the demo clip (H.264 in MP4) to ``path`` and return it."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
        stream.options = {"crf": "26", "preset": "slow"}
        for pixels in demo_frames(seconds, fps):
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=str(HERE / "demo.mp4"))
    parser.add_argument("--seconds", type=float, default=16.0)
    parser.add_argument("--fps", type=int, default=FPS)
    args = parser.parse_args(argv)
    path = write_clip(Path(args.out), args.seconds, args.fps)
    print(f"wrote {path} ({path.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
