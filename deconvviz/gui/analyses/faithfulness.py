"""Faithfulness of the maps (Petsiuk et al. 2018): deletion and insertion curves of the occlusion and saliency
maps of the session's image, for its top class or a chosen one, against a random pixel order."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QTableWidget, QVBoxLayout

from ...session.recipes import FAITHFULNESS_DEFAULT, FAITHFULNESS_MAPS, FaithfulnessRecipe
from .base import AnalysisView, ClassBox
from .panel_view import PanelView
from .sanity import fill_table


class FaithfulnessView(AnalysisView):
    """The input, each map, the deletion and insertion curves (the CLI's figure) and a table of the areas."""

    title = "faithfulness (deletion / insertion)"
    slug = "faithfulness"

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.target = ClassBox(objectName="target")
        self.maps = {m: QCheckBox(m, objectName=f"map-{m}", checked=m in FAITHFULNESS_DEFAULT)
                     for m in FAITHFULNESS_MAPS}  # occlusion and every method of the registry
        self.steps = QSpinBox(objectName="steps", minimum=1, maximum=10_000, value=50)
        self.random = QSpinBox(objectName="random", minimum=1, maximum=100, value=3)
        self.run_button = QPushButton("Run", objectName="run")
        self.run_button.clicked.connect(self.run)
        row = QHBoxLayout()
        row.addWidget(QLabel("class"))
        row.addWidget(self.target, 1)
        for label, widget in (("steps", self.steps), ("random orders", self.random)):
            row.addWidget(QLabel(label))
            row.addWidget(widget)
        row.addWidget(self.run_button)
        self.body.addLayout(row)
        boxes = QHBoxLayout()  # a row of its own: occlusion and the registry's nine methods
        boxes.addWidget(QLabel("maps"))
        for box in self.maps.values():
            boxes.addWidget(box)
        boxes.addStretch(1)
        self.body.addLayout(boxes)
        self.view = PanelView()
        self.view.setMinimumSize(900, 260)
        self.table = QTableWidget(objectName="table")
        self.table.setMaximumHeight(130)
        self.table.verticalHeader().hide()
        column = QVBoxLayout()
        column.addWidget(self.view, 1)
        column.addWidget(self.table)
        self.body.addLayout(column, 1)
        self.result = None
        self._on_model(self.session.loaded)
        self.session.events.loaded.connect(self._on_model)
        self.resize(1250, 520)
        self.show_message("Run greys out (deletion) or reveals (insertion) the pixels each map ranks first")

    def _on_model(self, loaded) -> None:
        self.target.fill(loaded.class_names if loaded else ())

    def recipe(self) -> FaithfulnessRecipe | None:
        """Return the recipe of what the controls ask for (None, with a message, when it cannot run)."""
        facts = self.session.image
        maps = tuple(m for m, box in self.maps.items() if box.isChecked())
        if facts is None or not facts.path:
            self.show_message("no image yet", error=True)
        elif not maps:
            self.show_message("tick at least one map", error=True)
        else:
            k = self.target.currentData()
            return FaithfulnessRecipe(**self.model_options(), **facts.input_options(), target=None if k is None else str(k),
                                      maps=maps, steps=self.steps.value(), random=self.random.value(),
                                      csv="faithfulness.csv", out="faithfulness.png")
        return None

    def run(self) -> None:
        """Compute the curves (a long job: progress per stage, and Cancel)."""
        recipe = self.recipe()
        if recipe is None:
            return
        self.show_message("deleting and inserting pixels…")
        self.submit_recipe("faithfulness", recipe, lambda *answer: self._show(*answer, recipe))

    def _show(self, result, panel, rereadable: bool, recipe: FaithfulnessRecipe) -> None:
        self.result = result
        self.view.set_panel(panel)
        rows = [[name, c.deletion_auc, c.insertion_auc] for name, c in result.curves.items()]
        fill_table(self.table, ["map", "deletion AUC (lower: more faithful)", "insertion AUC (higher: more faithful)"],
                   rows)
        self.set_panel(panel, (lambda out: replace(recipe, out=out, csv=str(Path(out).with_suffix(".csv"))))
                       if rereadable else None)
        self.show_message(panel.caption)
