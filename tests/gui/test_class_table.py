"""The class table shows the k most probable classes, in order, with their probability as text and bar."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from deconvviz.gui.class_table import ClassTable


def test_the_table_lists_the_top_classes_in_order_with_their_bars(qtbot):
    table = ClassTable(k=3)
    qtbot.addWidget(table)
    probs = np.full(10, 0.01, np.float32)
    probs[[7, 2, 5]] = [0.5, 0.3, 0.12]
    names = [f"c{i}" for i in range(10)]
    table.set_probabilities(probs, names)
    assert table.rows() == [("c7", "0.5000"), ("c2", "0.3000"), ("c5", "0.1200")]
    assert [table.item(r, 1).data(Qt.ItemDataRole.UserRole) for r in range(3)] == pytest.approx([0.5, 0.3, 0.12], abs=1e-6)
    table.show()
    picture = table.grab().toImage()
    cell = table.visualItemRect(table.item(0, 1)).translated(table.viewport().pos())
    y = cell.center().y()
    filled = [picture.pixelColor(cell.left() + int(f * cell.width()), y) for f in (0.1, 0.2, 0.3)]  # in the 0.5 bar
    empty = [picture.pixelColor(cell.left() + int(f * cell.width()), y) for f in (0.8, 0.9)]  # beyond it
    assert all(c.hsvSaturationF() > 0.3 for c in filled) and all(c.hsvSaturationF() < 0.1 for c in empty)
    probs[[7, 2]] = [0.05, 0.7]
    table.set_probabilities(probs, names)
    assert table.rows()[0] == ("c2", "0.7000") and table.rows()[1] == ("c5", "0.1200")


def test_ties_keep_the_class_order(qtbot):
    table = ClassTable(k=2)
    qtbot.addWidget(table)
    table.set_probabilities(np.array([0.2, 0.4, 0.4], np.float32), ["a", "b", "c"])
    assert [name for name, _ in table.rows()] == ["b", "c"]

