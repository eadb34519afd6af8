"""The video bar: play/pause, step one frame, a time slider (files only) and where the shown frame is."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

from ..data.video import Frame
from .frame_player import SourceInfo, source_name


class VideoControls(QWidget):
    """Controls for a :class:`~deconvviz.gui.frame_player.FramePlayer`; hidden until a source opens.

    Signals
    -------
    playToggled(bool)
        Play (True) or pause (False) was pressed.
    stepRequested()
        Step one frame.
    seekRequested(float)
        The slider was moved to this time (seconds): emitted on release or a click/key, not while dragging.
    """

    playToggled = Signal(bool)
    stepRequested = Signal()
    seekRequested = Signal(float)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("videoControls")
        self.fps = 25.0
        self.play_button = QPushButton("Play", objectName="videoPlay")
        self.play_button.setCheckable(True)
        self.step_button = QPushButton("Step", objectName="videoStep")
        self.slider = QSlider(Qt.Orientation.Horizontal, objectName="videoSlider")
        self.where = QLabel("", objectName="videoWhere")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 0, 2, 0)
        for widget in (self.play_button, self.step_button):
            layout.addWidget(widget)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.where)
        self.play_button.toggled.connect(self.playToggled)
        self.step_button.clicked.connect(self.stepRequested)
        self.slider.sliderReleased.connect(self._seek)
        self.slider.valueChanged.connect(lambda _: None if self.slider.isSliderDown() else self._seek())
        self.hide()

    def set_source(self, info: SourceInfo) -> None:
        """Show the bar for ``info``: a slider over the frames of a file, none for a camera."""
        self.fps = info.fps or 25.0
        self.slider.setVisible(info.seekable)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, (info.frame_count or 1) - 1))
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self._name = source_name(info)
        self._duration = info.duration_s
        self.show()

    def set_playing(self, on: bool) -> None:
        """Show the play button as pressed (playing) or not, without emitting."""
        self.play_button.blockSignals(True)
        self.play_button.setChecked(on)
        self.play_button.setText("Pause" if on else "Play")
        self.play_button.blockSignals(False)

    def show_frame(self, frame: Frame) -> None:
        """Move the slider (without seeking) and the label to ``frame``."""
        if not self.slider.isSliderDown():
            self.slider.blockSignals(True)
            self.slider.setValue(frame.index)
            self.slider.blockSignals(False)
        total = f" / {self._duration:.2f} s" if self._duration else ""
        self.where.setText(f"{self._name} · frame {frame.index} · {frame.time_s:.2f} s{total}")

    def _seek(self) -> None:
        self.seekRequested.emit(self.slider.value() / self.fps)
