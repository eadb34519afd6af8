"""An ImageView on which the user drags out a rectangle (a part box for the correspondence analysis)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal

from ..image_view import ImageView


class BoxCanvas(ImageView):
    """Shows an image; a left-button drag draws a box and reports it in the image's pixels.

    Signals
    -------
    boxDrawn(int, int, int, int)
        (top, left, bottom, right) of the dragged box in the shown image's pixels, bottom/right exclusive.
    """

    boxDrawn = Signal(int, int, int, int)

    def __init__(self, title: str = "", parent=None) -> None:
        super().__init__(title, parent)
        self._start: tuple[int, int] | None = None
        self.setCursor(Qt.CursorShape.CrossCursor)

    def _box(self, end: tuple[int, int]) -> tuple[int, int, int, int]:
        (r0, c0), (r1, c1) = self._start, end
        return min(r0, r1), min(c0, c1), max(r0, r1) + 1, max(c0, c1) + 1

    def mousePressEvent(self, event) -> None:
        hit = self.pixel_at(event.position())
        if event.button() == Qt.MouseButton.LeftButton and hit is not None:
            self._start = hit
            self.set_marker(self._box(hit))
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._start is not None:
            hit = self._clamped(event.position())
            self.set_marker(self._box(hit))

    def mouseReleaseEvent(self, event) -> None:
        if self._start is not None and event.button() == Qt.MouseButton.LeftButton:
            box = self._box(self._clamped(event.position()))
            self._start = None
            self.set_marker(None)
            self.boxDrawn.emit(*box)

    def _clamped(self, point) -> tuple[int, int]:
        """Return the image pixel nearest to a widget point (inside the image)."""
        rect = self.image_rect()
        h, w = self._shape
        row = int((point.y() - rect.top()) / max(rect.height(), 1e-9) * h)
        col = int((point.x() - rect.left()) / max(rect.width(), 1e-9) * w)
        return min(max(row, 0), h - 1), min(max(col, 0), w - 1)
