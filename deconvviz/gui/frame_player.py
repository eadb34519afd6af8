"""A frame source played for the window: a video file decoded in the player's own thread, or a camera.

:class:`FramePlayer` lives on the UI thread. A file is opened, decoded and paced (one frame per 1/fps s) by a
decoder object in the player's QThread, so decoding never holds up the window; a camera
(:class:`~deconvviz.gui.camera.CameraFrames`) delivers its frames through Qt Multimedia's own threads.

Signals
-------
opened(object)
    A :class:`SourceInfo`: the source opened (a camera: with its first frame).
frame(object)
    A :class:`~deconvviz.data.video.Frame` while playing (each one delivered).
still(object)
    The Frame to hold still: the first after opening, the one paused on, a step, a seek while paused, the
    last one when the file ends or the camera goes away.
playing(bool)
    Playback started or stopped.
failed(str)
    A message: the file is not a video, a part does not decode, the camera went away. The source (and the
    last frame) stay as they were.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

from ..data.video import Frame, VideoFile
from ..errors import DeconvvizError


@dataclass(frozen=True)
class SourceInfo:
    """What is known of an opened source: its name (a video's path, a camera's description), frame rate,
    frame count and duration (None when unknown or live), picture size (width, height) and whether it seeks."""

    name: str
    fps: float | None
    frame_count: int | None
    duration_s: float | None
    size: tuple[int, int] | None
    seekable: bool


class _Decoder(QObject):
    """Lives in the player's thread: opens files, decodes them and paces playback with its own timer."""

    opened = Signal(object, object)  # (SourceInfo, first Frame)
    delivered = Signal(object)  # a Frame, while playing
    held = Signal(object)  # a Frame to hold still
    failed = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.video: VideoFile | None = None
        self._frames = None  # the iterator playback continues from
        self._ended = False
        self._timer = QTimer(self)  # a child: it moves to the thread with its parent
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)

    @Slot(str)
    def open(self, path: str) -> None:
        try:
            video = VideoFile(path)
            frames = video.frames_from(0.0)
            first = next(frames)
        except DeconvvizError as exc:
            self.failed.emit(str(exc))  # the current video, if any, stays open
            return
        self._close_video()
        self.video, self._frames, self._ended = video, frames, False
        info = SourceInfo(str(path), video.fps, video.frame_count, video.duration_s, (video.width, video.height),
                          True)
        self._timer.setInterval(max(1, round(1000 / (video.fps or 25.0))))
        self.opened.emit(info, first)

    @Slot()
    def play(self) -> None:
        if self.video is not None:
            if self._ended:  # played to the end: again from the start
                self._frames, self._ended = self.video.frames_from(0.0), False
            self._timer.start()

    @Slot()
    def pause(self) -> None:
        """Stop; the last frame delivered is held (the player knows it)."""
        self._timer.stop()
        self.held.emit(None)

    @Slot()
    def step(self) -> None:
        self._timer.stop()
        frame = self._next()
        self._ended = frame is None
        self.held.emit(frame)

    @Slot(float, bool)
    def seek(self, time_s: float, playing: bool) -> None:
        if self.video is None:
            return
        try:
            self._frames, self._ended = self.video.frames_from(time_s), False
            frame = next(self._frames)
        except DeconvvizError as exc:
            self.failed.emit(str(exc))
            return
        (self.delivered if playing else self.held).emit(frame)

    def _next(self) -> Frame | None:
        if self._frames is None:
            return None
        try:
            return next(self._frames)
        except StopIteration:
            return None
        except DeconvvizError as exc:
            self.failed.emit(str(exc))
            return None

    def _tick(self) -> None:
        frame = self._next()
        if frame is None:  # the end (or a part that does not decode): hold the last frame
            self._timer.stop()
            self._ended = True
            for warning in self.video.warnings if self.video is not None else ():
                self.failed.emit(warning)
            self.held.emit(None)
        else:
            self.delivered.emit(frame)

    @Slot()
    def close(self) -> None:
        self._timer.stop()
        self._close_video()

    def _close_video(self) -> None:
        if self.video is not None:
            self.video.close()
        self.video = self._frames = None


