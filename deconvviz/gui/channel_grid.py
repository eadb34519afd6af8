"""One painted widget of feature-map thumbnails with shared levels, or of the channels' feature visualisations;
click, arrow keys and hover tooltips."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from ..figures.feature_maps import channel_order
from .qimage import grey_thumbnails, to_qimage

_GAP = 2


class ChannelGrid(QWidget):
    """Thumbnails of a layer's maps (C, h, w), in index order or sorted by maximum, or the layer's filters, or
    (``view`` "featvis") each channel's feature visualisation as it arrives (a channel without one yet: its map,
    dimmed).

    Signals
    -------
    channelChosen(int)
        The channel index the user selected (click or arrow keys).
    """

    channelChosen = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("channelGrid")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setMinimumSize(160, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._maps: np.ndarray | None = None
        self._maxima: np.ndarray | None = None
        self._filters: np.ndarray | None = None
        self._thumbs: list = []
        self._filter_thumbs: list = []
        self.sort = "index"
        self.show_filters = False
        self.view = "maps"  # or "featvis"
        self._pictures: dict[int, object] = {}  # channel -> QImage of its feature visualisation
        self.order: list[int] = []
        self.selected: int | None = None
        self._layout_key: tuple = ()
        self._layout_value: tuple[int, float] = (1, 1.0)

    # -- data -----------------------------------------------------------------------------------------
    def set_maps(self, maps: np.ndarray, maxima: np.ndarray, levels: tuple[float, float],
                 filters: np.ndarray | None = None, selected: int | None = None) -> None:
        """Show ``maps`` (C, h, w) between the shared ``levels``; ``filters`` (C, k, k, 3) enables the toggle."""
        self._maps, self._maxima, self._filters = maps, maxima, filters
        self._thumbs = grey_thumbnails(maps, levels)
        self._filter_thumbs = [to_qimage(f) for f in filters] if filters is not None else []
        if filters is None:
            self.show_filters = False
        self.order = channel_order(maps, self.sort)
        self.selected = selected if selected is not None and 0 <= selected < len(maps) else None
        self.update()

    def clear(self) -> None:
        """Show nothing."""
        self._maps, self._thumbs, self._filter_thumbs, self.order, self.selected = None, [], [], [], None
        self._pictures = {}
        self.update()

    def set_view(self, view: str) -> None:
        """Show the maps ("maps") or the channels' feature visualisations ("featvis")."""
        self.view = view
        self.update()

    def set_picture(self, channel: int, rgb: np.ndarray) -> None:
        """Show ``rgb`` (S, S, 3) uint8 as ``channel``'s feature visualisation."""
        self._pictures[channel] = to_qimage(rgb)
        self.update()

    def clear_pictures(self) -> None:
        """Forget the feature visualisations (another layer or model)."""
        self._pictures = {}
        self.update()

    def picture_count(self) -> int:
        """Return how many channels have their feature visualisation."""
        return len(self._pictures)

    def count(self) -> int:
        """Return the number of thumbnails shown."""
        return len(self.order)

    def has_filters(self) -> bool:
        """Return whether the layer's filters can be shown."""
        return bool(self._filter_thumbs)

    def set_sort(self, sort: str) -> None:
        """Order thumbnails by "index" or by decreasing "max"."""
        self.sort = sort
        if self._maps is not None:
            self.order = channel_order(self._maps, sort)
        self.update()

    def set_show_filters(self, on: bool) -> None:
        """Show the first layer's filters instead of its feature maps (when available)."""
        self.show_filters = bool(on) and self.has_filters()
        self.update()

    def select(self, channel: int) -> None:
        """Select ``channel`` and emit channelChosen."""
        if self._maps is None or not 0 <= channel < len(self._maps):
            return
        self.selected = channel
        self.update()
        self.channelChosen.emit(channel)

    # -- geometry -------------------------------------------------------------------------------------
    def _layout(self) -> tuple[int, float]:
        """Return (columns, cell side): the largest square cells with which all thumbnails fit the widget."""
        n, w, h = max(1, len(self.order)), max(1, self.width()), max(1, self.height())
        if self._layout_key != (n, w, h):
            best = max(range(1, n + 1), key=lambda cols: (min(w / cols, h / math.ceil(n / cols)), -cols))
            self._layout_key, self._layout_value = (n, w, h), (best, min(w / best, h / math.ceil(n / best)))
        return self._layout_value

    def columns(self) -> int:
        """Return how many thumbnails are in a row."""
        return self._layout()[0]

    def cell_rect(self, slot: int) -> QRectF:
        """Return the widget rectangle of the thumbnail at grid slot ``slot``."""
        cols, side = self._layout()
        r, c = divmod(slot, cols)
        return QRectF(c * side + _GAP / 2, r * side + _GAP / 2, side - _GAP, side - _GAP)

    def channel_at(self, point) -> int | None:
        """Return the channel whose thumbnail is under a widget point, or None."""
        cols, side = self._layout()
        c, r = int(point.x() // side), int(point.y() // side)
        slot = r * cols + c
        if 0 <= c < cols and 0 <= slot < len(self.order) and self.cell_rect(slot).contains(point):
            return self.order[slot]
        return None

    # -- events ---------------------------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(40, 40, 40))
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        thumbs = self._filter_thumbs if self.show_filters else self._thumbs
        if not thumbs:
            painter.setPen(QColor(200, 200, 200))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "choose a layer")
            return
        pictures = self.view == "featvis" and not self.show_filters
        if pictures:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        for slot, channel in enumerate(self.order):
            rect = self.cell_rect(slot)
            if pictures and channel in self._pictures:
                painter.drawImage(rect, self._pictures[channel])
            elif pictures:  # not computed yet: its map, dimmed
                painter.setOpacity(0.25)
                painter.drawImage(rect, thumbs[channel])
                painter.setOpacity(1.0)
            else:
                painter.drawImage(rect, thumbs[channel])
            if channel == self.selected:
                painter.setPen(QPen(QColor(255, 60, 60), 2))
                painter.drawRect(rect.adjusted(-1, -1, 1, 1))

    def mousePressEvent(self, event) -> None:
        channel = self.channel_at(event.position())
        if channel is not None and event.button() == Qt.MouseButton.LeftButton:
            self.setFocus()
            self.select(channel)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        channel = self.channel_at(event.position())
        text = self.tooltip_text(channel)
        self.setToolTip(text)
        if text:
            QToolTip.showText(event.globalPosition().toPoint(), text, self)
        super().mouseMoveEvent(event)

    def tooltip_text(self, channel: int | None) -> str:
        """Return the hover text for ``channel``: its index and maximum."""
        if channel is None or self._maxima is None:
            return ""
        text = f"channel {channel} · max {float(self._maxima[channel]):.4g}"
        if self.view == "featvis":
            text += " · feature vis" if channel in self._pictures else " · feature vis not ready"
        return text

    def keyPressEvent(self, event) -> None:
        steps = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1, Qt.Key.Key_Up: -self.columns(), Qt.Key.Key_Down: self.columns()}
        step = steps.get(event.key())
        if step is None or not self.order:
            super().keyPressEvent(event)
            return
        if self.selected not in self.order:
            self.select(self.order[0])
            return
        slot = self.order.index(self.selected) + step
        self.select(self.order[max(0, min(len(self.order) - 1, slot))])
