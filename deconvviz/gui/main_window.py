"""The main window: layer tree, channel grid, deconvnet pane and occlusion pane around one session and runner.

The widgets write what the user chose into the :class:`~deconvviz.session.state.Session` (model, input,
layer, channel, target, square, mode); the window observes the session, freezes each change into a request
(:mod:`deconvviz.session.messages`), sends it to the backend and shows the results that are still current
(:class:`~deconvviz.session.tracker.Tracker`: a result older than the newest request of its kind, or computed
before the newest model/image load, is dropped). Analysis views observe and write the same session.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QHBoxLayout, QLabel, QMainWindow, QMenu,
                               QMessageBox, QSplitter, QToolBar, QVBoxLayout, QWidget)

from ..data.images import default_photo
from ..data.video import VIDEO_SUFFIXES, Frame
from ..figures.overlay import map_levels, sensitivity_rgb
from ..session import messages as m
from ..session.budget import budget_setting
from ..session.state import FrameInput, ImageFacts, ImageInput, ModelChoice, ModelFacts, Session, Square
from ..session.tracker import Tracker
from .analyses import install_analyses
from .backend import Backend
from .channel_grid import ChannelGrid
from .deconv_pane import DeconvPane
from .frame_player import FramePlayer, FrameRate, SourceInfo, source_name
from .layer_tree import LayerTree
from .model_choices import Choice, download_question, model_choices
from .occlusion_panel import OcclusionPanel
from .video_controls import VideoControls

DEFAULT_MODEL = "efficientnet-lite0"
WEIGHT_SUFFIXES = {".safetensors", ".pth", ".pt", ".bin"}
PANES = {"grid": "channel grid", "deconv": "deconvnet pane", "occlusion": "occlusion canvas"}
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
        self.tracker = Tracker(self.backend.generations, is_reset=lambda r: isinstance(r, (m.LoadModel, m.LoadImage)),
                               is_live=lambda r: isinstance(r, (m.Occlude, m.AnalyseFrame)))
        self.layers: dict = {}
        self.last_probs: np.ndarray | None = None
        self.last_project: m.Project | None = None
        self._grid_layer: str | None = None
        self._last_occlude: m.Occlude | None = None  # the newest live request sent
        self.last_error = ""
        self._build()
        self._observe()
        self.backend.resultReady.connect(self._on_result)
        self.backend.progress.connect(self._on_progress)
        geometry = settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1560, 900)
        self._startup_image = image is None
        self._startup_model = model is None
        self.open_model(model or settings.value("model") or DEFAULT_MODEL,
                        weights if model or weights else settings.value("weights") or None)
        self.open_image(image or settings.value("image") or str(default_photo()))
        if video is not None:
            self.open_video(video)
        elif camera is not None:
            self.open_camera(camera)

    # -- building -------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.setWindowTitle("deconvviz")
        self.setAcceptDrops(True)
        self.tree = LayerTree()
        self.grid = ChannelGrid()
        self.deconv = DeconvPane()
        self.occlusion = OcclusionPanel()
        self.canvas = self.occlusion.canvas
        self.table = self.occlusion.table
        self.banner = QLabel("", objectName="message")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("QLabel { background: #fde2e1; color: #8a1c1c; padding: 4px; }")
        self.banner.hide()

        self.sort = QComboBox(objectName="gridSort")
        self.sort.addItems(["index order", "sorted by max"])
        self.filters = QCheckBox("filters", objectName="showFilters", enabled=False)
        self.grid_title = QLabel("feature maps")
        grid_box = QWidget()
        grid_header = QHBoxLayout()
        grid_header.addWidget(self.grid_title, 1)
        grid_header.addWidget(self.sort)
        grid_header.addWidget(self.filters)
        grid_layout = QVBoxLayout(grid_box)
        grid_layout.setContentsMargins(2, 2, 2, 2)
        grid_layout.addLayout(grid_header)
        grid_layout.addWidget(self.grid, 1)

        middle = QSplitter(Qt.Orientation.Vertical)
        middle.addWidget(grid_box)
        middle.addWidget(self.deconv)
        middle.setSizes([500, 400])
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(self.tree)
        main.addWidget(middle)
        main.addWidget(self.occlusion)
        main.setSizes([450, 690, 420])
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.banner)
        layout.addWidget(main, 1)
        self.player = FramePlayer(self)
        self.video = VideoControls()
        self.video_rate = FrameRate()
        layout.addWidget(self.video)
        self.setCentralWidget(central)

        self.model_chooser = QComboBox(objectName="modelChooser", editable=True)
        for entry in model_choices():
            self.model_chooser.addItem(entry.text, entry)
        self.model_chooser.setMinimumContentsLength(22)
        toolbar = QToolBar("model")
        toolbar.setObjectName("modelToolbar")
        toolbar.addWidget(QLabel(" model "))
        toolbar.addWidget(self.model_chooser)
        self.addToolBar(toolbar)
        self.device_label = QLabel(f"device: {self._device_text()}", objectName="deviceLabel")
        self.statusBar().addPermanentWidget(self.device_label)

        menu = self.menuBar().addMenu("&File")
        menu.addAction("Open &image…", QKeySequence.StandardKey.Open, self._ask_image)
        menu.addAction("Open &video…", self._ask_video)
        menu.addAction("Open &weights…", self._ask_weights)
        export = menu.addMenu("&Export")
        for pane, title in PANES.items():
            export.addAction(f"{title[0].upper()}{title[1:]} as PNG…", lambda p=pane: self._ask_export(p))
        menu.addSeparator()
        menu.addAction("&Quit", QKeySequence.StandardKey.Quit, self.close)
        self.camera_menu = self.menuBar().addMenu("&Camera")
        self.camera_menu.aboutToShow.connect(self._fill_camera_menu)
        self._fill_camera_menu()

        for pane, widget in (("grid", self.grid), ("deconv", self.deconv), ("occlusion", self.canvas)):
            widget.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            widget.customContextMenuRequested.connect(lambda pos, p=pane, w=widget: self._context_menu(p, w, pos))
        QShortcut(QKeySequence(Qt.Key.Key_PageDown), self, lambda: self.tree.step(1))
        QShortcut(QKeySequence(Qt.Key.Key_PageUp), self, lambda: self.tree.step(-1))

        self.model_chooser.activated.connect(self._model_chosen)
        self.model_chooser.lineEdit().returnPressed.connect(lambda: self.open_model(self.model_chooser.currentText()))
        # the widgets write the session (the observers in _observe send the requests)
        self.tree.layerChosen.connect(self._choose_layer)
        self.grid.channelChosen.connect(self._choose_channel)
        self.sort.currentIndexChanged.connect(lambda i: self.grid.set_sort("max" if i else "index"))
        self.filters.toggled.connect(self.grid.set_show_filters)
        self.deconv.changed.connect(self._choose_projection)
        self.canvas.moved.connect(lambda top, left, size: self._choose_square(Square(top, left, size)))
        # while the square is dragged its answers are approximate; released or still for SETTLE_MS: exact
        self._settle = QTimer(self, singleShot=True, interval=SETTLE_MS)
        self._settle.timeout.connect(self._square_stopped)
        self.canvas.released.connect(self._square_stopped)
        self.occlusion.mapRequested.connect(self.request_map)
        self.occlusion.cancelRequested.connect(lambda: self.backend.cancel("main"))
        self.backend.stalled.connect(self._on_stalled)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.escape)  # also stops a hung user model
        self.occlusion.targetChanged.connect(lambda target: setattr(self.session, "target", target))
        # video: the player's frames go to the backend (playing) or become the input (still)
        self.video.playToggled.connect(lambda on: self.play_video() if on else self.pause_video())
        self.video.stepRequested.connect(self.player.step)
        self.video.seekRequested.connect(self.player.seek)
        self.player.opened.connect(self._on_source_opened)
        self.player.frame.connect(self._analyse_frame)
        self.player.still.connect(self._hold_frame)
        self.player.playing.connect(self._on_playing)
        self.player.failed.connect(self.show_error)
        self._rate_timer = QTimer(self, interval=1000)
        self._rate_timer.timeout.connect(self._show_rate)
        install_analyses(self)

    def _observe(self) -> None:
        events = self.session.events
        events.model.connect(self._on_model_chosen)
        events.input.connect(self._on_input_chosen)
        events.layer.connect(self._on_layer)
        events.channel.connect(self._on_channel)
        events.target.connect(self._on_target)
        events.square.connect(lambda square: self._request_occlusion())
        events.mode.connect(self._on_mode)
        events.status.connect(self._show_status)

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

    # -- requests -------------------------------------------------------------------------------------
    def _send(self, make) -> m.Request:
        request = self.tracker.stamp(make)
        self.backend.submit(request)
        return request

    def open_model(self, name: str, weights: str | None = None, download: bool = False) -> None:
        """Choose model ``name`` (with ``weights``); the current one stays until the new one has loaded."""
        name = name.strip()
        if not name:
            return
        choice = ModelChoice(name, weights, self.backend.device, download)
        if self.session.model == choice:
            self._load_model(choice)  # the same choice again: load it again
        else:
            self.session.model = choice  # -> _on_model_chosen

    def _on_model_chosen(self, choice: ModelChoice | None) -> None:
        loaded = self.session.loaded
        if choice is not None and (loaded is None or (loaded.name, loaded.weights) != (choice.name, choice.weights)):
            self._load_model(choice)

    def _load_model(self, choice: ModelChoice) -> None:
        self.status(f"downloading weights and loading {choice.name}…" if choice.download else f"loading {choice.name}…")
        self._send(lambda g: m.LoadModel(g, choice.name, choice.weights, choice.download))

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
        choice = ImageInput(str(path))
        if self.session.input == choice:
            self._load_input(choice)
        else:
            self.session.input = choice  # -> _on_input_chosen

    def _on_input_chosen(self, choice: ImageInput | FrameInput | None) -> None:
        if isinstance(choice, ImageInput) and (self.session.image is None or self.session.image.path != choice.path):
            self._load_input(choice)

    def _load_input(self, choice: ImageInput) -> None:
        self.status(f"opening {Path(choice.path).name}…")
        self._send(lambda g: m.LoadImage(g, choice.path))

    def _choose_layer(self, layer: str) -> None:
        if self.session.layer == layer:
            self._request_maps()  # chosen again (the tree after a reload): computed again
        else:
            self.session.layer = layer  # -> _on_layer

    def _on_layer(self, layer: str | None) -> None:
        self.deconv.reset_position()
        if layer is not None and self.tree.current_layer() != layer:
            self.tree.blockSignals(True)  # syncing the tree to the session: no echo
            self.tree.select_layer(layer)
            self.tree.blockSignals(False)
        self._request_maps()

    def _request_maps(self) -> None:
        layer = self.session.layer
        if layer is not None and not self.player.is_playing:  # playing: the next frame carries it
            self._send(lambda g: m.LayerMaps(g, layer))

    def _choose_channel(self, channel: int) -> None:
        if self.session.channel == channel:
            self._channel_requests()  # chosen again (new maps of the same layer): computed again
        else:
            self.session.channel = channel  # -> _on_channel

    def _on_channel(self, channel: int | None) -> None:
        self.deconv.reset_position()
        if channel is not None and self.grid.selected != channel:
            self.grid.blockSignals(True)
            self.grid.select(channel)
            self.grid.blockSignals(False)
        self._channel_requests()

    def _channel_requests(self) -> None:
        self._request_projection()
        if self.session.square is not None:
            self._request_occlusion()

    def _choose_projection(self) -> None:
        mode = self.deconv.mode.currentText()
        if self.session.mode == mode:
            self._request_projection()
        else:
            self.session.mode = mode  # -> _on_mode

    def _on_mode(self, mode: str) -> None:
        if self.deconv.mode.currentText() != mode:
            self.deconv.mode.blockSignals(True)
            self.deconv.mode.setCurrentText(mode)
            self.deconv.mode.blockSignals(False)
        self._request_projection()

    def _request_projection(self) -> None:
        layer, channel = self.session.layer, self.session.channel
        if layer is None or channel is None or self.player.is_playing:
            return
        self.last_project = self._send(lambda g: self.deconv.request(g, layer, channel))

    def _choose_square(self, square: Square) -> None:
        if self.session.square == square:
            self._request_occlusion()
        else:
            self.session.square = square  # -> _request_occlusion

    def _request_occlusion(self, approximate: bool | None = None) -> None:
        """Ask for the live square's answer: approximate while the user drags it (``approximate`` None),
        with the exact one asked for when it stops (:meth:`_square_stopped`)."""
        square = self.session.square
        if square is None or self.player.is_playing:
            return
        if approximate is None:
            approximate = self.canvas.dragging
        if approximate:
            self._settle.start()  # restarted by every move
        layer, channel = (self.session.layer, self.session.channel) if self.session.channel is not None else (None, None)
        budget = self.budget_ms()
        self._last_occlude = self._send(lambda g: m.Occlude(g, square.top, square.left, square.size, layer, channel,
                                                            approximate, budget))

    def budget_ms(self) -> float:
        """Return the moving square's answer-time budget in ms: the setting "occlusion/budgetMs" (default 16)."""
        return budget_setting(self.settings.value("occlusion/budgetMs"))

    def _square_stopped(self) -> None:
        """The square stopped (released, or not moved for SETTLE_MS): ask for its exact answer if the newest
        request was approximate (the tracker drops any approximate answer older than it)."""
        self._settle.stop()
        if self._last_occlude is not None and self._last_occlude.approximate:
            self._request_occlusion(approximate=False)

    def _on_target(self, target: int) -> None:
        if self.occlusion.target.currentIndex() != target:
            self.occlusion.target.blockSignals(True)
            self.occlusion.target.setCurrentIndex(target)
            self.occlusion.target.blockSignals(False)
        # with the square in place, p(class) is read from the occluded probabilities on screen
        self._show_target(self.base_probs if self.canvas.square is None else self.last_probs)

    def escape(self) -> None:
        """Cancel this window's work; and a view's short job holding the runner (a hung model), not its long ones."""
        self.backend.cancel("main")
        running = self.backend.running()
        if running is not None and running.owner != "main" and not running.long:
            self.backend.cancel(running.owner)

    def request_map(self) -> None:
        """Ask for the full occlusion sensitivity map of the current square size and stride (of the frame
        paused on, when a video plays)."""
        self.pause_video()
        if self.pixels is None:
            return
        self.occlusion.set_running(True)
        size, stride, target = self.canvas.size, self.occlusion.stride.value(), self.session.target
        approximate = self.occlusion.approximate.isChecked()
        self._send(lambda g: m.OcclusionMap(g, size, stride, target, approximate))

    # -- export ---------------------------------------------------------------------------------------
    def export_pane(self, pane: str, path: str) -> None:
        """Ask the backend to write pane "grid", "deconv" or "occlusion" as a PNG at ``path`` (a playing video
        pauses first: the export shows the frame paused on)."""
        self.pause_video()
        if pane == "grid" and self.layer is not None:
            spec, options = m.LayerMaps(0, self.layer), (("sort", self.grid.sort), ("filters", self.grid.show_filters))
        elif pane == "deconv" and self.last_project is not None:
            spec, options = self.last_project, ()
        elif pane == "occlusion" and self.pixels is not None:
            square = self.canvas.square
            spec = m.Occlude(0, square[0], square[1], self.canvas.size) if square is not None else None
            options = (("map", self.canvas.has_heat()),)
        else:
            self.show_error(f"nothing to export in the {PANES.get(pane, pane)} yet")
            return
        self.status(f"exporting {PANES[pane]}…")
        self._send(lambda g: m.Export(g, pane, str(path), spec, options))

    def suggested_name(self, pane: str) -> str:
        """Return a file name for exporting ``pane``: model, layer, channel and pane."""
        image = self.session.image
        frame = image.frame if image is not None else None
        parts = [self.model_name, Path(self.image_path).stem] + ([f"frame{frame.index}"] if frame else [])
        if pane != "occlusion":
            parts += [self.layer or "", f"ch{self.channel}" if pane == "deconv" else ""]
        parts.append(pane)
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", "_".join(p for p in parts if p)) + ".png"

    def _ask_export(self, pane: str) -> None:
        folder = self.settings.value("exportDir") or str(Path.home())
        path, _ = QFileDialog.getSaveFileName(self, f"Export {PANES[pane]}", str(Path(folder) / self.suggested_name(pane)),
                                              "PNG images (*.png)")
        if path:
            if not path.lower().endswith(".png"):
                path += ".png"
            self.settings.setValue("exportDir", str(Path(path).parent))
            self.export_pane(pane, path)

    def _context_menu(self, pane: str, widget: QWidget, pos) -> None:
        menu = QMenu(self)
        menu.addAction(f"Export {PANES[pane]} as PNG…", lambda: self._ask_export(pane))
        menu.exec(widget.mapToGlobal(pos))

    # -- inputs ---------------------------------------------------------------------------------------
    def _ask_image(self) -> None:
        folder = str(Path(self.image_path).parent) if self.image_path else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Open image", folder,
                                              "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)")
        if path:
            self.open_image(path)

    def _ask_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open weights", str(Path.home()),
                                              "Weights (*.safetensors *.pth *.pt *.bin);;All files (*)")
        if path:
            self.open_model(self.model_name or self.model_chooser.currentText(), path)

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

    def pause_video(self) -> None:
        """Pause a playing video or camera; the frame paused on becomes the input at once."""
        if self.player.is_playing:
            self.player.pause()
            if self.player.last is not None:
                self._hold_frame(self.player.last)

    def _ask_video(self) -> None:
        folder = self.settings.value("videoDir") or str(Path.home())
        patterns = " ".join(f"*{suffix}" for suffix in VIDEO_SUFFIXES)
        path, _ = QFileDialog.getOpenFileName(self, "Open video", folder, f"Videos ({patterns});;All files (*)")
        if path:
            self.settings.setValue("videoDir", str(Path(path).parent))
            self.open_video(path)

    def _fill_camera_menu(self) -> None:
        from .camera import camera_support

        support = camera_support()
        self.camera_menu.clear()
        for number, name in enumerate(support.cameras):
            self.camera_menu.addAction(name, lambda n=number: self.open_camera(n))
        if support.reason is not None:
            self.camera_menu.addAction(support.reason).setEnabled(False)

    def _on_source_opened(self, info: SourceInfo) -> None:
        self.video.set_source(info)
        self.banner.hide()
        w, h = info.size or (0, 0)
        side = min(self.session.loaded.input_size) if self.session.loaded else 224
        notes = []
        if h > w:
            notes.append("portrait: the model sees its centre square")
        if min(w, h) > 4 * side:
            notes.append(f"frames scaled to {side} px")
        rate = f", {info.fps:g} frames/s" if info.fps else ""
        length = f", {info.duration_s:.1f} s" if info.duration_s else ""
        self.status(f"{source_name(info)}: {w}×{h}{rate}{length}" + "".join(f" ({n})" for n in notes))

    def _on_playing(self, on: bool) -> None:
        self.video.set_playing(on)
        self.video_rate.reset()
        if on:
            self._rate_timer.start()
        else:
            self._rate_timer.stop()

    def _analyse_frame(self, frame: Frame) -> None:
        self.video_rate.delivered += 1
        self.video.show_frame(frame)
        square, layer, channel = self.session.square, self.session.layer, self.session.channel
        square = None if square is None else (square.top, square.left, square.size)
        self._send(lambda g: m.AnalyseFrame(g, self.player.info.name, frame.index, frame.time_s, frame.pixels,
                                            layer, channel, self.session.mode, square))

    def _hold_frame(self, frame: Frame) -> None:
        self.video.show_frame(frame)
        if frame is self._held or self.player.info is None:
            return  # already the input (a pause answered twice)
        self._held = frame
        name = self.player.info.name
        self.status(f"opening {FrameInput(name, frame.index, frame.time_s).label()}…")
        self._send(lambda g: m.LoadFrame(g, name, frame.index, frame.time_s, frame.pixels))

    _held: Frame | None = None

    def _show_rate(self) -> None:
        analysed, delivered = self.video_rate.rates()
        self.status(f"analysing {analysed:.1f} of {delivered:.1f} frames/s "
                    f"({self.video_rate.dropped} of {self.video_rate.delivered} dropped)")

    def _show_FrameAnalysed(self, r: m.FrameAnalysed) -> None:
        self.video_rate.answered += 1
        self.canvas.set_image(r.pixels, self.session.image.fill)
        probs = r.occluded.probs if r.occluded is not None else r.probs
        self.table.set_probabilities(probs, self.class_names)
        self._show_target(probs)
        if r.maps is not None:
            self._show_MapsReady(r.maps)  # selects the channel; while playing that sends nothing
        if r.projection is not None:
            self.deconv.show_result(r.projection)
            self.last_project = r.projection.request
        self.map_total_text(r.occluded.map_total if r.occluded is not None else None)

    # -- results --------------------------------------------------------------------------------------
    def is_current(self, result: m.Result) -> bool:
        """Return whether to show ``result``: it answers a request made after the last load, and the newest
        request of its kind (for the live occluder: it is newer than the answer on screen, so a drag shows
        answers as they come instead of waiting for the mouse to stop)."""
        return isinstance(result.request, m.Export) or self.tracker.is_current(result.request)

    def _on_result(self, result: m.Result) -> None:
        if result.request.owner != "main":
            return  # an analysis view's answer
        if isinstance(result.request, m.OcclusionMap) and self.tracker.is_latest(result.request):
            self.occlusion.set_running(False)  # the newest map has ended, even if a later load made it stale
        if isinstance(result, m.Failed):
            self._on_failed(result)
            return
        if not self.is_current(result) or (isinstance(result, m.FrameAnalysed) and not self.player.is_playing):
            return  # stale, or a playing frame answered after the pause
        handler = getattr(self, "_show_" + type(result).__name__)
        self.tracker.show(result.request)
        handler(result)
        self.shown.emit(result)

    def _on_failed(self, result: m.Failed) -> None:
        request = result.request
        self.tracker.failed(request)  # a load that failed replaced nothing: earlier answers still hold
        if isinstance(request, m.OcclusionMap):
            self.occlusion.set_running(False)
        if isinstance(request, m.LoadModel) and self.tracker.is_latest(request) and self.session.loaded is not None:
            loaded = self.session.loaded  # the choice goes back to the model that is loaded
            self.session.model = ModelChoice(loaded.name, loaded.weights, self.backend.device)
        if isinstance(request, m.LoadImage) and self.tracker.is_latest(request) and self.session.image is not None:
            self.session.input = self.session.image.input
        if isinstance(request, m.LoadModel) and self.model_name:
            self.model_chooser.setEditText(self.model_name)
        if isinstance(request, m.LoadModel) and self._startup_model and not self.model_name \
                and request.name != DEFAULT_MODEL:
            self._startup_model = False  # the remembered model no longer loads: fall back to the default
            self.open_model(DEFAULT_MODEL)
        if type(request) is m.LoadImage and self._startup_image and request.path != str(default_photo()):
            self._startup_image = False  # the remembered image is gone: fall back to the bundled photo
            self.open_image(str(default_photo()))
        if isinstance(request, m.Export) or self.is_current(result) or isinstance(request, (m.LoadModel, m.LoadImage)):
            self.show_error(result.message)
        self.shown.emit(result)

    def show_error(self, text: str) -> None:
        """Show ``text`` in the banner and the status bar (the app keeps working)."""
        self.last_error = text
        self.banner.setText(text)
        self.banner.show()
        self.status(text)

    def status(self, text: str) -> None:
        """Show ``text`` in the status bar and emit message (through the session's status)."""
        if self.session.status == text:
            self._show_status(text)
        else:
            self.session.status = text  # -> _show_status

    def _show_status(self, text: str) -> None:
        self.statusBar().showMessage(text)
        self.message.emit(text)

    def _title(self) -> None:
        loaded = self.session.loaded
        model = f"{self.model_name} (random weights)" if loaded is not None and loaded.random_weights \
            else self.model_name
        parts = ["deconvviz", model, self.session.image.name if self.session.image else ""]
        self.setWindowTitle(" — ".join(p for p in parts if p))

    def _show_ModelLoaded(self, r: m.ModelLoaded) -> None:
        self._startup_model = False
        previous = self.session.layer
        self.layers = {rec.name: rec for rec in r.layers}
        with self.session.events.batch():  # observers see the new model with no layer chosen yet
            self.session.loaded = ModelFacts(r.request.name, r.request.weights, r.weights, r.device, r.layers,
                                             r.class_names, r.input_size, r.first_conv, r.random_weights)
            self.session.model = ModelChoice(r.request.name, r.request.weights, self.backend.device)
            self.session.square = None
            self.session.layer, self.session.channel = None, None
        self.device_label.setText(f"device: {r.device}")
        self.model_chooser.setEditText(r.request.name)
        self.settings.setValue("model", r.request.name)
        self.settings.setValue("weights", r.request.weights or "")
        self.occlusion.set_input_size(*r.input_size)
        self.deconv.set_max_pooling(any("MaxPool" in rec.type_name for rec in r.layers))
        self.canvas.remove_square()
        self.banner.hide()
        self.status(f"{r.name}: random weights (untrained: the pictures show the architecture, not learnt "
                    f"features)" if r.random_weights else f"{r.name}: {r.weights}")
        self._title()
        self.tree.set_layers(r.layers)
        self.grid.clear()
        self._grid_layer = None
        self.deconv.clear()
        spatial = [rec.name for rec in r.layers if rec.spatial]
        if previous in self.layers:
            choice = previous
        else:
            choice = r.first_conv or (spatial[0] if spatial else r.layers[0].name)
        self.tree.select_layer(choice)

    def _show_ImageLoaded(self, r: m.ImageLoaded) -> None:
        self._startup_image = False
        before = self.session.image
        # another frame of the same video: the square and the class followed stay where they are
        keep = isinstance(r.request, m.LoadFrame) and before is not None and before.frame is not None \
            and before.frame.video == r.frame.video
        if r.frame is None:
            self.settings.setValue("image", r.path)
        self.canvas.set_image(r.pixels, r.fill)
        if not keep:
            self.canvas.remove_square()
        self.occlusion.set_running(False)
        self.occlusion.clear_map.setEnabled(False)
        self.occlusion.map_info.setText("")
        self.occlusion.show_answer(None)
        self._last_occlude = None
        top = int(np.argmax(r.probs))
        if not keep:
            self.occlusion.set_classes(self.class_names or [f"class {i}" for i in range(len(r.probs))], top)
        with self.session.events.batch():
            self.session.image = ImageFacts(r.path, r.pixels, r.probs, r.original_size, r.fill, r.frame, r.source)
            self.session.input = self.session.image.input
            if not keep:
                self.session.square = None
                self.session.target = top
        self.table.set_probabilities(r.probs, self.class_names)
        self._show_target(r.probs)
        self.map_total_text(None)
        self.banner.hide()
        w, h = r.original_size
        note = f" (scaled from {w}×{h})" if max(w, h) > 4 * max(r.pixels.shape[:2]) else ""
        self.status(f"{self.session.image.name}: {self.class_names[self.target] if self.class_names else self.target} "
                    f"p={float(r.probs[self.target]):.3f}{note}")
        self._title()
        self._request_maps()

    def _show_MapsReady(self, r: m.MapsReady) -> None:
        same_layer = r.request.layer == self._grid_layer  # a new image: keep the channel; a new layer: the strongest
        keep = self.channel if same_layer and self.channel is not None and self.channel < len(r.maps) else None
        self._grid_layer = r.request.layer
        self.grid.set_maps(r.maps, r.maxima, r.levels, r.filters, selected=None)
        self.filters.setEnabled(r.filters is not None)
        if r.filters is None:
            self.filters.setChecked(False)
        rec = self.layers.get(r.request.layer)
        shape = "×".join(str(s) for s in rec.output_shape) if rec else ""
        self.grid_title.setText(f"{r.request.layer} · {rec.type_name if rec else ''} · {shape} · "
                                f"levels {r.levels[0]:.3g}…{r.levels[1]:.3g}")
        self.grid.select(keep if keep is not None else int(np.argmax(r.maxima)))

    def _show_ProjectionReady(self, r: m.ProjectionReady) -> None:
        self.deconv.show_result(r)

    def _show_Occluded(self, r: m.Occluded) -> None:
        self.table.set_probabilities(r.probs, self.class_names, r.approximate)
        self.occlusion.show_answer(r.approximate, r.level, r.request.approximate)
        self._show_target(r.probs)
        self.map_total_text(r.map_total)

    def _show_target(self, probs) -> None:
        if probs is not None and self.target < len(probs):
            self.occlusion.target_prob.setText(f"{float(probs[self.target]):.4f}")
        self.last_probs = probs

    def map_total_text(self, total: float | None) -> None:
        """Show the selected feature map's total activation (– when none)."""
        where = f"  ({self.layer}, channel {self.channel})" if self.layer is not None and self.channel is not None else ""
        self.occlusion.map_total.setText("–" if total is None else f"{total:.4g}{where}")

    def _show_MapReady(self, r: m.MapReady) -> None:
        req = r.request
        height, width = self.pixels.shape[:2]
        levels = map_levels(r.prob)
        self.canvas.set_heat(sensitivity_rgb(r.prob, height, width, req.patch, req.stride, *levels), levels)
        self.occlusion.set_running(False)
        self.occlusion.clear_map.setEnabled(True)
        low = np.unravel_index(int(np.argmin(r.prob)), r.prob.shape)
        kind = "exact" if r.approximation is None else \
            f"approximate ({r.approximation}; {r.computed:.0%} of positions computed, the rest interpolated)"
        self.occlusion.map_info.setText(f"{kind} map, {req.patch} px square, stride {req.stride}")
        self.status(f"{'approximate ' if r.approximation is not None else ''}occlusion map {r.prob.shape[0]}×{r.prob.shape[1]}: p({self._class(req.target)}) "
                    f"from {levels[0]:.3f} (square at {low[0] * req.stride},{low[1] * req.stride}) to {levels[1]:.3f}")

    def _class(self, index: int) -> str:
        return self.class_names[index] if index < len(self.class_names) else f"class {index}"

    def _show_Cancelled(self, r: m.Cancelled) -> None:
        self.occlusion.set_running(False)
        self.status("occlusion map cancelled")

    def _on_stalled(self, seconds: int, kind: str) -> None:
        self.status(f"model has not answered for {seconds} s — press Esc to cancel")

    def _show_Exported(self, r: m.Exported) -> None:
        self.status(f"wrote {r.path}")

    def _on_progress(self, generation: int, done: int, total: int) -> None:
        if generation == self.tracker.latest.get("OcclusionMap"):
            self.occlusion.progress.setMaximum(total)
            self.occlusion.progress.setValue(done)

    # -- lifetime -------------------------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.sync()
        self.player.close()  # its decoder thread ends here
        self.backend.stop()  # the one runner: the analysis views' jobs stop with it, within seconds
        super().closeEvent(event)
