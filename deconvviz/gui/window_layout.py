"""The main window's widgets and their layout (no behaviour: :mod:`.main_window` wires them)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QSizePolicy, QSplitter, QToolBar, QVBoxLayout,
                               QWidget)

from .channel_grid import ChannelGrid
from .deconv_pane import DeconvPane
from .frame_player import FramePlayer, FrameRate
from .layer_tree import LayerTree
from .model_choices import model_choices
from .occlusion_panel import OcclusionPanel
from .video_controls import VideoControls


def build_panes(window) -> None:
    """Give ``window`` (a QMainWindow) its panes as attributes (tree, grid, deconv, occlusion, canvas, table,
    banner, grid_view, featvis_state, sort, filters, grid_title, player, video, video_rate, model_chooser, device_label), laid
    out."""
    window.setWindowTitle("deconvviz")
    window.setAcceptDrops(True)
    window.tree = LayerTree()
    window.grid = ChannelGrid()
    window.deconv = DeconvPane()
    window.occlusion = OcclusionPanel()
    window.canvas = window.occlusion.canvas
    window.table = window.occlusion.table
    window.banner = QLabel("", objectName="message")
    window.banner.setWordWrap(True)
    window.banner.setStyleSheet("QLabel { background: #fde2e1; color: #8a1c1c; padding: 4px; }")
    window.banner.hide()

    window.grid_view = QComboBox(objectName="gridView")
    window.grid_view.addItems(["feature maps", "feature vis"])
    window.grid_view.setToolTip("feature vis: each channel's picture (Olah et al. 2017), computed in the background "
                                "and kept on disk")
    window.featvis_state = QLabel("", objectName="featvisState")
    window.featvis_state.setMaximumWidth(240)  # its changing text never widens the pane
    window.featvis_state.hide()
    window.sort = QComboBox(objectName="gridSort")
    window.sort.addItems(["index order", "sorted by max"])
    window.filters = QCheckBox("filters", objectName="showFilters", enabled=False)
    window.grid_title = QLabel("feature maps")
    # a long title (layer, type, shape, levels) is cut at the pane's edge rather than squeezing the layer tree
    window.grid_title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    grid_box = QWidget()
    grid_header = QHBoxLayout()
    grid_header.addWidget(window.grid_title, 1)
    grid_header.addWidget(window.featvis_state)
    grid_header.addWidget(window.grid_view)
    grid_header.addWidget(window.sort)
    grid_header.addWidget(window.filters)
    grid_layout = QVBoxLayout(grid_box)
    grid_layout.setContentsMargins(2, 2, 2, 2)
    grid_layout.addLayout(grid_header)
    grid_layout.addWidget(window.grid, 1)

    middle = QSplitter(Qt.Orientation.Vertical)
    middle.addWidget(grid_box)
    middle.addWidget(window.deconv)
    middle.setSizes([500, 400])
    main = QSplitter(Qt.Orientation.Horizontal)
    main.addWidget(window.tree)
    main.addWidget(middle)
    main.addWidget(window.occlusion)
    main.setSizes([450, 690, 420])
    central = QWidget()
    layout = QVBoxLayout(central)
    layout.setContentsMargins(2, 2, 2, 2)
    layout.addWidget(window.banner)
    layout.addWidget(main, 1)
    window.player = FramePlayer(window)
    window.video = VideoControls()
    window.video_rate = FrameRate()
    layout.addWidget(window.video)
    window.setCentralWidget(central)

    window.model_chooser = QComboBox(objectName="modelChooser", editable=True)
    window.model_chooser.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)  # a typed name is not a new item
    for entry in model_choices():
        window.model_chooser.addItem(entry.text, entry)
    window.model_chooser.setMinimumContentsLength(22)
    toolbar = QToolBar("model")
    toolbar.setObjectName("modelToolbar")
    toolbar.addWidget(QLabel(" model "))
    toolbar.addWidget(window.model_chooser)
    window.addToolBar(toolbar)
    window.device_label = QLabel("", objectName="deviceLabel")
    window.statusBar().addPermanentWidget(window.device_label)
