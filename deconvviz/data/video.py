"""Video frames behind one Qt-free interface: RGB uint8 frames (H, W, 3) with their 0-based index and time.

:class:`VideoFile` decodes a file with PyAV (whose wheels bundle FFmpeg); :class:`MemoryFrames` serves
frames held in memory or produced by any iterable (tests, generated clips). The app's camera adapts Qt's
``QVideoSink`` frames to the same :class:`FrameSource` shape. Frames are pictures like any image: a model
sees them through ``model.preprocess(frame.image())``, the same resize-and-crop as a photo (so a 4K or a
portrait frame is resized on its shorter side and centre-cropped).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Protocol, Sequence

import numpy as np
from PIL import Image

from ..errors import DeconvvizError
from ..paths import bundled

# what a file dialog offers as videos (FFmpeg reads more; any file may be tried)
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".ogv", ".gif")


@dataclass(frozen=True)
class Frame:
    """One frame: ``pixels`` RGB uint8 (H, W, 3), its 0-based ``index`` in the source and its ``time_s``."""

    pixels: np.ndarray
    index: int
    time_s: float

    def image(self) -> Image.Image:
        """Return the frame as an RGB PIL image (what ``model.preprocess`` takes)."""
        return Image.fromarray(self.pixels, "RGB")


class FrameSource(Protocol):
    """Frames in order, with what is known of the whole: ``fps``, ``frame_count``, ``duration_s`` (None if unknown).

    ``warnings`` collects one-line messages about the frames read so far (a truncated file, undecodable packets).
    """

    name: str
    fps: float | None
    frame_count: int | None
    duration_s: float | None
    warnings: list[str]

    def frames(self, start: int = 0) -> Iterator[Frame]: ...

    def seek(self, time_s: float) -> Frame: ...

    def frames_from(self, time_s: float) -> Iterator[Frame]: ...

    def close(self) -> None: ...


def _rgb(pixels: np.ndarray, what: str) -> np.ndarray:
    a = np.asarray(pixels)
    if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 3 or a.shape[0] < 1 or a.shape[1] < 1:
        raise DeconvvizError(f"{what}: a frame must be RGB uint8 of shape (H, W, 3), got {a.dtype} {a.shape}")
    a = np.ascontiguousarray(a).view()  # a view: the caller's own array stays writeable
    a.flags.writeable = False
    return a


@dataclass
class MemoryFrames:
    """Frames from a sequence (seekable) or any iterable (read once) of RGB uint8 arrays, at ``fps``."""

    name: str
    source: Sequence[np.ndarray] | Iterable[np.ndarray]
    fps: float = 30.0
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.fps or self.fps <= 0:
            raise DeconvvizError(f"{self.name}: fps must be positive, got {self.fps}")

    @property
    def frame_count(self) -> int | None:
        """Return the number of frames (None for a one-pass iterable)."""
        return len(self.source) if isinstance(self.source, Sequence) else None

    @property
    def duration_s(self) -> float | None:
        """Return frame_count / fps (None for a one-pass iterable)."""
        n = self.frame_count
        return None if n is None else n / self.fps

    def frames(self, start: int = 0) -> Iterator[Frame]:
        """Yield the frames from index ``start`` on; frame i is at time i / fps."""
        if isinstance(self.source, Sequence):
            for i in range(start, len(self.source)):
                yield Frame(_rgb(self.source[i], self.name), i, i / self.fps)
            return
        for i, pixels in enumerate(self.source):
            if i >= start:
                yield Frame(_rgb(pixels, self.name), i, i / self.fps)

    def seek(self, time_s: float) -> Frame:
        """Return the frame shown at ``time_s`` (clamped to the clip); DeconvvizError for a one-pass iterable."""
        n = self.frame_count
        if n is None:
            raise DeconvvizError(f"{self.name} cannot seek (a live stream)")
        if n == 0:
            raise DeconvvizError(f"{self.name} holds no frames")
        i = min(n - 1, max(0, int(time_s * self.fps + 1e-9)))
        return Frame(_rgb(self.source[i], self.name), i, i / self.fps)

    def frames_from(self, time_s: float) -> Iterator[Frame]:
        """Yield the frame :meth:`seek` returns for ``time_s``, then the frames after it."""
        first = self.seek(time_s)
        yield first
        yield from self.frames(first.index + 1)

    def close(self) -> None:
        """Nothing to release."""


class VideoFile:
    """A video file decoded with PyAV: its first video stream, as RGB frames.

    Opening decodes the first frame, so a file that is not a video (random bytes, a text file renamed .mp4,
    a container without a video stream or without one decodable frame) raises DeconvvizError naming it.
    A frame's ``index`` is its place in the file: ``round(time * fps)`` where the file has a frame rate and
    times (so a frame lost to damage leaves a gap), else its place in decoding order; for the
    constant-frame-rate files that cameras and encoders write, both are the same.
    """

    def __init__(self, path: str | Path) -> None:
        import av

        self.path = bundled(path)
        self.name = self.path.name
        self.warnings: list[str] = []
        if not self.path.is_file():
            raise DeconvvizError(f"video not found: {self.path}")
        av.logging.set_level(None)  # FFmpeg's own log lines would bury the one-line message
        try:
            self._container = av.open(str(self.path))
        except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError) as exc:
            raise DeconvvizError(f"{self.name} is not a video deconvviz can read ({_reason(exc)})") from None
        if not self._container.streams.video:
            self._container.close()
            raise DeconvvizError(f"{self.name} holds no video stream (it is not a video)")
        stream = self._container.streams.video[0]
        self._stream = stream
        rate = stream.average_rate or stream.guessed_rate
        self.fps: float | None = float(rate) if rate else None
        self._start = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
        if stream.duration is not None and stream.time_base:
            self.duration_s: float | None = float(stream.duration * stream.time_base)
        elif self._container.duration:
            self.duration_s = self._container.duration / 1_000_000
        else:
            self.duration_s = None
        declared = stream.frames or None
        if declared is None and self.duration_s and self.fps:
            declared = max(1, round(self.duration_s * self.fps))
        self.frame_count: int | None = declared
        try:
            first = next(self._decode(), None)
        except DeconvvizError:
            first = None
        if first is None:
            self.close()
            raise DeconvvizError(f"{self.name} is not a video deconvviz can read (no frame could be decoded)")
        self.height, self.width = _upright(first, self.name).shape[:2]  # as displayed (after any rotation)
        self.warnings.clear()

    def __enter__(self) -> "VideoFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the file (frames already returned stay valid)."""
        self._container.close()

    def _decode(self) -> Iterator:
        """Yield PyAV frames from the current position, skipping packets that fail to decode (noted)."""
        import av

        failures, last_error = 0, None
        try:
            for packet in self._container.demux(self._stream):
                try:
                    decoded = packet.decode()
                except av.FFmpegError as exc:  # a damaged packet: later ones may still decode
                    failures, last_error = failures + 1, exc
                    continue
                yield from decoded
        except av.FFmpegError as exc:  # the demuxer itself gave up (a cut file)
            failures, last_error = failures + 1, exc
        if failures:
            self.warnings.append(f"{self.name}: {failures} part(s) of the file could not be decoded "
                                 f"(truncated or corrupt?): {_reason(last_error)}")

    def _rewind(self) -> None:
        """Go back to the first frame (reopening the file where the container cannot seek)."""
        import av

        try:
            self._container.seek(0)
        except av.FFmpegError:
            self._container.close()
            self._container = av.open(str(self.path))
            self._stream = self._container.streams.video[0]

    def _time(self, frame, fallback: float) -> float:
        return float(frame.time) - self._start if frame.time is not None else fallback

    def frames(self, start: int = 0) -> Iterator[Frame]:
        """Yield the frames from index ``start`` on, decoding from the beginning of the file.

        At the end, a file that stops short of its declared length (truncated) adds a line to ``warnings``.
        """
        self._rewind()
        self.warnings.clear()
        count, last, index = 0, None, -1
        for count, frame in enumerate(self._decode(), 1):
            last = self._time(frame, (count - 1) / (self.fps or 1.0))
            # the frame's place in the file: from its time where the rate is known (a frame lost to damage
            # leaves a gap rather than shifting every later index), else its place in decoding order
            index = max(index + 1, round(last * self.fps)) if self.fps and frame.time is not None else index + 1
            if index >= start:
                yield Frame(_upright(frame, self.name), index, last)
        self._check_complete(count, last)

    def _check_complete(self, decoded: int, last: float | None) -> None:
        if any("could not be decoded" in w for w in self.warnings) or not self.fps:
            return
        declared_end = self.duration_s
        # slack of a frame and a half plus 0.1 s: containers round durations to their own time base
        if declared_end is not None and last is not None and last + 1.5 / self.fps + 0.1 < declared_end:
            self.warnings.append(f"{self.name}: decoding ended after {decoded} frames at {last:.2f} s of the "
                                 f"{declared_end:.2f} s the file declares (truncated?)")

    def seek(self, time_s: float) -> Frame:
        """Return the frame shown at ``time_s`` seconds (clamped to the file): the last frame starting at or
        before it. Raises DeconvvizError when nothing decodes there."""
        return next(self.frames_from(time_s))

    def frames_from(self, time_s: float) -> Iterator[Frame]:
        """Yield the frame shown at ``time_s`` (as :meth:`seek` returns it), then the frames after it, decoding
        from the keyframe before it (playback after a seek). Raises DeconvvizError when nothing decodes there."""
        import av

        time_s = max(0.0, float(time_s))
        stream = self._stream
        try:
            self._container.seek(int((time_s + self._start) / stream.time_base), stream=stream, backward=True)
        except av.FFmpegError:
            self._rewind()
        period = 1.0 / (self.fps or 30.0)
        decoded = self._decode()
        target = None
        for frame in decoded:
            t = self._time(frame, 0.0)
            if target is not None and t > time_s + 1e-6:
                break  # ``frame`` is the one after the target: yielded below
            target, frame = (frame, t), None
            if t + period > time_s + 1e-6:
                break
        if target is None:
            raise DeconvvizError(f"{self.name}: no frame decodes at {time_s:.2f} s")
        index = round(target[1] * self.fps) if self.fps else 0
        yield Frame(_upright(target[0], self.name), index, target[1])
        following = ([frame] if frame is not None else [])
        for frame in itertools.chain(following, decoded):
            t = self._time(frame, (index + 1) * period)
            index = max(index + 1, round(t * self.fps)) if self.fps and frame.time is not None else index + 1
            yield Frame(_upright(frame, self.name), index, t)


