"""Attribution maps (Grad-CAM, integrated gradients, SmoothGrad, ...) of the session's input, drawn over it.

The method box lists the engine's registry. The target is a class score (following the occlusion pane's class
unless another is chosen), a channel of the layer selected in the layer tree (the whole map; the grid's
selected channel unless another is chosen) or one neuron of it at a map position: the API's three targets.
Grad-CAM's layer is the engine's default (the last with maps, before a channel's layer) until one is chosen
here or, for a class target, in the layer tree (a tree layer without maps is not followed; for a channel or
neuron the tree chooses the target's layer instead). While a video plays, the cheap methods (the
registry's ``cheap``: Grad-CAM, the gradients) follow its frames, newest first; the expensive ones wait for
the paused frame, and the message line says so. The opacity slider redraws the map on screen without
computing it again.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QSlider, QSpinBox,
                               QWidget)

from ...session.attribution_job import (SMOOTH_BASES, Attributed, attribute_input, follows_video, reads_layer,
                                        redraw)
from ...session.recipes import ATTRIBUTION_METHODS, AttributeRecipe
from ...session.state import LiveFrame
from .base import AnalysisView, ClassBox
from .panel_view import PanelView

FOLLOW = "follow"  # the target entry that follows the occlusion pane's class
DEFAULT_LAYER = "default: last with maps and a gradient"
CLASS, CHANNEL, NEURON = "class", "channel", "neuron"  # the target kinds: the API's three targets


class AttributionView(AnalysisView):
    """One method's map of the current image, paused frame or playing frame, over the picture."""

    title = "attribution (Grad-CAM, integrated gradients, SmoothGrad, ...)"
    slug = "attribution"

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.method = QComboBox(objectName="method")
        self.method.addItems(list(ATTRIBUTION_METHODS))  # the engine's registry, in its order
        self.kind = QComboBox(objectName="kind")
        self.kind.addItems([CLASS, CHANNEL, NEURON])
        self.target = ClassBox(objectName="target")
        # a channel or neuron of the tree's layer: the layer named, its channel and map position
        self.unit_layer = QLabel(objectName="unit_layer")
        self.channel = QSpinBox(objectName="channel", minimum=0, maximum=0)
        self.row = QSpinBox(objectName="row", minimum=0, maximum=0)
        self.col = QSpinBox(objectName="col", minimum=0, maximum=0)
        self.unit_options = _labelled([("of", self.unit_layer), ("channel", self.channel)])
        self.position = _labelled([("row", self.row), ("col", self.col)])
        self.layer = QComboBox(objectName="layer")
        self.layer.setMinimumContentsLength(14)
        self.run_button = QPushButton("Run", objectName="run")
        self.run_button.clicked.connect(self.run)
        row = QHBoxLayout()
        for label, widget, stretch in (("method", self.method, 0), ("target", self.kind, 0), ("", self.target, 1),
                                       ("", self.unit_options, 0), ("", self.position, 0),
                                       ("Grad-CAM layer", self.layer, 1)):
            if label:
                row.addWidget(QLabel(label))
            row.addWidget(widget, stretch)
        row.addWidget(self.run_button)
        self.body.addLayout(row)

        # the methods' own options: shown for the method that takes them
        self.steps = QSpinBox(objectName="steps", minimum=1, maximum=4096, value=32)
        self.baseline = QComboBox(objectName="baseline")
        self.baseline.addItems(["zero", "mean", "blur"])
        self.base = QComboBox(objectName="base")
        self.base.addItems(list(SMOOTH_BASES))
        self.base.setCurrentText("saliency")  # the engine's default base
        self.samples = QSpinBox(objectName="samples", minimum=1, maximum=1024, value=16)
        self.noise = QDoubleSpinBox(objectName="noise", minimum=0.0, maximum=1.0, singleStep=0.05, value=0.15)
        self.ig_options = _labelled([("steps", self.steps), ("baseline", self.baseline)])
        self.smooth_options = _labelled([("of", self.base), ("samples", self.samples), ("noise", self.noise)])
        self.opacity = QSlider(Qt.Orientation.Horizontal, objectName="opacity", minimum=0, maximum=100, value=70)
        self.opacity.setMaximumWidth(220)
        self.opacity_text = QLabel("0.70")
        options = QHBoxLayout()
        options.addWidget(self.ig_options)
        options.addWidget(self.smooth_options)
        options.addStretch(1)
        options.addWidget(QLabel("opacity"))
        options.addWidget(self.opacity)
        options.addWidget(self.opacity_text)
        self.body.addLayout(options)

        self.view = PanelView()
        self.view.setMinimumSize(760, 340)
        self.body.addWidget(self.view, 1)
        self.shown: Attributed | None = None  # the map on screen
        self._tree_follow = True  # False between a model load and the layer the window then chooses itself
        self._fill(self.session.loaded)
        self._method_changed()
        self._kind_changed()

        for widget in (self.method, self.target, self.layer, self.baseline, self.base):
            widget.currentIndexChanged.connect(self._changed)
        self.kind.currentIndexChanged.connect(self._on_kind)
        for widget in (self.steps, self.samples, self.noise, self.channel, self.row, self.col):
            widget.editingFinished.connect(self._changed)
        self.opacity.valueChanged.connect(self._redraw)
        events = self.session.events
        events.loaded.connect(self._on_model)
        events.image.connect(lambda image: self._follow_input())
        events.live.connect(self._on_live)
        events.target.connect(lambda target: self._on_target())
        events.layer.connect(self._on_tree_layer)
        events.channel.connect(self._on_channel)
        self.resize(1000, 560)
        self.run()

    # -- the controls ---------------------------------------------------------------------------------
    def _fill(self, loaded) -> None:
        """Fill the class and layer boxes for ``loaded`` (the model's facts), keeping the choices that remain."""
        # the first fill follows the occlusion pane's class
        self.target.fill(loaded.class_names if loaded is not None else (), ((self._follow_text(), FOLLOW),))
        layer = self.layer.currentData()
        self.layer.blockSignals(True)
        self.layer.clear()
        self.layer.addItem(DEFAULT_LAYER, None)
        for record in loaded.layers if loaded is not None else ():
            self.layer.addItem(record.name if record.spatial else f"{record.name} (no maps)", record.name)
        self.layer.setCurrentIndex(max(0, self.layer.findData(layer)))
        self.layer.blockSignals(False)

    def _follow_text(self) -> str:
        loaded, k = self.session.loaded, self.session.target
        name = loaded.class_name(k) if loaded is not None else str(k)
        return f"as the occlusion pane ({k}: {name})"

    def _method_changed(self) -> None:
        method = self.method.currentText()
        self.ig_options.setVisible(method == "integrated-gradients")
        self.smooth_options.setVisible(method == "smoothgrad")
        self.layer.setEnabled(reads_layer(method, self.base.currentText()))

    def _changed(self) -> None:
        self._method_changed()
        self.run()

    def unit_record(self):
        """Return the LayerRecord of the tree's layer (a channel or neuron target's), or None."""
        loaded, layer = self.session.loaded, self.session.layer
        return next((r for r in (loaded.layers if loaded is not None else ()) if r.name == layer), None)

    def _kind_changed(self) -> None:
        """Show the controls of the target kind and bound the channel and position to the tree's layer."""
        kind = self.kind.currentText()
        self.target.setVisible(kind == CLASS)
        self.unit_options.setVisible(kind != CLASS)
        self.position.setVisible(kind == NEURON)
        record = self.unit_record()
        self.unit_layer.setText(record.name if record is not None else "no layer selected")
        shape = record.map_shape if record is not None else None
        channels = shape[0] if shape else (record.output_shape[0] if record is not None and record.output_shape
                                           else 1)
        for box, top in ((self.channel, channels), (self.row, shape[1] if shape else 1),
                         (self.col, shape[2] if shape else 1)):
            box.blockSignals(True)
            box.setMaximum(max(0, top - 1))
            box.blockSignals(False)
        if self.session.channel is not None and self.session.channel < channels:
            self.channel.blockSignals(True)
            self.channel.setValue(self.session.channel)
            self.channel.blockSignals(False)
        self.row.setEnabled(bool(shape))
        self.col.setEnabled(bool(shape))

    def _on_kind(self) -> None:
        record = self.unit_record()
        if self.kind.currentText() == NEURON and record is not None and record.map_shape:
            _, height, width = record.map_shape  # a new neuron target starts at the map's centre
            self.row.setValue(height // 2)
            self.col.setValue(width // 2)
        self._kind_changed()
        self.run()

    def _on_channel(self, channel: int | None) -> None:
        """The grid's channel: a channel or neuron target follows it."""
        if channel is None or self.kind.currentText() == CLASS:
            return
        self._kind_changed()
        self.run()

    def _on_model(self, loaded) -> None:
        self._tree_follow = False  # the window chooses a layer for the new model: not the user's choice
        self._fill(loaded)
        self.shown = None
        self.run()

    def _on_target(self) -> None:
        self.target.setItemText(0, self._follow_text())
        if self.target.currentData() == FOLLOW:
            self._follow_input()

    def _on_tree_layer(self, layer: str | None) -> None:
        """The layer chosen in the tree: Grad-CAM reads it when it has maps (not the window's own choice after
        a model load)."""
        if layer is None:
            return
        if not self._tree_follow:
            self._tree_follow = True
            return
        if self.kind.currentText() != CLASS:  # the target's layer, not Grad-CAM's
            self._kind_changed()
            self.run()
            return
        record = next((r for r in (self.session.loaded.layers if self.session.loaded else ()) if r.name == layer), None)
        if record is None:
            return
        if not record.spatial:
            if self.layer.isEnabled():
                self.show_message(f"{layer} has no maps: Grad-CAM stays at {self.layer.currentText()}")
            return
        index = self.layer.findData(layer)
        if index >= 0 and index != self.layer.currentIndex():
            self.layer.setCurrentIndex(index)  # -> run

    def _follow_input(self) -> None:
        if self.isVisible():
            self.run()

    # -- computing ------------------------------------------------------------------------------------
    def chosen_target(self) -> str | None:
        """Return the recipe's target: the occlusion pane's class, a chosen class, None (the top class), or
        ``LAYER:CHANNEL`` / ``LAYER:CHANNEL:ROW,COL`` for a channel or neuron of the tree's layer."""
        kind = self.kind.currentText()
        if kind != CLASS:
            layer = self.session.layer or ""
            unit = f"{layer}:{self.channel.value()}"
            return unit if kind == CHANNEL else f"{unit}:{self.row.value()},{self.col.value()}"
        data = self.target.currentData()
        if data == FOLLOW:
            return str(self.session.target)
        return None if data is None else str(data)

    def recipe(self, facts, layer: str | None = None) -> AttributeRecipe:
        """Return the recipe of what the controls ask for, on input ``facts`` (ImageFacts or a FrameInput's
        options); ``layer`` stands in for the default layer once it is known (a playing video's frames)."""
        method = self.method.currentText()
        options = {}
        if method == "integrated-gradients":
            options = {"steps": self.steps.value(), "baseline": self.baseline.currentText()}
        elif method == "smoothgrad":
            options = {"base": self.base.currentText(), "samples": self.samples.value(),
                       "noise": round(self.noise.value(), 4)}
        uses = reads_layer(method, self.base.currentText())
        chosen = self.layer.currentData() if uses else None
        return AttributeRecipe(**self.model_options(), **facts, method=method, target=self.chosen_target(),
                               layer=chosen or (layer if uses else None), opacity=self.opacity.value() / 100,
                               out="attribution.png", **options)

    def run(self) -> None:
        """Compute the chosen method's map of the input: the playing frame when a video plays (cheap methods
        only), else the image or the paused frame."""
        if self.session.loaded is None:
            self.show_message("no model loaded yet")
            return
        if self.kind.currentText() != CLASS and self.session.layer is None:
            self.show_message(f"a {self.kind.currentText()} target is in the layer chosen in the layer tree: "
                              "choose one there", error=True)
            return
        live = self.session.live
        if live is not None:
            if follows_video(self.method.currentText()):
                self._run_live(live)
            else:
                self.show_message(f"{self.method.currentText()} is too slow to follow a playing video: it computes "
                                  "on the frame you pause on")
            return
        facts = self.session.image
        if facts is None or not facts.path:
            return
        recipe = self.recipe(facts.input_options())
        rereadable, frame, picture = facts.rereadable(), facts.frame, facts.picture

        def job(model, progress, cancel):
            return attribute_input(model, recipe, picture(), frame, rereadable, facts, progress, cancel)

        slow = not follows_video(recipe.method)
        if slow:
            self.show_message(f"computing {recipe.method}…")
        self.submit("attribution", job, self._show, long=slow)

    def _run_live(self, live) -> None:
        frame = live.frame
        shown = self.shown
        known = shown.result.layer if shown is not None and shown.frame is not None \
            and shown.frame.video == frame.video and shown.result.method == self.method.currentText() \
            and shown.recipe.target == self.chosen_target() \
            else None  # the default layer, found on this video's first frame: no probe per frame
        recipe = self.recipe({"image": frame.video, "frame": frame.index}, known)
        rereadable = frame.rereadable()

        def job(model, progress, cancel):
            return attribute_input(model, recipe, live.picture(), frame, rereadable, live, progress, cancel)

        self.submit("attribution", job, self._show, live=True)

    def _on_live(self, live) -> None:
        if live is not None and self.isVisible():
            self.run()

    def is_current(self, shown: Attributed) -> bool:
        """Return whether ``shown`` belongs to the input now: the image or paused frame, or (a playing frame)
        the video that still plays."""
        s, live = shown.source, self.session.live
        if live is not None:
            return isinstance(s, LiveFrame) and s.frame.video == live.frame.video
        return s is self.session.image

    def _show(self, shown: Attributed) -> None:
        if not self.is_current(shown):
            return  # computed for an input that is no longer the session's
        self.shown = shown
        self._redraw()

    def _redraw(self) -> None:
        """Draw the map on screen at the slider's opacity (no computation: the map stays)."""
        self.opacity_text.setText(f"{self.opacity.value() / 100:.2f}")
        shown = self.shown
        if shown is None:
            return
        opacity = self.opacity.value() / 100
        panel = shown.panel if abs(shown.recipe.opacity - opacity) < 1e-9 else redraw(shown, opacity)
        self.view.set_panel(panel)
        self.set_panel(panel, (lambda out: replace(shown.recipe, out=out, opacity=opacity))
                       if shown.rereadable else None)
        note = "" if self.session.live is None or follows_video(self.method.currentText()) else \
            " · playing: computes on the paused frame"
        self.show_message(panel.caption + note)


def _labelled(pairs) -> QWidget:
    """Return a row widget of (label, widget) pairs (hidden as one)."""
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    for label, widget in pairs:
        row.addWidget(QLabel(label))
        row.addWidget(widget)
    return box
