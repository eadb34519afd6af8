"""Filters (Fig. 6): the current model's first-layer filters, alone or beside another snapshot or model."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton

from ...figures.filters import filters_panel
from ...paths import WEIGHTS
from ...session.recipes import FiltersRecipe
from .base import AnalysisView
from .panel_view import PanelView

NOTHING = "nothing"


def bundled_snapshots() -> list[Path]:
    """Return the bundled weights files (final weights and training snapshots), by path."""
    return sorted(WEIGHTS.glob("**/*.safetensors")) if WEIGHTS.is_dir() else []


class FiltersView(AnalysisView):
    """The first-layer filters of the main window's model; "beside" adds a second snapshot or model."""

    title = "first-layer filters (Fig. 6)"
    slug = "filters"

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.compare = QComboBox(objectName="compare")
        self.compare.setMinimumContentsLength(36)
        self.compare.addItem(NOTHING, None)
        for path in bundled_snapshots():
            self.compare.addItem(str(path.relative_to(WEIGHTS)), str(path))
        browse = QPushButton("Other weights…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(QLabel("beside:"))
        row.addWidget(self.compare, 1)
        row.addWidget(browse)
        self.body.addLayout(row)
        self.view = PanelView()
        self.view.setMinimumSize(640, 400)
        self.body.addWidget(self.view, 1)
        self.compare.currentIndexChanged.connect(lambda _: self.refresh())
        self.session.events.loaded.connect(lambda _: self.refresh())
        self.refresh()

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Weights or snapshot to show beside", str(WEIGHTS),
                                              "Snapshots (*.safetensors);;All files (*)")
        if path:
            self.set_compare(path)

    def set_compare(self, path: str | None) -> None:
        """Show the filters of ``path`` (a .safetensors snapshot, or a model name) beside; None: alone."""
        i = self.compare.findData(path)
        if i < 0:
            self.compare.addItem(str(path), str(path))
            i = self.compare.count() - 1
        self.compare.setCurrentIndex(i)  # refreshes

    def refresh(self) -> None:
        """Recompute the panel for the main window's model and the chosen comparison."""
        other = self.compare.currentData()
        recipe = FiltersRecipe(**self.model_options(), compare_model=other or None, out=None)

        def run(model, progress, cancel):
            from ...models import load_model

            second = load_model(other, device=model.device) if other else None
            return filters_panel(model, second, recipe.shell())

        self.submit("filters", run, lambda panel: self._show(panel, recipe))

    def _show(self, panel, recipe: FiltersRecipe) -> None:
        self.view.set_panel(panel)
        self.set_panel(panel, lambda out: replace(recipe, out=out))
        self.show_message(panel.caption)
