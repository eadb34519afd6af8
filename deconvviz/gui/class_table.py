"""The top-5 class probabilities as a small table with bars."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QProgressBar, QTableWidget, QTableWidgetItem


class ClassTable(QTableWidget):
    """Rows: class name, probability (text and bar), for the k most probable classes."""

    def __init__(self, k: int = 5, parent=None) -> None:
        super().__init__(k, 2, parent)
        self.setObjectName("classProbabilities")
        self.setHorizontalHeaderLabels(["class", "probability"])
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Fixed)
        self.setColumnWidth(1, 130)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.verticalHeader().setDefaultSectionSize(22)
        self.setMaximumHeight(26 + 22 * k)
        self._bars = []
        self.values = np.zeros(0, np.float32)
        self.approximate = False
        for row in range(k):
            self.setItem(row, 0, QTableWidgetItem(""))
            bar = QProgressBar(maximum=1000, textVisible=True)
            self.setCellWidget(row, 1, bar)
            self._bars.append(bar)

    def set_probabilities(self, probs: np.ndarray, names, approximate: bool = False) -> None:
        """Show the k most probable classes of ``probs`` (num_classes,) with ``names``; ``approximate``: the
        header says the numbers are approximate."""
        self.values = np.array(probs, dtype=np.float32)
        if approximate != self.approximate:  # only on a change: a header relayout per live answer costs
            self.approximate = approximate
            self.horizontalHeaderItem(1).setText("≈ probability" if approximate else "probability")  # fits the column
        k = min(self.rowCount(), len(probs))
        # the k largest, ties by class index as a stable sort gives (a full sort of 1000 costs ~0.4 ms per answer)
        best = np.argpartition(-probs, k - 1)[:k] if 0 < k < len(probs) else np.arange(len(probs))
        cut = probs[best].min() if k else 0
        best = np.flatnonzero(probs >= cut)
        top = best[np.argsort(-probs[best], kind="stable")][:k]
        # A bar repaints at once on every new value; with updates off, the table repaints once, later.
        self.setUpdatesEnabled(False)
        try:
            for row, c in enumerate(top):
                self.item(row, 0).setText(names[c] if c < len(names) else f"class {c}")
                self._bars[row].setValue(int(round(float(probs[c]) * 1000)))
                self._bars[row].setFormat(f"{float(probs[c]):.4f}")
        finally:
            self.setUpdatesEnabled(True)

    def rows(self) -> list[tuple[str, str]]:
        """Return the table as (class name, probability text) rows."""
        return [(self.item(r, 0).text(), self._bars[r].format()) for r in range(self.rowCount())]
