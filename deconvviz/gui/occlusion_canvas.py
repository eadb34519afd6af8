"""The image with a grey square the user drags; the wheel resizes it; an optional sensitivity heatmap overlay."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QLinearGradient, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from ..figures.render import VIRIDIS
from .qimage import fit_rect, to_qimage

_BAR = 44  # pixels kept on the right for the colour bar


class OcclusionCanvas(QWidget):
    """The model-input image (H, W, 3) with an occluder square in input-pixel coordinates.

    Signals
    -------
    moved(int, int, int)
        (top, left, size) of the square whenever the user drags it or resizes it.
    released()
        The user let go of the square (the end of a drag).
    """

    moved = Signal(int, int, int)
    released = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("occlusionCanvas")
        self.setMinimumSize(200, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._image = None
        self._shape = (0, 0)
        self._fill = QColor(128, 128, 128)
        self._heat = None
        self._backdrop: tuple | None = None  # (key, QPixmap): image and heatmap scaled to the widget, once
        self._levels = (0.0, 1.0)
        self.size = 8
        self.square: tuple[int, int] | None = None  # (top, left)
        self._dragging = False

    def set_image(self, pixels: np.ndarray, fill: tuple[int, int, int]) -> None:
        """Show the model-input pixels (H, W, 3); ``fill`` is the occluder's RGB (the model's mean pixel)."""
        self._image = to_qimage(pixels)
        self._shape = pixels.shape[:2]
        self._fill = QColor(*[int(v) for v in fill])
        self._heat = None
        if self.square is not None:
            self.square = self._clamp(*self.square)
        self.update()

    def set_heat(self, heat: np.ndarray | None, levels: tuple[float, float] = (0.0, 1.0)) -> None:
        """Overlay a heatmap (H, W, 3) uint8 of the image's size (None: remove it) with its colour-bar levels."""
        self._heat = None if heat is None else to_qimage(heat)
        self._levels = levels
        self.update()

    def has_heat(self) -> bool:
        """Return whether a heatmap is overlaid."""
        return self._heat is not None

    def set_size(self, size: int) -> None:
        """Set the square's side in input pixels (emits moved when a square is shown)."""
        limit = max(1, min(self._shape) if self._image is not None else size)
        size = max(1, min(int(size), limit))
        if size == self.size:
            return
        self.size = size
        if self.square is not None:
            self.square = self._clamp(*self.square)
            self.moved.emit(*self.square, self.size)
        self.update()

    def image_rect(self) -> QRectF:
        """Return where the image is drawn, in widget coordinates."""
        return fit_rect(self._shape[1], self._shape[0], self.width() - _BAR, self.height())

    def to_image(self, point: QPointF) -> tuple[float, float]:
        """Return the image (row, col) coordinates of a widget point (may lie outside the image)."""
        rect = self.image_rect()
        return ((point.y() - rect.top()) / rect.height() * self._shape[0],
                (point.x() - rect.left()) / rect.width() * self._shape[1])

    def to_widget(self, row: float, col: float) -> QPointF:
        """Return the widget point of image coordinates (row, col)."""
        rect = self.image_rect()
        return QPointF(rect.left() + col / self._shape[1] * rect.width(), rect.top() + row / self._shape[0] * rect.height())

    def _clamp(self, top: int, left: int) -> tuple[int, int]:
        h, w = self._shape
        return max(0, min(h - self.size, top)), max(0, min(w - self.size, left))

    def move_to(self, row: float, col: float) -> None:
        """Centre the square on image coordinates (row, col), kept inside the image, and emit moved."""
        if self._image is None:
            return
        square = self._clamp(int(round(row - self.size / 2)), int(round(col - self.size / 2)))
        if square != self.square:
            self.square = square
            self.update()
            self.moved.emit(*square, self.size)

    @property
    def dragging(self) -> bool:
        """Return whether the user is dragging the square (the mouse button is held)."""
        return self._dragging

    def remove_square(self) -> None:
        """Take the square away (the unoccluded image)."""
        self.square = None
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        if self._image is None:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "no image")
            return
        rect = self.image_rect()
        painter.drawPixmap(rect.topLeft(), self._scaled_backdrop(rect))
        if self._heat is not None:
            self._paint_bar(painter, rect)
        if self.square is not None:
            top, left = self.square
            a, b = self.to_widget(top, left), self.to_widget(top + self.size, left + self.size)
            painter.fillRect(QRectF(a, b), self._fill)
            painter.setPen(QPen(QColor(255, 255, 255), 1, Qt.PenStyle.DashLine))
            painter.drawRect(QRectF(a, b))

    def _scaled_backdrop(self, rect: QRectF) -> QPixmap:
        """Return the image (with the heatmap at half opacity) scaled to ``rect``, drawn once per size and
        picture: the square repaints the canvas at every move, and scaling each time cost ~0.5 ms a paint."""
        size = rect.size().toSize()
        key = (id(self._image), id(self._heat), size.width(), size.height())
        if self._backdrop is None or self._backdrop[0] != key:
            pixmap = QPixmap(size)
            p = QPainter(pixmap)
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            target = QRectF(0, 0, size.width(), size.height())
            p.drawImage(target, self._image)
            if self._heat is not None:
                p.setOpacity(0.5)
                p.drawImage(target, self._heat)
            p.end()
            self._backdrop = (key, pixmap)
        return self._backdrop[1]

    def _paint_bar(self, painter: QPainter, rect: QRectF) -> None:
        bar = QRectF(rect.right() + 6, rect.top() + 12, 12, rect.height() - 24)
        gradient = QLinearGradient(bar.topLeft(), bar.bottomLeft())
        for i in range(0, 256, 32):
            gradient.setColorAt(i / 255, QColor(*[int(v) for v in VIRIDIS[255 - i]]))
        gradient.setColorAt(1.0, QColor(*[int(v) for v in VIRIDIS[0]]))
        painter.fillRect(bar, gradient)
        painter.setPen(self.palette().windowText().color())
        font = painter.font()
        font.setPointSizeF(7)
        painter.setFont(font)
        painter.drawText(QPointF(bar.left() - 4, bar.top() - 2), f"{self._levels[1]:.4g}")
        painter.drawText(QPointF(bar.left() - 4, bar.bottom() + 10), f"{self._levels[0]:.4g}")

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._image is not None:
            self._dragging = True
            self.move_to(*self.to_image(event.position()))
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._dragging:
            self.move_to(*self.to_image(event.position()))
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        was_dragging, self._dragging = self._dragging, False
        if was_dragging:
            self.released.emit()
        super().mouseReleaseEvent(event)

    def wheelEvent(self, event) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.set_size(self.size + int(np.sign(steps)) * max(1, self.size // 8))
        event.accept()
