"""Gradient saliency of a class for the session's current image."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton

from ...figures.saliency import saliency_panel
from ...session.recipes import SaliencyRecipe
from .base import AnalysisView
from .panel_view import PanelView

TOP = "top class"


class SaliencyView(AnalysisView):
    """|d score / d image| for the chosen class (default: the top class) of the current image."""

    title = "saliency"
    slug = "saliency"

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.target = QComboBox(objectName="target")
        self.run_button = QPushButton("Run", objectName="run")
        self.run_button.clicked.connect(self.run)
        row = QHBoxLayout()
        row.addWidget(QLabel("class:"))
        row.addWidget(self.target, 1)
        row.addWidget(self.run_button)
        self.body.addLayout(row)
        self.view = PanelView()
        self.view.setMinimumSize(700, 280)
        self.body.addWidget(self.view, 1)
        self._fill_classes()
        self.session.events.loaded.connect(self._on_model)
        self.session.events.image.connect(self._on_image)
        self.run()

    def _fill_classes(self) -> None:
        self.target.blockSignals(True)
        self.target.clear()
        self.target.addItem(TOP, None)
        for i, name in enumerate(self.session.loaded.class_names if self.session.loaded else ()):
            self.target.addItem(f"{i}: {name}", i)
        self.target.blockSignals(False)

    def _on_model(self, loaded) -> None:
        self._fill_classes()
        self._on_image(self.session.image)

    def _on_image(self, image) -> None:
        if self.isVisible():
            self.run()

    def run(self) -> None:
        """Compute the saliency of the chosen class for the main window's image."""
        image, target = (self.session.image.path if self.session.image else ""), self.target.currentData()
        if not image:
            return
        recipe = SaliencyRecipe(**self.model_options(), image=image, target=target, out="saliency.png")

        def job(model, progress, cancel):
            from ...analyses.actmax import class_saliency
            from ...data.images import load_image

            x = model.preprocess(load_image(image))
            s = class_saliency(model, x, target)
            return saliency_panel(model, x, s, Path(image).name, recipe.shell())

        self.submit("saliency", job, lambda panel: self._show(panel, recipe))

    def _show(self, panel, recipe: SaliencyRecipe) -> None:
        self.view.set_panel(panel)
        self.set_panel(panel, lambda out: replace(recipe, out=out))
        self.show_message(panel.caption)
