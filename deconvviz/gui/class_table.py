"""The top-5 class probabilities as a small table with bars."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QStyledItemDelegate, QTableWidget, QTableWidgetItem


class _BarDelegate(QStyledItemDelegate):
    """Paints a probability cell as a flat bar with the value's text, inside the table's one repaint (a
    QProgressBar per cell repainted each as its own widget on every live answer). Two rectangles and a text:
    the style's progress bar, drawn here before, made the table's update and repaint 1.2-1.8 ms of the UI
    thread's CPU per live answer against 0.7-1.0 ms now (measured offscreen, AVX2-only EPYC)."""

    def paint(self, painter, option, index) -> None:
        value = index.data(Qt.ItemDataRole.UserRole)
        if value is None:
            return super().paint(painter, option, index)
        palette = option.palette
        rect = option.rect.adjusted(2, 3, -2, -3)
        painter.fillRect(rect, palette.color(QPalette.ColorRole.Base))
        filled = QRect(rect)
        filled.setWidth(int(round(rect.width() * min(1.0, max(0.0, float(value))))))
        painter.fillRect(filled, palette.color(QPalette.ColorRole.Highlight))
        painter.setPen(palette.color(QPalette.ColorRole.Mid))
        painter.drawRect(rect.adjusted(0, 0, -1, -1))
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, index.data(Qt.ItemDataRole.DisplayRole))


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
        self.setItemDelegateForColumn(1, _BarDelegate(self))
        self.values = np.zeros(0, np.float32)
        self.approximate = False
        for row in range(k):
            self.setItem(row, 0, QTableWidgetItem(""))
            self.setItem(row, 1, QTableWidgetItem(""))

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
        for row, c in enumerate(top):
            p = float(probs[c])
            self.item(row, 0).setText(names[c] if c < len(names) else f"class {c}")
            cell = self.item(row, 1)
            cell.setText(f"{p:.4f}")
            cell.setData(Qt.ItemDataRole.UserRole, p)

    def rows(self) -> list[tuple[str, str]]:
        """Return the table as (class name, probability text) rows."""
        return [(self.item(r, 0).text(), self.item(r, 1).text()) for r in range(self.rowCount())]
