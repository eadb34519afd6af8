"""An ImageView for figure panels: smooth when a panel is shrunk to fit, sharp pixels when enlarged."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QPainter

from ...figures.png import Panel
from ..image_view import ImageView


class PanelView(ImageView):
    """Shows a Panel's pixels (the caption goes to the window's text, not the picture)."""

    def set_panel(self, panel: Panel | None) -> None:
        """Show ``panel`` (None: nothing)."""
        self.panel = panel
        self.set_image(None if panel is None else panel.pixels)
        self.setToolTip("" if panel is None else panel.caption)

    def pixels(self) -> np.ndarray | None:
        """Return the pixels shown (None when empty)."""
        panel = getattr(self, "panel", None)
        return None if panel is None else panel.pixels

    def paintEvent(self, event) -> None:
        if self._image is not None and self.image_rect().width() < self._shape[1]:
            painter = QPainter(self)
            painter.fillRect(self.rect(), self.palette().window())
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            painter.drawImage(self.image_rect(), self._image)
            return
        super().paintEvent(event)
