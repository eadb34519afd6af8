"""Gradient saliency of a class for the session's current image."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton

from ...figures.saliency import saliency_panel
from ...session.recipes import SaliencyRecipe
from .base import AnalysisView, ClassBox
from .panel_view import PanelView


class SaliencyView(AnalysisView):
    """|d score / d image| for the chosen class (default: the top class) of the current image."""

    title = "saliency"
    slug = "saliency"

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.target = ClassBox(objectName="target")
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
        self.target.fill(self.session.loaded.class_names if self.session.loaded else ())

    def _on_model(self, loaded) -> None:
        self._fill_classes()
        self._on_image(self.session.image)

    def _on_image(self, image) -> None:
        if self.isVisible():
            self.run()

    def run(self) -> None:
        """Compute the saliency of the chosen class for the main window's image."""
        facts, target = self.session.image, self.target.currentData()
        if facts is None or not facts.path:
            return
        recipe = SaliencyRecipe(**self.model_options(), **facts.input_options(), target=target, out="saliency.png")
        # a camera's frame has no command: nothing can read it again
        recipe = recipe if facts.rereadable() else None

        def job(model, progress, cancel):
            from ...analyses.actmax import class_saliency
            from ...session.pictures import frame_panel

            x = model.preprocess(facts.as_picture().image)  # an image file, or the frame's own pixels
            s = class_saliency(model, x, target)
            panel = saliency_panel(model, x, s, facts.path, "" if recipe is None else recipe.shell())
            return frame_panel(panel, facts.frame, command=recipe is not None)  # as `deconvviz saliency` names it

        self.submit("saliency", job, lambda panel: self._show(panel, recipe))

    def _show(self, panel, recipe: SaliencyRecipe | None) -> None:
        self.view.set_panel(panel)
        self.set_panel(panel, None if recipe is None else lambda out: replace(recipe, out=out))
        self.show_message(panel.caption)
