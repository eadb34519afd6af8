"""The main window: it only wires Qt to the Qt-free :class:`~deconvviz.session.controller.Controller`.

The widgets (laid out by :mod:`.window_layout`) write what the user chose into the controller (model, input,
layer, channel, target, square, mode); the controller turns session changes into requests for the backend
and current results into session state, and shows them through :class:`~.window_screen.PaneScreen`. The
window's own session observers only keep its widgets in step with the session (a view may write it too).
Analysis views observe and write the same session (:func:`~.analyses.install_analyses`).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QMainWindow, QMessageBox

from ..data.images import default_photo
from ..session import messages as m
from ..session.budget import budget_setting
from ..session.controller import PANES, Controller
from ..session.state import Session, Square
from . import window_dialogs as dialogs
from .analyses import install_analyses
from .backend import Backend
from .featvis_panes import install_featvis
from .model_choices import Choice, download_question
from .window_layout import build_panes
from .window_screen import PaneScreen
from .window_video import VideoWiring

DEFAULT_MODEL = "efficientnet-lite0"
WEIGHT_SUFFIXES = {".safetensors", ".pth", ".pt", ".bin"}
SETTLE_MS = 150  # a dragged square that has not moved for this long has stopped: its exact answer is asked for


class MainWindow(QMainWindow):
    """The deconvviz window.

    Signals
    -------
    shown(object)
        A result the window accepted and displayed (tests and the benchmark wait on it).
    message(str)
        A message for the user (errors included), also shown in the status bar and the banner.
    """

    shown = Signal(object)
    message = Signal(str)

    def __init__(self, settings: QSettings, backend: Backend | None = None, model: str | None = None,
                 weights: str | None = None, image: str | None = None, session: Session | None = None,
                 video: str | None = None, camera: int | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.backend = backend if backend is not None else Backend()
        self.session = session if session is not None else Session()
        self.last_error = ""
        build_panes(self)
        self.screen = PaneScreen(self)
        self.controller = Controller(self.session, lambda r: self.backend.submit(r), self.backend.generations,
                                     self.backend.device, self.screen, DEFAULT_MODEL, str(default_photo()))
        self.controller.playing = lambda: self.player.is_playing
        self.controller.dragging = lambda: self.canvas.dragging
        self.controller.budget_ms = self.budget_ms
        self.controller.project = self.deconv.request
        self.device_label.setText(f"device: {self._device_text()}")
        self.videos = VideoWiring(self)  # the player's frames go to the controller (playing) or are the input
        self._menus()
        self._wire()
        self._observe()
        self.controller.observe()  # after the window's observers: the widgets are in step when it asks
        install_featvis(self)  # the grid's feature vis view and the pane's picture (window.featvis)
        self.backend.resultReady.connect(self._on_result)
        self.backend.progress.connect(self.controller.on_progress)
        geometry = settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1560, 900)
        self.controller.startup_image, self.controller.startup_model = image is None, model is None
        self.open_model(model or settings.value("model") or DEFAULT_MODEL,
                        weights if model or weights else settings.value("weights") or None)
        self.open_image(image or settings.value("image") or str(default_photo()))
        if video is not None:
            self.open_video(video)
        elif camera is not None:
            self.open_camera(camera)

    # -- wiring ---------------------------------------------------------------------------------------
    def _menus(self) -> None:
        menu = self.menuBar().addMenu("&File")
        menu.addAction("Open &image…", QKeySequence.StandardKey.Open, lambda: dialogs.ask_image(self))
        menu.addAction("Open &video…", lambda: dialogs.ask_video(self))
        menu.addAction("Open &weights…", lambda: dialogs.ask_weights(self))
        export = menu.addMenu("&Export")
        for pane, title in PANES.items():
            export.addAction(f"{title[0].upper()}{title[1:]} as PNG…", lambda p=pane: dialogs.ask_export(self, p))
        menu.addSeparator()
        menu.addAction("&Quit", QKeySequence.StandardKey.Quit, self.close)
        self.camera_menu = self.menuBar().addMenu("&Camera")
        self.videos.watch_camera_menu(self.camera_menu)
        for pane, widget in (("grid", self.grid), ("deconv", self.deconv), ("occlusion", self.canvas)):
            widget.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            widget.customContextMenuRequested.connect(lambda pos, p=pane, w=widget: dialogs.context_menu(self, p, w, pos))
        install_analyses(self)

    def _wire(self) -> None:
        c = self.controller
        QShortcut(QKeySequence(Qt.Key.Key_PageDown), self, lambda: self.tree.step(1))
        QShortcut(QKeySequence(Qt.Key.Key_PageUp), self, lambda: self.tree.step(-1))
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.escape)  # also stops a hung user model
        QShortcut(QKeySequence(Qt.Key.Key_Space), self, self.toggle_play)
        self.model_chooser.activated.connect(self._model_chosen)
        self.model_chooser.lineEdit().returnPressed.connect(lambda: self.open_model(self.model_chooser.currentText()))
        self.tree.layerChosen.connect(c.choose_layer)
        self.grid.channelChosen.connect(c.choose_channel)
        self.sort.currentIndexChanged.connect(lambda i: self.grid.set_sort("max" if i else "index"))
        self.filters.toggled.connect(self.grid.set_show_filters)
        self.deconv.changed.connect(lambda: c.choose_mode(self.deconv.mode.currentText()))
        self.canvas.moved.connect(self._square_moved)
        # while the square is dragged its answers are approximate; released or still for SETTLE_MS: exact
        self._settle = QTimer(self, singleShot=True, interval=SETTLE_MS)
        self._settle.timeout.connect(self._square_stopped)
        self.canvas.released.connect(self._square_stopped)
        self.occlusion.mapRequested.connect(self.request_map)
        self.occlusion.cancelRequested.connect(lambda: self.backend.cancel("main"))
        self.occlusion.targetChanged.connect(c.choose_target)
        self.occlusion.follow_top.toggled.connect(lambda on: setattr(self.session, "follow_top", on))
        self.backend.stalled.connect(
            lambda seconds, kind: self.status(f"model has not answered for {seconds} s — press Esc to cancel"))

    def _observe(self) -> None:
        """Keep the widgets in step with the session, whoever wrote it (no echo back into the session)."""
        events = self.session.events
        events.layer.connect(self._on_layer)
        events.channel.connect(self._on_channel)
        events.mode.connect(self._on_mode)
        events.target.connect(self._on_target)
        events.follow_top.connect(self._on_follow_top)
        events.status.connect(self._show_status)

    def _on_layer(self, layer: str | None) -> None:
        self.deconv.reset_position()
        if layer is not None and self.tree.current_layer() != layer:
            with QSignalBlocker(self.tree):
                self.tree.select_layer(layer)

    def _on_channel(self, channel: int | None) -> None:
        self.deconv.reset_position()
        if channel is not None and self.grid.selected != channel and channel < self.grid.count():
            with QSignalBlocker(self.grid):
                self.grid.select(channel)

    def _on_mode(self, mode: str) -> None:
        if self.deconv.mode.currentText() != mode:
            with QSignalBlocker(self.deconv.mode):
                self.deconv.mode.setCurrentText(mode)

    def _on_target(self, target: int) -> None:
        if self.occlusion.target.currentIndex() != target:
            with QSignalBlocker(self.occlusion.target):
                self.occlusion.target.setCurrentIndex(target)
        # with the square in place, p(class) is read from the occluded probabilities on screen
        self.screen.show_target(self.base_probs if self.canvas.square is None else self.last_probs)

    def _on_follow_top(self, on: bool) -> None:
        if self.occlusion.follow_top.isChecked() != on:
            with QSignalBlocker(self.occlusion.follow_top):
                self.occlusion.follow_top.setChecked(on)

    def budget_ms(self) -> float:
        """Return the moving square's answer-time budget in ms: the setting "occlusion/budgetMs" (default 16)."""
        return budget_setting(self.settings.value("occlusion/budgetMs"))

    def _device_text(self) -> str:
        from ..session.compute import device_text

        return device_text(self.backend.device)

    # -- what the session holds, for the panes and the tests ------------------------------------------
    model_name = property(lambda self: self.session.loaded.name if self.session.loaded else "",
                          doc="The loaded model's name (\"\" before one loaded).")
    weights = property(lambda self: self.session.loaded.weights if self.session.loaded else None,
                       doc="The loaded model's weights file (None: its own).")
    class_names = property(lambda self: self.session.loaded.class_names if self.session.loaded else (),
                           doc="The loaded model's class names.")
    image_path = property(lambda self: self.session.image.path if self.session.image else "",
                          doc="The loaded image's path.")
    pixels = property(lambda self: self.session.image.pixels if self.session.image else None,
                      doc="The loaded image as model-input pixels (H, W, 3) uint8, or None.")
    base_probs = property(lambda self: self.session.image.probs if self.session.image else None,
                          doc="The unoccluded image's class probabilities, or None.")
    layer = property(lambda self: self.session.layer, doc="The chosen layer.")
    channel = property(lambda self: self.session.channel, doc="The chosen channel.")
    target = property(lambda self: self.session.target, doc="The class the occlusion pane follows.")
    tracker = property(lambda self: self.controller.tracker, doc="The controller's request tracker.")
    layers = property(lambda self: self.controller.layers, doc="The loaded model's layer records by name.")
    last_probs = property(lambda self: self.controller.last_probs, doc="The probabilities on screen.")
    last_project = property(lambda self: self.controller.last_project, doc="The projection request on screen.")
    _last_occlude = property(lambda self: self.controller.last_occlude)
    _grid_layer = property(lambda self: self.controller.grid_layer)

    # -- the user's choices ---------------------------------------------------------------------------
    def open_model(self, name: str, weights: str | None = None, download: bool = False) -> None:
        """Choose model ``name`` (with ``weights``); the current one stays until the new one has loaded."""
        self.controller.open_model(name, weights, download)

    def _model_chosen(self, index: int) -> None:
        entry = self.model_chooser.itemData(index)
        if not isinstance(entry, Choice):  # typed by the user
            self.open_model(self.model_chooser.currentText())
            return
        if entry.download:
            answer = QMessageBox.question(self, "Download weights", download_question(entry))
            if answer != QMessageBox.StandardButton.Yes:
                self.model_chooser.setEditText(self.model_name or "")
                return
        self.open_model(entry.name, entry.weights, entry.download)

    def open_image(self, path: str) -> None:
        """Choose the image file at ``path`` as the input (opened again when it is already the input)."""
        self.controller.open_image(path)

    def _square_moved(self, top: int, left: int, size: int) -> None:
        self.controller.choose_square(Square(top, left, size))
        if self.canvas.dragging:
            self._settle.start()  # restarted by every move

    def _square_stopped(self) -> None:
        self._settle.stop()
        self.controller.square_stopped()

    def escape(self) -> None:
        """Cancel this window's work; and a view's short job that has run for seconds (a hung model), not its
        long ones."""
        self.backend.cancel("main")
        for running in self.backend.running_all():
            if running.owner != "main" and not running.long:
                self.backend.cancel(running.owner)

    def request_map(self) -> None:
        """Ask for the full occlusion sensitivity map of the current square size and stride (of the frame
        paused on, when a video plays)."""
        self.pause_video()
        self.controller.request_map(self.canvas.size, self.occlusion.stride.value(),
                                    self.occlusion.approximate.isChecked())

    def export_pane(self, pane: str, path: str) -> None:
        """Ask the backend to write pane "grid", "deconv" or "occlusion" as a PNG at ``path`` (a playing video
        pauses first: the export shows the frame paused on)."""
        self.pause_video()
        grid = (("sort", self.grid.sort), ("filters", self.grid.show_filters), *self.featvis.export_options())
        options = {"grid": grid,
                   "occlusion": (("map", self.canvas.has_heat()),)}.get(pane, ())
        self.controller.export(pane, path, options)

    def suggested_name(self, pane: str) -> str:
        """Return a file name for exporting ``pane``: model, layer, channel and pane."""
        return self.controller.suggested_name(pane)

    def open_file(self, path: str) -> None:
        """Open a dropped file: weights for the current model, or an image."""
        if Path(path).suffix.lower() in WEIGHT_SUFFIXES:
            self.open_model(self.model_name or self.model_chooser.currentText(), path)
        else:
            self.open_image(path)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            self.open_file(files[0])
            event.acceptProposedAction()

    # -- video ----------------------------------------------------------------------------------------
    def open_video(self, path: str) -> None:
        """Open the video file at ``path``: its first frame becomes the input, paused (not a video: a message,
        and the current input stays)."""
        self.status(f"opening {Path(path).name}…")
        self.player.open_video(str(path))

    def open_camera(self, number: int = 0) -> None:
        """Play camera ``number`` (Qt's order); a message when there is none."""
        self.player.open_camera(number)

    def play_video(self) -> None:
        """Play the open video or camera: each new frame goes to the backend, the newest wins."""
        self.player.play()

    def toggle_play(self) -> None:
        """Play the open video or camera, or pause it when it plays (Space); a message when none is open."""
        if self.player.info is None:
            self.status("no video open: File > Open video… (or a camera from the Camera menu)")
        elif self.player.is_playing:
            self.pause_video()
        else:
            self.play_video()

    def pause_video(self) -> None:
        """Pause a playing video or camera; the frame paused on becomes the input at once (the player's
        ``still``, emitted inside ``pause``)."""
        self.player.pause()

    # -- results and messages -------------------------------------------------------------------------
    def is_current(self, result: m.Result) -> bool:
        """Return whether to show ``result`` (see :meth:`Controller.is_current`)."""
        return self.controller.is_current(result)

    def _on_result(self, result: m.Result) -> None:
        if self.controller.on_result(result):
            self.shown.emit(result)

    def map_total_text(self, total: float | None) -> None:
        """Show the selected feature map's total activation (– when none)."""
        self.screen.map_total(total)

    def show_error(self, text: str) -> None:
        """Show ``text`` in the banner and the status bar (the app keeps working)."""
        self.controller.fail(text)

    def status(self, text: str) -> None:
        """Show ``text`` in the status bar and emit message (through the session's status)."""
        self.controller.status(text)

    def _show_status(self, text: str) -> None:
        self.statusBar().showMessage(text)
        self.message.emit(text)

    # -- lifetime -------------------------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.sync()
        self.player.close()  # its decoder thread ends here
        self.backend.stop()  # the one runner: the analysis views' jobs stop with it, within seconds
        super().closeEvent(event)