def _upright(frame, name: str) -> np.ndarray:
    """Return a PyAV frame as RGB uint8 (H, W, 3), turned as its display matrix says (phones store portrait
    video as landscape pictures plus a rotation)."""
    pixels = frame.to_ndarray(format="rgb24")
    quarter_turns = round((getattr(frame, "rotation", 0) or 0) / 90) % 4  # counter-clockwise, as np.rot90
    return _rgb(np.rot90(pixels, quarter_turns) if quarter_turns else pixels, name)


def _reason(exc) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return str(text).split(": '")[0].strip() or type(exc).__name__


def open_video(path: str | Path) -> VideoFile:
    """Return the video file at ``path`` opened for reading (DeconvvizError naming it if it is not a video)."""
    return VideoFile(path)


def read_frame(path: str | Path, index: int) -> Frame:
    """Return frame ``index`` (0-based, its place in the file as :class:`VideoFile` numbers it and ``deconvviz
    video``'s CSV writes it) of the video at ``path``: seek to ``index / fps``, then decode on to the frame of
    that index; the same decoding the app's player does, so the same pixels.

    DeconvvizError naming the file if it is not a video, and naming the valid range for an index it lacks
    (negative, past the end, or lost to damage).
    """
    with open_video(path) as video:
        last = None
        if index >= 0:
            try:
                frames = video.frames_from(index / video.fps) if video.fps else video.frames()
                for frame in frames:
                    if frame.index == index:
                        return frame
                    last = frame.index
                    if frame.index > index:
                        break
            except DeconvvizError:
                pass
        if last is not None and last > index:
            raise DeconvvizError(f"{video.name} has no frame {index} (lost to damage?)")
        # past the end the seek lands on the last frame, so ``last`` is the last index
        last = last if last is not None else (video.frame_count - 1 if video.frame_count else None)
        valid = f"0 to {last}" if last is not None and last >= 0 else "unknown"
        raise DeconvvizError(f"{video.name} has no frame {index} (its frames: {valid})")
