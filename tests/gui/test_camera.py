"""The camera's Qt side: why there is none (Qt Multimedia missing, no device), and QVideoFrame -> Frame."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage

from deconvviz.gui import camera


def test_without_qt_multimedia_the_menu_says_which_library_is_missing(monkeypatch, qtbot):
    def broken():
        raise ImportError("libpulse.so.0: cannot open shared object file: No such file or directory")

    monkeypatch.setattr(camera, "_multimedia", broken)
    support = camera.camera_support()
    assert support.cameras == () and "libpulse0" in support.reason
    source = camera.CameraFrames(0)
    with qtbot.waitSignal(source.failed, timeout=2000) as failed:
        source.start()
    assert "libpulse0" in failed.args[0]
    source.stop()


def test_no_camera_is_a_reason_not_an_error(monkeypatch, qtbot):
    class NoDevices:
        class QMediaDevices:
            @staticmethod
            def videoInputs():
                return []

    monkeypatch.setattr(camera, "_multimedia", lambda: NoDevices)
    assert camera.camera_support() == camera.CameraSupport((), "no camera found")
    source = camera.CameraFrames(2)
    with qtbot.waitSignal(source.failed, timeout=2000) as failed:
        source.start()
    assert failed.args[0] == "no camera found"


def test_real_qt_multimedia_answers_without_raising():
    support = camera.camera_support()  # here: no camera, or no libpulse0; on a desktop: its cameras
    assert support.cameras or support.reason


@pytest.mark.parametrize("width", [63, 64])  # 63: QImage pads each row to 4 bytes
def test_a_video_frame_becomes_an_rgb_frame(width):
    multimedia = pytest.importorskip("PySide6.QtMultimedia", reason="Qt Multimedia does not load (no libpulse0)",
                                     exc_type=ImportError)  # the import fails with ImportError, not "not found"
    QVideoFrame = multimedia.QVideoFrame

    pixels = np.random.default_rng(width).integers(0, 255, (48, width, 3), dtype=np.uint8)
    image = QImage(pixels.tobytes(), width, 48, width * 3, QImage.Format.Format_RGB888).copy()
    frame = camera.frame_from_qimage(image, 4, 0.5)
    assert np.array_equal(frame.pixels, pixels) and (frame.index, frame.time_s) == (4, 0.5)
    video = camera.frame_from_video_frame(QVideoFrame(image), 5, 1.0)
    assert np.array_equal(video.pixels, pixels) and video.index == 5
