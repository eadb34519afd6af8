"""A painted view of one RGB array, scaled to fit without smoothing, that reports clicks in pixel coordinates."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from .qimage import fit_rect, to_qimage


class ImageView(QWidget):
    """Shows an (H, W, 3) uint8 image with a title and an optional marker rectangle.

    Signals
    -------
    clicked(int, int)
        (row, col) of the image pixel under a left click.
    """

    clicked = Signal(int, int)

    def __init__(self, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self._image = None
        self._shape = (0, 0)
        self._marker: tuple[int, int, int, int] | None = None
        self.placeholder = ""  # said in the middle while there is no image
        self.setMinimumSize(96, 96)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_image(self, rgb: np.ndarray | None) -> None:
        """Show ``rgb`` (None: nothing)."""
        self._image = None if rgb is None else to_qimage(rgb)
        self._shape = (0, 0) if rgb is None else rgb.shape[:2]
        self.update()

    def set_marker(self, box: tuple[int, int, int, int] | None) -> None:
        """Outline the pixels rows top:bottom, cols left:right given as (top, left, bottom, right), or nothing."""
        self._marker = box
        self.update()

    def has_image(self) -> bool:
        """Return whether an image is shown."""
        return self._image is not None

    def image_rect(self) -> QRectF:
        """Return where the image is drawn, in widget coordinates."""
        top = 18 if self.title else 0
        rect = fit_rect(self._shape[1], self._shape[0], self.width(), self.height() - top, 0, top)
        rect.moveTop(top)  # right under the title, not floating in the middle
        return rect

    def pixel_at(self, point: QPointF) -> tuple[int, int] | None:
        """Return the (row, col) of the image pixel at a widget point, or None outside the image."""
        rect = self.image_rect()
        if self._image is None or not rect.contains(point):
            return None
        row = int((point.y() - rect.top()) / rect.height() * self._shape[0])
        col = int((point.x() - rect.left()) / rect.width() * self._shape[1])
        return min(row, self._shape[0] - 1), min(col, self._shape[1] - 1)

    def widget_point(self, row: float, col: float) -> QPointF:
        """Return the widget point at image coordinates (row, col) (pixel centres at .5)."""
        rect = self.image_rect()
        return QPointF(rect.left() + col / self._shape[1] * rect.width(), rect.top() + row / self._shape[0] * rect.height())

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        if self.title:
            painter.setPen(self.palette().windowText().color())
            # a title wider than the view is cut at its end with an ellipsis (centred, it lost both ends)
            title = painter.fontMetrics().elidedText(self.title, Qt.TextElideMode.ElideRight, self.width() - 4)
            painter.drawText(QRectF(0, 0, self.width(), 16), Qt.AlignmentFlag.AlignCenter, title)
        if self._image is None:
            if self.placeholder:
                painter.setPen(self.palette().placeholderText().color())
                painter.drawText(QRectF(4, 40, self.width() - 8, self.height() - 44),  # where images start
                                 Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap,
                                 self.placeholder)
            return
        rect = self.image_rect()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(rect, self._image)
        if self._marker is not None:
            top, left, bottom, right = self._marker
            a, b = self.widget_point(top, left), self.widget_point(bottom, right)
            painter.setPen(QPen(QColor(255, 60, 60), 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(QRectF(a, b))

    def mousePressEvent(self, event) -> None:
        hit = self.pixel_at(event.position())
        if event.button() == Qt.MouseButton.LeftButton and hit is not None:
            self.clicked.emit(*hit)
        super().mousePressEvent(event)
