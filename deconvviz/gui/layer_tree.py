"""The model's modules as a tree: name, type, output shape and channel count; PgUp/PgDn step through layers."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QTreeWidget, QTreeWidgetItem

from ..engine.probe import split_call_name

_NAME = Qt.ItemDataRole.UserRole


class LayerTree(QTreeWidget):
    """A tree of layer rows (:class:`deconvviz.engine.probe.LayerRecord`), children under their parent module.

    Signals
    -------
    layerChosen(str)
        The name of the layer the user selected.
    """

    layerChosen = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("layerTree")
        self.setHeaderLabels(["layer", "type", "output", "channels"])
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self._items: dict[str, QTreeWidgetItem] = {}
        self._order: list[str] = []
        self.itemSelectionChanged.connect(self._on_selection)

    def set_layers(self, records) -> None:
        """Show ``records`` (in call order) as a tree; nothing is selected afterwards."""
        self.blockSignals(True)
        self.clear()
        self._items, self._order = {}, [r.name for r in records]
        names = {r.name: r for r in records}
        for r in records:
            self._item(r.name, names)
        self.expandToDepth(0)
        for column in range(4):
            self.resizeColumnToContents(column)
        self.blockSignals(False)

    def _item(self, name: str, names: dict) -> QTreeWidgetItem:
        if name in self._items:
            return self._items[name]
        base, call = split_call_name(name)
        parent_name = base.rsplit(".", 1)[0] if "." in base else None
        parent = self._item(parent_name, names) if parent_name else None
        r = names.get(name)
        shape = "×".join(str(s) for s in r.output_shape) if r else ""
        channels = str(r.channels) if r and r.channels is not None else (str(r.output_shape[0]) if r and len(r.output_shape) == 1 else "")
        label = name.rsplit(".", 1)[-1] if parent_name else name
        item = QTreeWidgetItem([label, r.type_name if r else "", shape, channels])
        item.setData(0, _NAME, name)
        if r is None:
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsSelectable)
        if parent is None:
            self.addTopLevelItem(item)
        else:
            parent.addChild(item)
        self._items[name] = item
        return item

    def layers(self) -> list[str]:
        """Return the layer names in call order."""
        return list(self._order)

    def current_layer(self) -> str | None:
        """Return the selected layer's name, or None."""
        items = self.selectedItems()
        return items[0].data(0, _NAME) if items else None

    def select_layer(self, name: str) -> None:
        """Select layer ``name`` (emits layerChosen) and scroll to it."""
        item = self._items.get(name)
        if item is None or name not in self._order:
            return
        self.setCurrentItem(item)
        item.setSelected(True)
        self.scrollToItem(item)

    def _on_selection(self) -> None:
        name = self.current_layer()
        if name is not None:
            self.layerChosen.emit(name)

    def step(self, delta: int) -> None:
        """Select the layer ``delta`` places after the selected one in call order."""
        if not self._order:
            return
        current = self.current_layer()
        index = self._order.index(current) if current in self._order else -1
        self.select_layer(self._order[max(0, min(len(self._order) - 1, index + delta))])

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_PageDown:
            self.step(1)
        elif event.key() == Qt.Key.Key_PageUp:
            self.step(-1)
        else:
            super().keyPressEvent(event)
