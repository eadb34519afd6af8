"""The main window's video wiring: the player's frames to the controller, the video bar, the camera menu and the
frame-rate line."""

from __future__ import annotations

from PySide6.QtCore import QTimer

from ..data.video import Frame
from ..session.playback import rate_text
from .frame_player import SourceInfo, source_name


class VideoWiring:
    """Connects ``window``'s player (:class:`~.frame_player.FramePlayer`) and video bar to its controller:
    a playing frame is analysed, a still one becomes the input; the status bar gets the source and the rate."""

    def __init__(self, window) -> None:
        self.w = window
        window.video.playToggled.connect(lambda on: window.play_video() if on else window.pause_video())
        window.video.stepRequested.connect(window.player.step)
        window.video.seekRequested.connect(window.player.seek)
        window.player.opened.connect(self._on_source_opened)
        window.player.frame.connect(self._analyse_frame)
        window.player.still.connect(self._hold_frame)
        window.player.playing.connect(self._on_playing)
        window.player.failed.connect(window.show_error)
        self._rate_timer = QTimer(window, interval=1000)
        self._rate_timer.timeout.connect(self._show_rate)

    def watch_camera_menu(self, menu) -> None:
        """Fill ``menu`` with the cameras Qt sees (or one disabled line saying why none), again each time it
        opens."""
        self.camera_menu = menu
        menu.aboutToShow.connect(self.fill_camera_menu)
        self.fill_camera_menu()

    def fill_camera_menu(self) -> None:
        """List the cameras in the camera menu now."""
        from .camera import camera_support

        support = camera_support()
        self.camera_menu.clear()
        for number, name in enumerate(support.cameras):
            self.camera_menu.addAction(name, lambda n=number: self.w.open_camera(n))
        if support.reason is not None:
            self.camera_menu.addAction(support.reason).setEnabled(False)

    def _on_source_opened(self, info: SourceInfo) -> None:
        w = self.w
        w.video.set_source(info)
        w.banner.hide()
        width, height = info.size or (0, 0)
        side = min(w.session.loaded.input_size) if w.session.loaded else 224
        notes = (["portrait: the model sees its centre square"] if height > width else []) + \
            ([f"frames scaled to {side} px"] if min(width, height) > 4 * side else [])
        rate = f", {info.fps:g} frames/s" if info.fps else ""
        length = f", {info.duration_s:.1f} s" if info.duration_s else ""
        w.status(f"{source_name(info)}: {width}×{height}{rate}{length}" + "".join(f" ({n})" for n in notes))

    def _on_playing(self, on: bool) -> None:
        self.w.video.set_playing(on)
        self.w.video_rate.reset()
        self.w.controller.playback.reset()
        self._rate_timer.start() if on else self._rate_timer.stop()

    def _analyse_frame(self, frame: Frame) -> None:
        w = self.w
        if w.player.info is None:
            return  # a camera's first frame is announced (opened) before it is analysed
        w.video_rate.delivered += 1
        w.video.show_frame(frame)
        w.controller.analyse_frame(w.player.info.name, frame)

    def _hold_frame(self, frame: Frame) -> None:
        self.w.video.show_frame(frame)
        if self.w.player.info is not None:
            self.w.controller.hold_frame(self.w.player.info.name, frame)

    def _show_rate(self) -> None:
        rate = self.w.video_rate
        self.w.status(rate_text(*rate.rates(), rate.dropped, rate.delivered, self.w.controller.playback_skipping()))
