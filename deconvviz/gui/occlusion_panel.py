"""The occlusion pane: the canvas, its size slider, the target class, live numbers and the full-map controls."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSlider,
                               QSpinBox, QVBoxLayout, QWidget)

from .class_table import ClassTable
from .occlusion_canvas import OcclusionCanvas


class OcclusionPanel(QWidget):
    """Holds the :class:`OcclusionCanvas` (``occlusionCanvas``) and the class table (``classProbabilities``).

    Signals
    -------
    mapRequested()
        The user asked for the full occlusion sensitivity map.
    cancelRequested()
        The user cancelled the map.
    targetChanged(int)
        The class whose probability is tracked.
    """

    mapRequested = Signal()
    cancelRequested = Signal()
    targetChanged = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.canvas = OcclusionCanvas()
        self.slider = QSlider(Qt.Orientation.Horizontal, objectName="occluderSize", minimum=1, maximum=64, value=8)
        self.size_label = QLabel("8 px")
        self.target = QComboBox(objectName="targetClass")
        self.target.setMaxVisibleItems(20)
        self.follow_top = QCheckBox("follow top class", objectName="followTopClass")
        self.follow_top.setToolTip("while a video plays, the class follows each frame's most probable class; "
                                   "choosing a class yourself stops it")
        self.target_prob = QLabel("–", objectName="targetProbability")
        self.map_total = QLabel("–", objectName="mapTotal")
        # whether the numbers shown are exact: approximate while the square moves, exact once it stops
        self.answer = QLabel("–", objectName="occlusionAnswer")
        self.table = ClassTable()
        self.stride = QSpinBox(objectName="mapStride", minimum=1, maximum=64, value=4)
        self.stride.setPrefix("stride ")
        self.compute = QPushButton("Occlusion map", objectName="computeMap")
        self.cancel = QPushButton("Cancel", objectName="cancelMap", enabled=False)
        self.clear_map = QPushButton("Clear", objectName="clearMap", enabled=False)
        self.approximate = QCheckBox("approximate", objectName="approximateMap")
        self.approximate.setToolTip("a faster approximate map (Krypton's adaptive drill-down: a coarse grid "
                                    "first, the most sensitive cells in full); as deconvviz occlusion "
                                    "--approximate. Off: the exact map")
        self.map_info = QLabel("", objectName="mapInfo")
        self.map_info.setWordWrap(True)
        self.progress = QProgressBar(objectName="mapProgress", maximum=1, value=0)

        size_row = QHBoxLayout()
        size_row.addWidget(QLabel("square"))
        size_row.addWidget(self.slider, 1)
        size_row.addWidget(self.size_label)
        numbers = QFormLayout()
        class_row = QHBoxLayout()
        class_row.addWidget(self.target, 1)
        class_row.addWidget(self.follow_top)
        numbers.addRow("class", class_row)
        numbers.addRow("p(class)", self.target_prob)
        numbers.addRow("map total", self.map_total)
        numbers.addRow("answer", self.answer)
        map_row = QHBoxLayout()
        for w in (self.stride, self.approximate, self.compute, self.cancel, self.clear_map):
            map_row.addWidget(w)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(size_row)
        layout.addLayout(map_row)
        layout.addWidget(self.progress)
        layout.addWidget(self.map_info)
        layout.addLayout(numbers)
        layout.addWidget(self.table)

        self.slider.valueChanged.connect(self._slider_moved)
        self.canvas.moved.connect(lambda top, left, size: self._sync_slider(size))
        self.compute.clicked.connect(self.mapRequested)
        self.cancel.clicked.connect(self.cancelRequested)
        self.clear_map.clicked.connect(self._clear_map)
        self.target.currentIndexChanged.connect(lambda i: self.targetChanged.emit(i) if i >= 0 else None)

    def _slider_moved(self, value: int) -> None:
        self.size_label.setText(f"{value} px")
        self.canvas.set_size(value)

    def _sync_slider(self, size: int) -> None:
        if self.slider.value() != size:
            self.slider.blockSignals(True)
            self.slider.setValue(size)
            self.slider.blockSignals(False)
            self.size_label.setText(f"{size} px")

    def _clear_map(self) -> None:
        self.canvas.set_heat(None)
        self.clear_map.setEnabled(False)
        self.map_info.setText("")

    def show_answer(self, approximate: bool | None, level: str = "exact", moving: bool = False) -> None:
        """Say whether the live numbers are approximate (True, at ``level``, e.g. "field 0.3"), exact (False) or the
        unoccluded image's (None); ``moving``: they answer a moving square (exact ones then say so)."""
        text = "–" if approximate is None else f"approximate: {level} (square moving)" if approximate else \
            "exact (square moving)" if moving else "exact"
        if self.answer.text() != text:
            self.answer.setText(text)

    def set_classes(self, names, chosen: int) -> None:
        """Fill the target-class chooser with ``names`` and select ``chosen`` (without emitting targetChanged)."""
        self.target.blockSignals(True)
        self.target.clear()
        self.target.addItems([f"{i}: {n}" for i, n in enumerate(names)])
        self.target.setCurrentIndex(chosen)
        self.target.blockSignals(False)

    def set_input_size(self, height: int, width: int) -> None:
        """Limit the slider to the model's input size and pick a default square of about 1/7 of it."""
        side = min(height, width)
        self.slider.blockSignals(True)
        self.slider.setMaximum(side)
        self.slider.setValue(max(2, side // 7))
        self.slider.blockSignals(False)
        self.size_label.setText(f"{self.slider.value()} px")
        self.canvas.size = self.slider.value()
        self.stride.setValue(max(1, side // 28))

    def set_running(self, running: bool) -> None:
        """Switch the map buttons between idle and running."""
        self.compute.setEnabled(not running)
        self.cancel.setEnabled(running)
        if not running:
            self.progress.setValue(0)
