"""The deconvnet pane: the enlarged feature map (click an activation), its projection and receptive-field crops,
and the channel's feature visualisation."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

from ..figures.render import heatmap_rgb
from ..session import messages as m
from .image_view import ImageView

MODES = ("deconvnet", "guided", "backprop")
WHICH = ("strongest", "clicked", "whole map", "top-k")


NO_POOL_HINT = ("No max-pooling in this network: the deconvnet has no switches, so its picture depends on the "
                "image only through the chosen activation (a texture over its receptive field).")


class DeconvPane(QWidget):
    """Controls (mode, which activation, k) and five views: feature map, projection, its crop, the image crop and
    the channel's feature visualisation (from the grid or the cache; computed when ``compute_featvis`` is on).

    Signals
    -------
    changed()
        The user changed what to project (mode, which activation, k, or clicked a position).
    """

    changed = Signal()
    featvisToggled = Signal(bool)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("deconvPane")
        self.position: tuple[int, int] | None = None
        self.mode = QComboBox(objectName="projectionMode")
        self.mode.addItems(MODES)
        self.which = QComboBox(objectName="projectionWhich")
        self.which.addItems(WHICH)
        self.k = QSpinBox(objectName="projectionK", minimum=2, maximum=16, value=9)
        self.k.setPrefix("k = ")
        self.info = QLabel("", objectName="projectionInfo")
        self.info.setWordWrap(True)
        self.feature_map = ImageView("feature map (click)")
        self.projection = ImageView("projection")
        self.crop = ImageView("projection crop")
        self.crop.setToolTip("The projection cut to the activation's receptive field")
        self.patch = ImageView("image crop")
        self.patch.setToolTip("The image cut to the activation's receptive field")
        self.featvis = ImageView("feature vis")
        self.compute_featvis = QCheckBox("feature vis", objectName="paneFeatvis")
        self.compute_featvis.setToolTip("compute the channel's feature visualisation when it is not cached")
        self.compute_featvis.toggled.connect(self.featvisToggled)
        self.compute_featvis.toggled.connect(self._featvis_placeholder)
        self._featvis_placeholder(False)
        controls = QHBoxLayout()
        for label, widget in (("mode", self.mode), ("project", self.which)):
            controls.addWidget(QLabel(label))
            controls.addWidget(widget)
        controls.addWidget(self.k)
        controls.addStretch(1)
        controls.addWidget(self.compute_featvis)
        views = QGridLayout()
        for i, view in enumerate((self.feature_map, self.projection, self.crop, self.patch, self.featvis)):
            views.addWidget(view, 0, i)
        # On a network without max-pooling the deconvnet has no switches: say what that means, offer guided.
        self.no_pool_hint = QLabel(NO_POOL_HINT, objectName="noPoolHint")
        self.no_pool_hint.setWordWrap(True)  # one long line would widen the window past the screen
        self.use_guided = QPushButton("Use guided backprop", objectName="useGuided")
        self.use_guided.clicked.connect(lambda: self.mode.setCurrentText("guided"))
        hint = QHBoxLayout()
        hint.addWidget(self.no_pool_hint, 1)
        hint.addWidget(self.use_guided)
        self._max_pooling = True
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(controls)
        layout.addLayout(hint)
        layout.addLayout(views, 1)
        layout.addWidget(self.info)
        self.mode.currentIndexChanged.connect(self._update_hint)
        self.mode.currentIndexChanged.connect(self.changed)
        self.which.currentIndexChanged.connect(self._which_changed)
        self.k.valueChanged.connect(self._k_changed)
        self.feature_map.clicked.connect(self.click_activation)
        self._which_changed()
        self._update_hint()

    def set_max_pooling(self, present: bool) -> None:
        """Say whether the current network has max-pooling (without it, the deconvnet pane explains itself)."""
        self._max_pooling = present
        self._update_hint()

    def _update_hint(self, *_) -> None:
        show = not self._max_pooling and self.mode.currentText() == "deconvnet"
        self.no_pool_hint.setVisible(show)
        self.use_guided.setVisible(show)

    def click_activation(self, row: int, col: int) -> None:
        """Project the activation at (row, col) of the feature map."""
        self.position = (row, col)
        self.which.blockSignals(True)
        self.which.setCurrentText("clicked")
        self.which.blockSignals(False)
        self._which_changed(emit=False)
        self.changed.emit()

    def _which_changed(self, *_, emit: bool = True) -> None:
        self.k.setEnabled(self.which.currentText() == "top-k")
        if emit and (self.which.currentText() != "clicked" or self.position is not None):
            self.changed.emit()

    def _k_changed(self) -> None:
        if self.which.currentText() == "top-k":
            self.changed.emit()

    def request(self, generation: int, layer: str, channel: int) -> m.Project:
        """Return the Project request for ``layer``/``channel`` with the pane's settings."""
        which = self.which.currentText()
        position = self.position if which == "clicked" else None
        return m.Project(generation, layer, channel, position, self.mode.currentText(),
                         whole_map=which == "whole map", top_k=self.k.value() if which == "top-k" else None)

    def reset_position(self) -> None:
        """Forget the clicked activation (the layer or channel changed); fall back to the strongest."""
        self.position = None
        if self.which.currentText() == "clicked":
            self.which.blockSignals(True)
            self.which.setCurrentText("strongest")
            self.which.blockSignals(False)

    def show_result(self, result: m.ProjectionReady) -> None:
        """Show a projection result."""
        req = result.request
        fmap = result.feature_map
        self.feature_map.set_image(heatmap_rgb(fmap, min(0.0, float(fmap.min())), max(float(fmap.max()), 1e-12))
                                   if fmap is not None and fmap.size > 1 else None)
        pos = result.positions[0] if len(result.positions) == 1 else None
        self.feature_map.set_marker((pos[0], pos[1], pos[0] + 1, pos[1] + 1) if pos is not None else None)
        self.projection.set_image(result.full)
        self.crop.set_image(result.crops)
        self.patch.set_image(result.patches)
        if len(result.positions) > 1:
            what = f"top-{len(result.positions)} activations"
        elif pos is None:
            what = "whole map" if req.whole_map else "unit"
        else:
            what = f"activation ({pos[0]}, {pos[1]}) = {result.values[0]:.4g}"
        self.info.setText(f"{req.layer} · channel {req.channel} · {what} · {req.mode}")

    def _featvis_placeholder(self, computing: bool) -> None:
        self.featvis.placeholder = ("computing\u2026" if computing
                                    else "not computed: tick \u201cfeature vis\u201d above")
        self.featvis.update()

    def show_featvis(self, rgb) -> None:
        """Show the channel's feature visualisation (S, S, 3) uint8 (None: none yet)."""
        self.featvis.set_image(rgb)

    def clear(self) -> None:
        """Show nothing."""
        for view in (self.feature_map, self.projection, self.crop, self.patch, self.featvis):
            view.set_image(None)
        self.info.setText("")
