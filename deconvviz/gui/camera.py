"""The camera through Qt Multimedia, imported lazily: the app runs where Qt Multimedia cannot load.

:func:`camera_support` says which cameras Qt sees, or why there are none (the Camera menu shows it);
:func:`frame_from_video_frame` turns a ``QVideoFrame`` from a ``QVideoSink`` into the Qt-free
:class:`deconvviz.data.video.Frame` every other part of deconvviz reads; :class:`CameraFrames` is a live
camera as a stream of such frames (signal ``frame(Frame)``, ``failed(str)`` when the camera goes away).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from ..data.video import Frame


@dataclass(frozen=True)
class CameraSupport:
    """The cameras Qt sees (their descriptions, in Qt's order) and, when there are none, the reason why."""

    cameras: tuple[str, ...]
    reason: str | None


def _multimedia():
    """Return the QtMultimedia module; ImportError (with the system library it lacks) where it cannot load."""
    from PySide6 import QtMultimedia

    return QtMultimedia


def why_unavailable(exc: ImportError) -> str:
    """Return the Camera menu's line for a failed import of Qt Multimedia."""
    text = str(exc)
    if "libpulse" in text:  # Qt Multimedia's wheels link PulseAudio's client library
        return "camera support needs the system library libpulse0 (Debian/Ubuntu: apt-get install libpulse0)"
    return f"camera support is unavailable: Qt Multimedia does not load ({text})"


def camera_support() -> CameraSupport:
    """Return the cameras Qt Multimedia sees, or no cameras and the reason (it does not load, none found)."""
    try:
        multimedia = _multimedia()
    except ImportError as exc:
        return CameraSupport((), why_unavailable(exc))
    cameras = tuple(d.description() for d in multimedia.QMediaDevices.videoInputs())
    return CameraSupport(cameras, None if cameras else "no camera found")


# 32-bit RGB pixel formats read straight from the mapped frame: (format name, byte offsets of R, G, B)
_RGB32 = (("Format_BGRX8888", (2, 1, 0)), ("Format_BGRA8888", (2, 1, 0)), ("Format_RGBX8888", (0, 1, 2)),
          ("Format_RGBA8888", (0, 1, 2)), ("Format_XRGB8888", (1, 2, 3)), ("Format_ARGB8888", (1, 2, 3)),
          ("Format_XBGR8888", (3, 2, 1)), ("Format_ABGR8888", (3, 2, 1)))


def frame_from_video_frame(video_frame, index: int, time_s: float) -> Frame:
    """Return a QVideoFrame's picture as a Frame (RGB uint8, a copy that outlives the QVideoFrame).

    32-bit RGB frames are copied from the mapped plane. Others (YUV from most cameras) go through
    ``QVideoFrame.toImage``, converted at once: with Qt's CPU conversion (no GPU), PySide6 6.11 was seen
    to hand back an image whose first bytes a later allocation overwrote.
    """
    mm = _multimedia()
    formats = mm.QVideoFrameFormat.PixelFormat
    order = next((o for name, o in _RGB32 if video_frame.pixelFormat() == getattr(formats, name)), None)
    if order is not None and video_frame.map(mm.QVideoFrame.MapMode.ReadOnly):
        try:
            h, w, stride = video_frame.height(), video_frame.width(), video_frame.bytesPerLine(0)
            rows = np.frombuffer(video_frame.bits(0), np.uint8, count=stride * h).reshape(h, stride)
            pixels = np.ascontiguousarray(rows[:, :w * 4].reshape(h, w, 4)[..., list(order)])
        finally:
            video_frame.unmap()
        pixels.flags.writeable = False
        return Frame(pixels, index, time_s)
    return frame_from_qimage(video_frame.toImage().convertToFormat(QImage.Format.Format_RGB888), index, time_s)


def frame_from_qimage(image: QImage, index: int, time_s: float) -> Frame:
    """Return a QImage as a Frame (RGB uint8 (H, W, 3), copied row by row past Qt's line padding)."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w, stride = rgb.height(), rgb.width(), rgb.bytesPerLine()
    rows = np.frombuffer(rgb.constBits(), np.uint8, count=stride * h).reshape(h, stride)
    pixels = np.ascontiguousarray(rows[:, :w * 3].reshape(h, w, 3))
    pixels.flags.writeable = False
    return Frame(pixels, index, time_s)


class CameraFrames(QObject):
    """A live camera as Frames: ``start()`` opens camera ``number`` (Qt's order), ``stop()`` closes it.

    Signals: ``frame(Frame)`` for each new picture (index counts from 0, time from the first frame);
    ``failed(str)`` when the camera cannot be opened or goes away (the app keeps its last frame).
    """

    frame = Signal(object)
    failed = Signal(str)

    def __init__(self, number: int = 0, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.number = number
        self._camera = self._session = self._sink = None
        self._index, self._t0 = 0, None

    def start(self) -> None:
        """Open the camera and start streaming; emits ``failed`` when there is no such camera."""
        support = camera_support()
        if support.reason is not None or not 0 <= self.number < len(support.cameras):
            self.failed.emit(support.reason or f"no camera {self.number}: Qt sees {len(support.cameras)}")
            return
        mm = _multimedia()
        device = mm.QMediaDevices.videoInputs()[self.number]
        self._camera = mm.QCamera(device, self)
        self._session = mm.QMediaCaptureSession(self)
        self._sink = mm.QVideoSink(self)
        self._session.setCamera(self._camera)
        self._session.setVideoSink(self._sink)
        self._sink.videoFrameChanged.connect(self._on_frame)
        self._camera.errorOccurred.connect(lambda _error, text: self.failed.emit(f"camera: {text}"))
        self._camera.activeChanged.connect(self._on_active)
        self._camera.start()

    def _on_active(self, active: bool) -> None:
        if not active and self._camera is not None and self._index:
            self.failed.emit(f"camera {self.number} stopped (unplugged?)")

    def _on_frame(self, video_frame) -> None:
        if not video_frame.isValid():
            return
        now = time.monotonic()
        self._t0 = now if self._t0 is None else self._t0
        frame = frame_from_video_frame(video_frame, self._index, now - self._t0)
        self._index += 1
        self.frame.emit(frame)

    def stop(self) -> None:
        """Stop the camera and release it."""
        if self._camera is not None:
            self._camera.activeChanged.disconnect(self._on_active)
            self._camera.stop()
        self._camera = self._session = self._sink = None