class FramePlayer(QObject):
    """Plays a video file or a camera as Frames (see the module docstring for the signals)."""

    opened = Signal(object)
    frame = Signal(object)
    still = Signal(object)
    playing = Signal(bool)
    failed = Signal(str)

    # the decoder's slots, called in its thread (queued)
    _open = Signal(str)
    _play = Signal()
    _pause = Signal()
    _step = Signal()
    _seek = Signal(float, bool)
    _close = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.info: SourceInfo | None = None
        self.last: Frame | None = None  # the newest frame delivered or held
        self.is_playing = False
        self.camera = None
        self._thread: QThread | None = None
        self._decoder: _Decoder | None = None

    # -- sources ----------------------------------------------------------------------------------------
    def open_video(self, path: str) -> None:
        """Open the video file at ``path`` (in the player's thread): ``opened`` and ``still`` (its first frame),
        or ``failed`` (and the current source stays)."""
        self._decoder_thread()
        self._open.emit(str(path))

    def open_camera(self, number: int = 0) -> None:
        """Open camera ``number`` (Qt's order) and play it: ``opened`` with its first frame, or ``failed``."""
        from .camera import CameraFrames, camera_support

        support = camera_support()
        if support.reason is not None or not 0 <= number < len(support.cameras):
            self.failed.emit(support.reason or f"no camera {number}: Qt sees {len(support.cameras)}")
            return
        self._stop_camera()
        if self._decoder is not None:
            self._close.emit()
        camera = self.camera = CameraFrames(number, self)
        camera.frame.connect(lambda frame: self._on_camera_frame(camera, frame, support.cameras[number]))
        camera.failed.connect(self._on_camera_failed)
        self.info = None
        self._set_playing(True)
        camera.start()

    def _decoder_thread(self) -> None:
        if self._thread is not None:
            return
        self._thread = QThread()
        self._thread.setObjectName("deconvviz-player")
        self._decoder = _Decoder()
        self._decoder.moveToThread(self._thread)
        self._open.connect(self._decoder.open)
        self._play.connect(self._decoder.play)
        self._pause.connect(self._decoder.pause)
        self._step.connect(self._decoder.step)
        self._seek.connect(self._decoder.seek)
        self._close.connect(self._decoder.close)
        self._decoder.opened.connect(self._on_opened)
        self._decoder.delivered.connect(self._on_delivered)
        self._decoder.held.connect(self._on_held)
        self._decoder.failed.connect(self.failed)
        self._thread.start()

    # -- controls ---------------------------------------------------------------------------------------
    def play(self) -> None:
        """Play from the frame after the one shown (a file at its frame rate; a camera live)."""
        if self.info is None and self.camera is None or self.is_playing:
            return
        self._set_playing(True)
        if self.camera is None:
            self._play.emit()

    def pause(self) -> None:
        """Stop playing; ``still`` then gives the frame paused on."""
        if not self.is_playing:
            return
        self._set_playing(False)
        if self.camera is None:
            self._pause.emit()
        elif self.last is not None:
            self.still.emit(self.last)

    def step(self) -> None:
        """Pause, and hold the next frame (a camera: the next one it delivers)."""
        if self.camera is not None:
            self._set_playing(False)
            self._step_camera = True
        elif self.info is not None:
            self._set_playing(False)
            self._step.emit()

    def seek(self, time_s: float) -> None:
        """Go to the frame shown at ``time_s`` (files only): delivered if playing, else held."""
        if self.camera is None and self.info is not None and self.info.seekable:
            self._seek.emit(float(time_s), self.is_playing)

    def close(self) -> None:
        """Stop the camera and the decoder's thread (waits for it: call before the window goes)."""
        self._stop_camera()
        self._set_playing(False)
        if self._thread is not None:
            self._close.emit()
            self._thread.quit()
            self._thread.wait(5000)
            self._thread = self._decoder = None

    def thread_running(self) -> bool:
        """Return whether the decoder's thread runs."""
        return self._thread is not None and self._thread.isRunning()

    # -- answers ----------------------------------------------------------------------------------------
    def _set_playing(self, on: bool) -> None:
        if on != self.is_playing:
            self.is_playing = on
            self.playing.emit(on)

    def _on_opened(self, info: SourceInfo, first: Frame) -> None:
        self._stop_camera()
        self.info, self.last = info, first
        self._set_playing(False)
        self.opened.emit(info)
        self.still.emit(first)

    def _on_delivered(self, frame: Frame) -> None:
        if self.camera is not None:
            return  # the file's frame crossed the switch to a camera (its info is gone): not shown
        self.last = frame
        if self.is_playing:
            self.frame.emit(frame)
        # else: it crossed a pause; the decoder's answer to the pause holds it

    def _on_held(self, frame: Frame | None) -> None:
        self.last = frame or self.last
        self._set_playing(False)
        if self.last is not None:
            self.still.emit(self.last)

    _step_camera = False

    def _on_camera_frame(self, camera, frame: Frame, name: str) -> None:
        if camera is not self.camera:
            return  # a camera closed meanwhile
        if self.info is None:
            h, w = frame.pixels.shape[:2]
            self.info = SourceInfo(name, None, None, None, (w, h), False)
            self.opened.emit(self.info)
        self.last = frame
        if self.is_playing:
            self.frame.emit(frame)
        elif self._step_camera:
            self._step_camera = False
            self.still.emit(frame)

    def _on_camera_failed(self, text: str) -> None:
        self._stop_camera()
        was_playing = self.is_playing
        self._set_playing(False)
        self.failed.emit(text)
        if was_playing and self.last is not None:
            self.still.emit(self.last)  # the app keeps the last frame, still

    def _stop_camera(self) -> None:
        if self.camera is not None:
            camera, self.camera = self.camera, None
            camera.stop()
            camera.deleteLater()


def source_name(info: SourceInfo) -> str:
    """Return the source for the status bar: a file's name, a camera's description."""
    return Path(info.name).name if info.seekable else info.name


class FrameRate:
    """Frames delivered and answered while playing (``delivered``, ``answered``: counts since ``reset``)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Start counting from zero."""
        self.delivered = self.answered = 0
        self._mark = (time.monotonic(), 0, 0)

    @property
    def dropped(self) -> int:
        """Return the frames delivered but not answered (replaced while another was computed, or in flight)."""
        return max(0, self.delivered - self.answered)

    def rates(self) -> tuple[float, float]:
        """Return (answered, delivered) frames per second since the previous call (or the reset)."""
        now = time.monotonic()
        then, delivered, answered = self._mark
        self._mark = (now, self.delivered, self.answered)
        seconds = max(now - then, 1e-9)
        return (self.answered - answered) / seconds, (self.delivered - delivered) / seconds
