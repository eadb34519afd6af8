"""numpy RGB arrays as QImages, and the rectangle an image is drawn into when fitted to a widget."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage


def to_qimage(rgb: np.ndarray) -> QImage:
    """Return an (H, W, 3) uint8 array as a QImage that owns a copy of the pixels."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


def fit_rect(image_w: int, image_h: int, area_w: float, area_h: float, x0: float = 0, y0: float = 0) -> QRectF:
    """Return the largest rectangle of the image's aspect ratio centred in the area (x0, y0, area_w, area_h)."""
    if image_w <= 0 or image_h <= 0 or area_w <= 0 or area_h <= 0:
        return QRectF()
    scale = min(area_w / image_w, area_h / image_h)
    w, h = image_w * scale, image_h * scale
    return QRectF(x0 + (area_w - w) / 2, y0 + (area_h - h) / 2, w, h)


def grey_thumbnails(maps: np.ndarray, levels: tuple[float, float]) -> list[QImage]:
    """Return one greyscale QImage per map of ``maps`` (C, h, w), black at levels[0] and white at levels[1]."""
    low, high = levels
    grey = np.clip((maps - low) * (255.0 / ((high - low) or 1.0)), 0, 255).round().astype(np.uint8)
    height, width = grey.shape[1:]
    return [QImage(np.ascontiguousarray(g).data, width, height, width, QImage.Format.Format_Grayscale8).copy()
            for g in grey]
