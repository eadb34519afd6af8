"""Activation maximisation: the input the session's selected channel (or the image's top class) likes most, by
feature visualisation (the default, as ``deconvviz actmax``) or plain gradient ascent on the pixels."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QSpinBox

from ...session.recipes import ActmaxRecipe
from .base import AnalysisView
from .panel_view import PanelView

METHODS = (("feature vis", "featvis"), ("pixel ascent", "pixel"))  # (menu text, the recipe's method)
DEFAULT_STEPS = {"featvis": 256, "pixel": 30}  # the CLI's defaults


class ActmaxView(AnalysisView):
    """Feature visualisation (a Fourier-parametrised picture under robustness transforms) or regularised pixel
    ascent from noise or the mean image, with progress and Cancel."""

    title = "activation maximisation"
    slug = "actmax"

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.what = QComboBox(objectName="what")
        self.what.addItems(["selected channel", "top class of the image"])
        self.method = QComboBox(objectName="method")
        for text, method in METHODS:
            self.method.addItem(text, method)
        self.size = QSpinBox(objectName="size", minimum=16, maximum=512, value=128, singleStep=16)
        self.size.setSuffix(" px")
        self.start = QComboBox(objectName="start")
        self.start.addItems(["noise", "mean"])
        self.steps = QSpinBox(objectName="steps", minimum=1, maximum=4000, value=DEFAULT_STEPS["featvis"])
        self.step_size = QDoubleSpinBox(objectName="stepSize", minimum=0.001, maximum=5.0, value=0.05,
                                        decimals=3, singleStep=0.01)
        self.l1 = QDoubleSpinBox(objectName="l1", minimum=0.0, maximum=10.0, value=0.1, decimals=3, singleStep=0.05)
        self.l2 = QDoubleSpinBox(objectName="l2", minimum=0.0, maximum=10.0, value=0.0, decimals=3, singleStep=0.05)
        self.run_button = QPushButton("Run", objectName="run")
        self.run_button.clicked.connect(self.run)
        row = QHBoxLayout()
        for label, widget in (("maximise", self.what), ("by", self.method), ("steps", self.steps), ("size", self.size),
                              ("from", self.start), ("step", self.step_size), ("L1", self.l1), ("L2", self.l2)):
            row.addWidget(QLabel(label))
            row.addWidget(widget)
        row.addStretch(1)
        row.addWidget(self.run_button)
        self.body.addLayout(row)
        self.view = PanelView()
        self.view.setMinimumSize(820, 280)
        self.body.addWidget(self.view, 1)
        self.method.currentIndexChanged.connect(self._method_changed)
        self._method_changed()
        self.show_message("Run maximises the channel selected in the main window")

    def method_name(self) -> str:
        """Return the recipe's method: "featvis" or "pixel"."""
        return self.method.currentData()

    def _method_changed(self, *_) -> None:
        pixel = self.method_name() == "pixel"
        for widget in (self.start, self.step_size, self.l1, self.l2):
            widget.setEnabled(pixel)
        self.size.setEnabled(not pixel)
        self.steps.setValue(DEFAULT_STEPS[self.method_name()])

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

    def recipe(self, chosen: dict) -> ActmaxRecipe:
        """Return the recipe of the view's settings for the target options ``chosen``."""
        method = self.method_name()
        options = {"size": self.size.value()} if method == "featvis" else {
            "start": self.start.currentText(), "step_size": self.step_size.value(), "l1": self.l1.value(),
            "l2": self.l2.value()}
        return ActmaxRecipe(**self.model_options(), **chosen, method=method, steps=self.steps.value(), **options,
                            out="actmax.png")

    def run(self) -> None:
        """Start the maximisation (a long job: progress and Cancel)."""
        chosen = self.target_options()
        if chosen is None:
            self.show_message("select a layer and channel in the main window first", error=True)
            return
        recipe = self.recipe(chosen)
        target = recipe.target()

        def job(model, progress, cancel):
            start, ascent = recipe.compute(model, progress, cancel)
            return recipe.panel(model, start, ascent, recipe.shell())

        self.show_message(f"maximising {target.describe()} by {self.method.currentText()}…")
        self.submit("actmax", job, lambda panel: self._show(panel, recipe), long=True)

    def _show(self, panel, recipe: ActmaxRecipe) -> None:
        self.view.set_panel(panel)
        self.set_panel(panel, lambda out: replace(recipe, out=out))
        self.show_message(panel.caption)
