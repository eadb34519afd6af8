"""Sanity check (Adebayo et al. 2018): do the projections and saliency of the session's selected channel (or a
class score) change when the model's weights are randomised, layer by layer from the top?"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QHeaderView, QLabel, QPushButton, QSpinBox,
                               QTableWidget, QTableWidgetItem, QVBoxLayout)

from ...session.recipes import SANITY_DEFAULT, SANITY_METHODS, SanityRecipe
from .base import AnalysisView, ClassBox
from .panel_view import PanelView

CHANNEL, CLASS = "selected channel", "class score"


def fill_table(table: QTableWidget, header: list[str], rows: list[list]) -> None:
    """Show ``rows`` (numbers to 3 decimals) under ``header`` in ``table``, read-only."""
    table.clear()
    table.setColumnCount(len(header))
    table.setRowCount(len(rows))
    table.setHorizontalHeaderLabels(header)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            text = f"{value:.3f}" if isinstance(value, float) else str(value)
            item = QTableWidgetItem(text)
            item.setToolTip(text)
            table.setItem(r, c, item)
    table.resizeColumnsToContents()
    table.horizontalHeader().setStretchLastSection(True)


class SanityView(AnalysisView):
    """The randomisation test of the session's model, image and channel (or class): the paper's figure (rows:
    methods, columns: steps; the similarity curves; a verdict per method) and a table of the verdicts."""

    title = "sanity check (randomised weights)"
    slug = "sanity"

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.what = QComboBox(objectName="what")
        self.what.addItems([CHANNEL, CLASS])
        self.target = ClassBox(objectName="target")
        self.test = QComboBox(objectName="test")
        self.test.addItems(["cascading", "independent"])
        self.methods = {m: QCheckBox(m, objectName=f"method-{m}", checked=m in SANITY_DEFAULT)
                        for m in SANITY_METHODS}  # every method of the registry; the batched four ticked
        self.seed = QSpinBox(objectName="seed", minimum=0, maximum=2 ** 31 - 1, value=0)
        self.run_button = QPushButton("Run", objectName="run")
        self.run_button.clicked.connect(self.run)
        row = QHBoxLayout()
        for label, widget in (("explain", self.what), ("class", self.target), ("test", self.test)):
            row.addWidget(QLabel(label))
            row.addWidget(widget)
        row.addWidget(QLabel("seed"))
        row.addWidget(self.seed)
        row.addStretch(1)
        row.addWidget(self.run_button)
        self.body.addLayout(row)
        boxes = QHBoxLayout()  # a row of its own: the registry's nine methods would crowd the first
        boxes.addWidget(QLabel("methods"))
        for box in self.methods.values():
            boxes.addWidget(box)
        boxes.addStretch(1)
        self.body.addLayout(boxes)
        self.view = PanelView()
        self.view.setMinimumSize(900, 420)
        self.table = QTableWidget(objectName="table")
        self.table.setMaximumHeight(150)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        column = QVBoxLayout()
        column.addWidget(self.view, 1)
        column.addWidget(self.table)
        self.body.addLayout(column, 1)
        self.what.currentIndexChanged.connect(lambda _: self.target.setEnabled(self.what.currentText() == CLASS))
        self.target.setEnabled(False)
        self.result = None
        self._on_model(self.session.loaded)
        self.session.events.loaded.connect(self._on_model)
        self.resize(1180, 760)
        self.show_message("Run re-initialises the weights from the top layer down and recomputes the maps")

    def _on_model(self, loaded) -> None:
        self.target.fill(loaded.class_names if loaded else ())

    def target_options(self) -> dict | None:
        """Return the recipe's target options (layer and channel, or the class; None when no channel is
        selected)."""
        if self.what.currentText() == CHANNEL:
            if self.session.layer is None or self.session.channel is None:
                return None
            return {"layer": self.session.layer, "channel": int(self.session.channel)}
        k = self.target.currentData()
        return {"class_index": None if k is None else str(k)}

    def chosen_methods(self) -> tuple[str, ...]:
        """Return the ticked methods in their standard order."""
        return tuple(m for m, box in self.methods.items() if box.isChecked())

    def recipe(self) -> SanityRecipe | None:
        """Return the recipe of what the controls ask for (None, with a message, when it cannot run)."""
        facts = self.session.image
        chosen, methods = self.target_options(), self.chosen_methods()
        if facts is None or not facts.path:
            self.show_message("no image yet", error=True)
        elif chosen is None:
            self.show_message("select a layer and channel in the main window first", error=True)
        elif not methods:
            self.show_message("tick at least one method", error=True)
        else:
            return SanityRecipe(**self.model_options(), **facts.input_options(), **chosen, methods=methods,
                                test=self.test.currentText(), seed=self.seed.value(), csv="sanity.csv",
                                out="sanity.png")
        return None

    def run(self) -> None:
        """Start the test (a long job: progress per step, and Cancel)."""
        recipe = self.recipe()
        if recipe is None:
            return
        what = f"{recipe.layer} channel {recipe.channel}" if recipe.layer else "the class score"
        self.show_message(f"randomising the weights ({recipe.test}) and explaining {what}…")
        self.submit_recipe("sanity", recipe, lambda *answer: self._show(*answer, recipe))

    def _show(self, result, panel, rereadable: bool, recipe: SanityRecipe) -> None:
        from ...analyses.sanity import summary_similarity, verdict

        self.result = result
        self.view.set_panel(panel)
        rows = []
        for method in result.methods:
            mean, _ = summary_similarity(result, method)
            words = verdict(result, method)
            # "method: numbers: fails: why" (or "method: cannot tell: why"): the word is the second last part
            rows.append([method, mean, result.scores[method]["spearman"][-1], words.split(": ")[-2], words])
        fill_table(self.table, ["method", "mean Spearman |map|", "last step", "verdict", "in words"], rows)
        self.set_panel(panel, (lambda out: replace(recipe, out=out, csv=str(Path(out).with_suffix(".csv"))))
                       if rereadable else None)
        self.show_message(panel.caption)
