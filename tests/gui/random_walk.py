"""A seeded random walk through the main window: user actions drawn from one table, driven through real widgets.

:class:`RandomWalk` holds the actions (layer clicks, channel keys, drags of the square, the wheel, model
switches, images, videos and the camera stand-in, play/pause/step/seek, the analysis views, exports, bad files)
with their weights; ``walk.step()`` draws one from its ``random.Random`` and does it. The same seed draws the
same actions, so a failing walk is replayed by its seed (the timing of the worker's answers may differ).
"""

from __future__ import annotations

import random
from pathlib import Path

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from analyses_helpers import menu_action
from deconvviz.data.images import sample_photos
from deconvviz.gui.analyses import VIEWS
from deconvviz.session.controller import PANES
from tests.matrix.kinds import KINDS

START_BUTTONS = ("run", "build", "grid")  # the objectNames of the views' buttons that start a job
GRID_KEYS = (Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down)


class RandomWalk:
    """Random user actions on ``window`` (a ready MainWindow); files it needs are written under ``folder``:
    a clip, a file that is not a video, a corrupt image and a wrong weights file."""

    def __init__(self, qtbot, window, rng: random.Random, folder: Path, clip: Path) -> None:
        self.qtbot, self.w, self.rng, self.folder = qtbot, window, rng, folder
        corrupt_image = folder / "corrupt.png"
        corrupt_image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256) for _ in range(300)))
        not_a_video = folder / "not-a-video.mp4"
        not_a_video.write_bytes(b"this is not a video" * 20)
        self.wrong_weights = folder / "wrong.pth"
        self.wrong_weights.write_bytes(b"not a state dict")
        self.images = [str(p) for p in sample_photos()] + [str(corrupt_image), str(folder / "missing.png")]
        self.videos = [str(clip), str(clip), str(not_a_video)]
        self.models = ["zf-fmnist", "zf-fmnist"] + sorted({k.model for k in KINDS.values()}) + ["no-such-model"]
        self.exports = 0
        self.counts: dict[str, int] = {}
        self.log: list[str] = []
        self.actions = [  # (weight, action)
            (10, self.click_layer), (10, self.channel_key), (10, self.drag_square), (4, self.wheel),
            (2, self.switch_model), (1, self.wrong_weights_file), (3, self.open_image), (3, self.open_video),
            (6, self.play_or_pause), (3, self.step_frame), (3, self.seek), (1, self.camera),
            (3, self.projection_mode), (2, self.occlusion_map), (8, self.view), (3, self.export), (4, self.idle),
        ]

    # -- the walk ---------------------------------------------------------------------------------------
    def step(self, number: int) -> str:
        """Draw one action, do it, let the event loop run for 0-40 ms; return what was done."""
        weights, actions = zip(*self.actions)
        action = self.rng.choices(actions, weights)[0]
        what = action() or action.__name__
        self.counts[action.__name__] = self.counts.get(action.__name__, 0) + 1
        self.log.append(f"{number}: {what}")
        self.qtbot.wait(self.rng.randrange(41))
        return what

    # -- the actions --------------------------------------------------------------------------------------
    def click_layer(self) -> str:
        tree = self.w.tree
        layers = tree.layers()
        if not layers:
            return "click_layer: no layers yet"
        name = self.rng.choice(layers)
        item = tree._items[name]
        tree.scrollToItem(item)
        rect = tree.visualItemRect(item)
        self.qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        return f"click_layer {name}"

    def channel_key(self) -> str:
        key = self.rng.choice(GRID_KEYS)
        self.w.grid.setFocus()
        self.qtbot.keyClick(self.w.grid, key)
        return f"channel_key {key.name}"

    def _canvas_point(self) -> QPoint:
        rect = self.w.canvas.rect()
        return QPoint(self.rng.randrange(max(1, rect.width())), self.rng.randrange(max(1, rect.height())))

    def drag_square(self) -> str:
        canvas, moves = self.w.canvas, self.rng.randrange(1, 12)
        self.qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=self._canvas_point())
        for _ in range(moves):
            self.qtbot.mouseMove(canvas, self._canvas_point())
            self.qtbot.wait(self.rng.randrange(3, 20))
        self.qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=self._canvas_point())
        return f"drag_square ({moves} moves)"

    def wheel(self) -> str:
        canvas, delta = self.w.canvas, self.rng.choice((-120, 120))
        where = QPointF(self._canvas_point())
        event = QWheelEvent(where, canvas.mapToGlobal(where), QPoint(), QPoint(0, delta), Qt.MouseButton.NoButton,
                            Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(canvas, event)
        return f"wheel {delta}"

    def switch_model(self) -> str:
        name = self.rng.choice(self.models)
        chooser = self.w.model_chooser
        chooser.setEditText(name)
        self.qtbot.keyClick(chooser.lineEdit(), Qt.Key.Key_Return)
        return f"switch_model {Path(name).name}"

    def wrong_weights_file(self) -> str:
        self.w.open_file(str(self.wrong_weights))  # as if dropped on the window
        return "wrong_weights_file"

    def open_image(self) -> str:
        path = self.rng.choice(self.images)
        self.w.open_image(path)
        return f"open_image {Path(path).name}"

    def open_video(self) -> str:
        path = self.rng.choice(self.videos)
        self.w.open_video(path)
        return f"open_video {Path(path).name}"

    def play_or_pause(self) -> str:
        if self.rng.random() < 0.5:
            self.w.activateWindow()
            self.qtbot.keyClick(self.w.grid, Qt.Key.Key_Space)
            return "play_or_pause (Space)"
        if self.w.video.play_button.isVisible():
            self.w.video.play_button.click()
            return "play_or_pause (button)"
        return "play_or_pause: no video bar"

    def step_frame(self) -> str:
        if not self.w.video.step_button.isVisible():
            return "step_frame: no video bar"
        self.w.video.step_button.click()
        return "step_frame"

    def seek(self) -> str:
        slider = self.w.video.slider
        if not slider.isVisible():
            return "seek: no slider"
        value = self.rng.randrange(slider.maximum() + 1)
        slider.setValue(value)
        return f"seek {value}"

    def camera(self) -> str:
        actions = [a for a in self.w.camera_menu.actions() if a.isEnabled()]
        if not actions:
            return "camera: none"
        actions[0].trigger()
        return "camera (stand-in)"

    def projection_mode(self) -> str:
        box = self.w.deconv.mode
        index = self.rng.randrange(box.count())
        box.setCurrentIndex(index)
        return f"projection_mode {box.itemText(index)}"

    def occlusion_map(self) -> str:
        panel = self.w.occlusion
        if panel.compute.isEnabled():
            panel.compute.click()
            return "occlusion_map"
        if panel.cancel.isEnabled():
            panel.cancel.click()
            return "occlusion_map cancel"
        return "occlusion_map: disabled"

    def view(self) -> str:
        """Open, run, cancel or close one analysis view, or export its panel."""
        slug = self.rng.choice([slug for slug, _, _ in VIEWS])
        view = self.w.analyses.get(slug)
        choice = self.rng.choice(("open", "run", "run", "cancel", "close", "export"))
        if view is None or choice == "open":
            menu_action(self.w, slug).trigger()
            return f"view {slug} open"
        if choice == "run":
            if not view.isVisible():
                menu_action(self.w, slug).trigger()
            buttons = [b for b in view.findChildren(type(view.cancel_button)) if b.objectName() in START_BUTTONS]
            button = self.rng.choice(buttons) if buttons else None
            if button is None or not button.isEnabled():
                return f"view {slug} run: not possible"
            button.click()
            return f"view {slug} run ({button.text()})"
        if choice == "cancel":
            if view.cancel_button.isEnabled():
                view.cancel_button.click()
            return f"view {slug} cancel"
        if choice == "export" and view.export_button.isEnabled():
            view.export(str(self._export_path(f"view-{slug}")))
            return f"view {slug} export"
        view.close()
        return f"view {slug} close"

    def _export_path(self, name: str) -> Path:
        self.exports += 1
        if self.rng.random() < 0.2:  # a "folder" that is a file: a message, nothing written
            return self.folder / "not-a-video.mp4" / f"{self.exports}-{name}.png"
        return self.folder / f"{self.exports}-{name}.png"

    def export(self) -> str:
        pane = self.rng.choice(list(PANES))
        self.w.export_pane(pane, str(self._export_path(pane)))
        return f"export {pane}"

    def idle(self) -> str:
        ms = self.rng.randrange(50, 400)
        self.qtbot.wait(ms)
        return f"idle {ms} ms"
