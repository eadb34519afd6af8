"""The main window's file dialogs and context menu: each asks the user, then calls the window's public method."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from ..data.video import VIDEO_SUFFIXES
from ..session.controller import PANES

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)"
WEIGHTS_FILTER = "Weights (*.safetensors *.pth *.pt *.bin);;All files (*)"


def ask_export(window, pane: str) -> None:
    """Ask where to write ``pane`` as a PNG (remembering the folder), then export it."""
    folder = window.settings.value("exportDir") or str(Path.home())
    path, _ = QFileDialog.getSaveFileName(window, f"Export {PANES[pane]}",
                                          str(Path(folder) / window.suggested_name(pane)), "PNG images (*.png)")
    if path:
        path += "" if path.lower().endswith(".png") else ".png"
        window.settings.setValue("exportDir", str(Path(path).parent))
        window.export_pane(pane, path)


def context_menu(window, pane: str, widget: QWidget, pos) -> None:
    """Show ``pane``'s context menu (export) at ``pos`` of ``widget``."""
    menu = QMenu(window)
    menu.addAction(f"Export {PANES[pane]} as PNG…", lambda: ask_export(window, pane))
    menu.exec(widget.mapToGlobal(pos))


def ask_image(window) -> None:
    """Ask for an image file and open it."""
    folder = str(Path(window.image_path).parent) if window.image_path else str(Path.home())
    path, _ = QFileDialog.getOpenFileName(window, "Open image", folder, IMAGE_FILTER)
    if path:
        window.open_image(path)


def ask_weights(window) -> None:
    """Ask for a weights file and load the current model with it."""
    path, _ = QFileDialog.getOpenFileName(window, "Open weights", str(Path.home()), WEIGHTS_FILTER)
    if path:
        window.open_model(window.model_name or window.model_chooser.currentText(), path)


def ask_video(window) -> None:
    """Ask for a video file (remembering the folder) and open it."""
    folder = window.settings.value("videoDir") or str(Path.home())
    patterns = " ".join(f"*{suffix}" for suffix in VIDEO_SUFFIXES)
    path, _ = QFileDialog.getOpenFileName(window, "Open video", folder, f"Videos ({patterns});;All files (*)")
    if path:
        window.settings.setValue("videoDir", str(Path(path).parent))
        window.open_video(path)
