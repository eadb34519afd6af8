"""Invariance (Fig. 5): feature distance at two layers and p(true class) against the amount of translation,
scaling or rotation of the current image (and, optionally, the other bundled photos), plotted with pyqtgraph."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton

from ...data.images import sample_photos
from ...engine.invariance import UNITS
from ...figures.invariance import invariance_panel
from ...figures.plots import PALETTE
from ...session.recipes import InvarianceRecipe
from .base import AnalysisView

MAX_IMAGES = 5


class InvarianceView(AnalysisView):
    """Three plots: distance at the first conv block, at the penultimate layer, and p(true class)."""

    title = "invariance (Fig. 5)"
    slug = "invariance"

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.kind = QComboBox(objectName="transform")
        self.kind.addItems(["translate", "scale", "rotate"])
        self.others = QCheckBox("+ other bundled photos", objectName="others")
        self.run_button = QPushButton("Run", objectName="run")
        self.run_button.clicked.connect(self.run)
        row = QHBoxLayout()
        row.addWidget(QLabel("transform:"))
        row.addWidget(self.kind)
        row.addWidget(self.others)
        row.addStretch(1)
        row.addWidget(self.run_button)
        self.body.addLayout(row)
        pg.setConfigOptions(antialias=True)
        self.plots = [pg.PlotWidget(background="w") for _ in range(3)]
        plots = QHBoxLayout()
        for plot in self.plots:
            plot.setMinimumSize(300, 260)
            plot.showGrid(x=True, y=True, alpha=0.3)
            plots.addWidget(plot)
        self.body.addLayout(plots, 1)
        self.legend = QLabel("", objectName="legend")  # below the plots, where it hides no line
        self.body.addWidget(self.legend)
        self.kind.currentIndexChanged.connect(lambda _: self.run())
        self.others.toggled.connect(lambda _: self.run())
        self.result = None
        self.session.events.loaded.connect(self._on_input)
        self.session.events.image.connect(self._on_input)
        self.run()

    def _on_input(self, _) -> None:
        if self.isVisible():
            self.run()

    def images(self) -> list[str]:
        """Return the images to transform: the session's input (an image file, or the video of the paused
        frame), then the other bundled photos when ticked."""
        current = self.session.image.path if self.session.image else ""
        images = [current] if current else []
        if self.others.isChecked():
            images += [str(p) for p in sample_photos() if Path(p).resolve() != Path(current).resolve()]
        return images[:MAX_IMAGES]

    def run(self) -> None:
        """Compute the curves for the chosen transform."""
        facts, images, kind = self.session.image, self.images(), self.kind.currentText()
        if facts is None:
            self.show_message("no image loaded yet")
            return
        recipe = InvarianceRecipe(**self.model_options(), images=tuple(images), frame=facts.input_options()["frame"],
                                  transform=kind, out="invariance.png")
        recipe = recipe if facts.rereadable() else None  # a camera's frame: nothing can read it again
        pictures = [facts.as_picture()] + images[1:]  # the session's picture: an image file or a paused frame

        def job(model, progress, cancel):
            from ...analyses.invariance import invariance_curves

            result = invariance_curves(model, pictures, kind)
            first = model.preprocess(pictures[0].image)
            panel = invariance_panel(model, result, first, "" if recipe is None else recipe.shell())
            labels = [f"{n} ({model.class_name(c.true_class)})" for n, c in zip(result.names, result.curves)]
            return result, labels, panel

        self.show_message(f"transforming by {kind}…")
        self.submit("invariance", job, lambda r: self._show(*r, recipe), long=True)

    def _show(self, result, labels, panel, recipe: InvarianceRecipe | None) -> None:
        self.result = result
        titles = [f"distance at {layer}" for layer in result.layers] + ["p(true class)"]
        for i, plot in enumerate(self.plots):
            plot.clear()
            plot.setTitle(titles[i], color="k")
            plot.setLabel("bottom", UNITS[result.kind])
            plot.setLabel("left", "probability" if i == 2 else "Euclidean distance")
            for j, (label, curves) in enumerate(zip(labels, result.curves)):
                y = curves.prob if i == 2 else curves.distances[result.layers[i]]
                plot.plot(result.amounts, list(map(float, y)), pen=pg.mkPen(PALETTE[j % len(PALETTE)], width=2),
                          symbol="o", symbolSize=5, symbolBrush=PALETTE[j % len(PALETTE)], name=label)
            if i == 2:
                plot.setYRange(0, 1)
        self.legend.setText("&nbsp;&nbsp;&nbsp;".join(
            f'<span style="color: rgb{PALETTE[j % len(PALETTE)]}">&#9632;&#9632;</span> {label}'
            for j, label in enumerate(labels)))
        self.set_panel(panel, None if recipe is None else lambda out: replace(recipe, out=out))
        self.show_message(panel.caption)

    def curve(self, plot: int, image: int = 0) -> tuple[list[float], list[float]]:
        """Return the (x, y) data of ``image``'s line in plot ``plot`` (0, 1: distances, 2: probability)."""
        items = self.plots[plot].getPlotItem().listDataItems()
        x, y = items[image].getData()
        return list(map(float, x)), list(map(float, y))
