"""Activation maximisation: the input the session's selected channel (or the image's top class) likes most."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QSpinBox

from ...figures.saliency import actmax_panel
from ...session.recipes import ActmaxRecipe
from .base import AnalysisView
from .panel_view import PanelView


class ActmaxView(AnalysisView):
    """Regularised gradient ascent from noise or the mean image, with progress and Cancel."""

    title = "activation maximisation"
    slug = "actmax"

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.what = QComboBox(objectName="what")
        self.what.addItems(["selected channel", "top class of the image"])
        self.start = QComboBox(objectName="start")
        self.start.addItems(["noise", "mean"])
        self.steps = QSpinBox(objectName="steps", minimum=1, maximum=2000, value=30)
        self.step_size = QDoubleSpinBox(objectName="stepSize", minimum=0.001, maximum=5.0, value=0.05,
                                        decimals=3, singleStep=0.01)
        self.l1 = QDoubleSpinBox(objectName="l1", minimum=0.0, maximum=10.0, value=0.1, decimals=3, singleStep=0.05)
        self.l2 = QDoubleSpinBox(objectName="l2", minimum=0.0, maximum=10.0, value=0.0, decimals=3, singleStep=0.05)
        self.run_button = QPushButton("Run", objectName="run")
        self.run_button.clicked.connect(self.run)
        row = QHBoxLayout()
        for label, widget in (("maximise", self.what), ("from", self.start), ("steps", self.steps),
                              ("step", self.step_size), ("L1", self.l1), ("L2", self.l2)):
            row.addWidget(QLabel(label))
            row.addWidget(widget)
        row.addStretch(1)
        row.addWidget(self.run_button)
        self.body.addLayout(row)
        self.view = PanelView()
        self.view.setMinimumSize(820, 280)
        self.body.addWidget(self.view, 1)
        self.show_message("Run maximises the channel selected in the main window")

    def target_options(self) -> dict | None:
        """Return the recipe's target options for the current choice (None when nothing is selected)."""
        session = self.session
        if self.what.currentIndex() == 0:
            if session.layer is None or session.channel is None:
                return None
            return {"layer": session.layer, "channel": int(session.channel)}
        if session.image is None:
            return None
        return {"class_index": session.image.top_class}

    def run(self) -> None:
        """Start the ascent (a long job: progress and Cancel)."""
        from ...engine.actmax import Target

        chosen = self.target_options()
        if chosen is None:
            self.show_message("select a layer and channel in the main window first", error=True)
            return
        target = Target(chosen["layer"], chosen["channel"]) if "layer" in chosen else Target(**chosen)
        start, steps, size, l1, l2 = (self.start.currentText(), self.steps.value(), self.step_size.value(),
                                      self.l1.value(), self.l2.value())
        recipe = ActmaxRecipe(**self.model_options(), **chosen, method="pixel", start=start, steps=steps,
                              step_size=size, l1=l1,
                              l2=l2, out="actmax.png")

        def job(model, progress, cancel):
            from ...analyses.actmax import activation_maximisation, start_input

            ascent = activation_maximisation(model, target, start, steps, size, l1, l2, 0, progress, cancel)
            return actmax_panel(model, start_input(model, start, 0), ascent, recipe.shell())

        self.show_message(f"maximising {target.describe()}…")
        self.submit("actmax", job, lambda panel: self._show(panel, recipe), long=True)

    def _show(self, panel, recipe: ActmaxRecipe) -> None:
        self.view.set_panel(panel)
        self.set_panel(panel, lambda out: replace(recipe, out=out))
        self.show_message(panel.caption)
