"""Correspondence (Table 1): part boxes on a few images (loaded from a parts file, drawn with the mouse),
then Delta per part and layer against random boxes of the same sizes, as a table."""

from __future__ import annotations

import json
import math
from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit, QListWidget, QPushButton,
                               QSpinBox, QTableWidget, QTableWidgetItem, QVBoxLayout)

from ...engine.receptive_field import Box
from ...figures.parts import parts_image
from ...paths import RESOURCES
from ...session.recipes import CorrespondenceRecipe
from ..qimage import to_qimage
from .base import AnalysisView, real_path, shown_path
from .box_canvas import BoxCanvas

DEFAULT_PARTS = RESOURCES / "correspondence" / "sneakers-parts.json"
SHOWN = 336  # the drawing canvas's image size (the model's input scaled up)


def part_boxes(spec) -> dict[str, dict[str, list[int]]]:
    """Return {image name: {part: [top, left, bottom, right]}} from a parts file's JSON value (images may lack
    parts: they are drawn here); ValueError naming the first image or part that is not in that shape."""
    if not isinstance(spec, dict):
        raise ValueError('not an object {"image": {"part": [top, left, bottom, right]}}')
    out = {}
    for name, parts in spec.items():
        if not isinstance(parts, dict):
            raise ValueError(f"{name}: expected named boxes {{part: [top, left, bottom, right]}}, got {parts!r}")
        out[name] = {}
        for part, box in parts.items():
            if not (isinstance(box, list) and len(box) == 4
                    and all(isinstance(v, int) and not isinstance(v, bool) for v in box)):
                raise ValueError(f"{name} {part!r}: a box is [top, left, bottom, right] (four integers), got {box!r}")
            out[name][part] = list(box)
    return out


class CorrespondenceView(AnalysisView):
    """An image list with part boxes, a canvas to draw a box for the chosen part, Run, and the table."""

    title = "correspondence (Table 1)"
    slug = "correspondence"

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.parts_path = QLineEdit(shown_path(DEFAULT_PARTS), objectName="partsPath")
        self.parts_path.returnPressed.connect(lambda: self.load_parts(real_path(self.parts_path.text())))
        open_button = QPushButton("Open parts…")
        open_button.clicked.connect(self._ask_open)
        add_button = QPushButton("Add current image", objectName="addImage")
        add_button.clicked.connect(self.add_main_image)
        row = QHBoxLayout()
        for widget in (QLabel("parts:"), self.parts_path, open_button, add_button):
            row.addWidget(widget, 1 if widget is self.parts_path else 0)
        self.body.addLayout(row)

        self.list = QListWidget(objectName="images")
        self.list.setIconSize(QSize(72, 72))
        self.list.setFixedWidth(220)
        self.canvas = BoxCanvas()
        self.canvas.setMinimumSize(SHOWN, SHOWN)
        self.part = QComboBox(objectName="part", editable=True)
        self.part.setToolTip("the part a drawn box belongs to (type a new name for a new part)")
        self.random = QSpinBox(objectName="random", minimum=0, maximum=1000, value=10)
        self.run_button = QPushButton("Run", objectName="run")
        self.run_button.clicked.connect(self.run)
        self.table = QTableWidget(objectName="table")
        self.table.setMinimumWidth(480)
        side = QVBoxLayout()
        controls = QHBoxLayout()
        for widget in (QLabel("draw part:"), self.part, QLabel("random draws:"), self.random, self.run_button):
            controls.addWidget(widget)
        side.addLayout(controls)
        side.addWidget(self.table, 1)
        middle = QHBoxLayout()
        middle.addWidget(self.list)
        middle.addWidget(self.canvas, 1)
        middle.addLayout(side, 1)
        self.body.addLayout(middle, 1)

        self.images: list[str] = []
        self.boxes: dict[str, dict[str, list[int]]] = {}  # image path -> part -> [top, left, bottom, right]
        self.pixels: dict[str, object] = {}  # image path -> model-input pixels (H, W, 3)
        # a paused video frame added from the session: (its video's path, the Picture, its index); it is the first
        # image, as `deconvviz correspondence --images VIDEO ... --frame N` reads it
        self.frame: tuple[str, object, int] | None = None
        self.rows = []
        self.list.currentRowChanged.connect(lambda _: self._draw())
        self.canvas.boxDrawn.connect(self._on_box)
        self.session.events.loaded.connect(self._on_model)
        self.load_parts(str(DEFAULT_PARTS))

    def _on_model(self, loaded) -> None:
        if self.images:  # another input size or colour: redraw the inputs
            self.pixels.clear()
            self._load_pixels(self.images)

    # -- parts and images -----------------------------------------------------------------------------
    def _ask_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open parts file", str(Path(real_path(self.parts_path.text())).parent),
                                              "Parts (*.json)")
        if path:
            self.load_parts(path)

    def load_parts(self, path: str) -> None:
        """Load a parts file ({image file: {part: [top, left, bottom, right]}}, images beside it); a file that
        is not one is a message, and the parts on screen stay."""
        try:
            spec = part_boxes(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            self.show_message(f"{Path(path).name} is not a readable parts file ({exc})", error=True)
            return
        self.parts_path.setText(shown_path(path))
        folder = Path(path).parent
        self.images = [str(folder / name) for name in spec]
        self.frame = None
        self.boxes = {str(folder / name): parts for name, parts in spec.items()}
        self._load_pixels(self.images)

    def add_main_image(self) -> None:
        """Add the session's input to the list (draw its parts before running): an image file at the end; a paused
        video frame first, in place of any frame added before (a command reads one frame, of the first image)."""
        facts = self.session.image
        if facts is None or not facts.path:
            return
        path = facts.path
        if facts.frame is not None and facts.rereadable():
            if self.frame is not None and self.frame[0] in self.images:
                self.images.remove(self.frame[0])
            if path in self.images:
                self.images.remove(path)
            self.frame = (path, facts.as_picture(), facts.frame.index)
            self.images.insert(0, path)
            self.boxes[path] = {}
            self.pixels.pop(path, None)
            self._load_pixels([path])
        elif facts.frame is None and path not in self.images:
            self.images.append(path)
            self.boxes[path] = {}
            self._load_pixels([path])
        elif facts.frame is not None:
            self.show_message("a camera's frame cannot be read again by a command: pause on a video file's frame",
                              error=True)

    def picture(self, path: str):
        """Return what image ``path`` of the list is for the analyses: the added frame's Picture, else the path."""
        return self.frame[1] if self.frame is not None and path == self.frame[0] else path

    def name(self, path: str) -> str:
        """Return image ``path`` of the list as shown: the frame's label, or the file's name."""
        return self.frame[1].name if self.frame is not None and path == self.frame[0] else Path(path).name

    def _load_pixels(self, paths: list[str]) -> None:
        pictures = {p: self.picture(p) for p in paths}

        def job(model, progress, cancel):
            from ...data.images import as_picture

            return {p: model.preprocessing.to_pixels(model.preprocess(as_picture(item).image))
                    for p, item in pictures.items()}

        self.submit(f"pixels {len(self.images)}", job, self._pixels_ready)

    def _pixels_ready(self, pixels: dict) -> None:
        self.pixels.update(pixels)
        current = self.list.currentRow()
        self.list.clear()
        for path in self.images:
            self.list.addItem(self.name(path))
        self._refresh_parts()
        self.list.setCurrentRow(current if 0 <= current < len(self.images) else 0)
        self._icons()
        self.show_message(f"{len(self.images)} images, parts {', '.join(self.part_names())}: "
                          "drag on the image to draw the chosen part's box")

    def part_names(self) -> list[str]:
        """Return every part named on any image, in first-seen order."""
        names: list[str] = []
        for path in self.images:
            names += [p for p in self.boxes.get(path, {}) if p not in names]
        return names

    def _refresh_parts(self) -> None:
        current = self.part.currentText()
        self.part.blockSignals(True)
        self.part.clear()
        self.part.addItems(self.part_names())
        if current:
            self.part.setCurrentText(current)
        self.part.blockSignals(False)

    def _boxes_of(self, path: str) -> list[tuple[str, Box]]:
        names = self.part_names()
        return [(p, Box(*self.boxes[path][p])) for p in names if p in self.boxes.get(path, {})]

    def _shown(self, path: str, size: int):
        pixels = self.pixels.get(path)
        return None if pixels is None else parts_image(pixels, self._boxes_of(path), size)

    def current_image(self) -> str | None:
        """Return the path of the image on the canvas."""
        row = self.list.currentRow()
        return self.images[row] if 0 <= row < len(self.images) else None

    def _draw(self) -> None:
        path = self.current_image()
        self.canvas.set_image(None if path is None else self._shown(path, SHOWN))

    def _icons(self) -> None:
        for i, path in enumerate(self.images):
            rgb = self._shown(path, 96)
            if rgb is not None:
                self.list.item(i).setIcon(QIcon(QPixmap.fromImage(to_qimage(rgb))))

    def _on_box(self, top: int, left: int, bottom: int, right: int) -> None:
        path, part = self.current_image(), self.part.currentText().strip()
        if path is None or path not in self.pixels:
            return
        if not part:
            self.show_message("type a part name first", error=True)
            return
        h, w = self.pixels[path].shape[:2]
        scale = SHOWN / max(h, w)
        box = [math.floor(top / scale), math.floor(left / scale), min(h, math.ceil(bottom / scale)),
               min(w, math.ceil(right / scale))]
        self.set_box(path, part, box)

    def set_box(self, path: str, part: str, box: list[int]) -> None:
        """Set ``part``'s box on image ``path`` (model-input pixels [top, left, bottom, right])."""
        self.boxes.setdefault(path, {})[part] = [int(v) for v in box]
        self._refresh_parts()
        self.part.setCurrentText(part)
        self._draw()
        self._icons()
        missing = [Path(p).name for p in self.images if part not in self.boxes.get(p, {})]
        self.show_message(f"{Path(path).name}: {part} = {box}" + (f"; still to draw on {', '.join(missing)}"
                                                                  if missing else ""))

    def parts(self) -> dict[str, list[Box]]:
        """Return part -> one Box per image (DeconvvizError naming an image that lacks a part)."""
        from ...errors import DeconvvizError

        out = {}
        for part in self.part_names():
            missing = [Path(p).name for p in self.images if part not in self.boxes.get(p, {})]
            if missing:
                raise DeconvvizError(f"part {part!r} has no box on {', '.join(missing)}: draw it there, or on none")
            out[part] = [Box(*self.boxes[p][part]) for p in self.images]
            for path, box in zip(self.images, out[part]):
                h, w = self.pixels[path].shape[:2] if path in self.pixels else (box.bottom, box.right)
                if not (0 <= box.top < box.bottom <= h and 0 <= box.left < box.right <= w):
                    raise DeconvvizError(f"{Path(path).name} {part!r}: box {self.boxes[path][part]} is empty or "
                                         f"outside the model's {h}x{w} input; draw it again")
        return out

    def parts_json(self) -> str:
        """Return the boxes as a parts file (what ``deconvviz correspondence --parts`` reads)."""
        return json.dumps({Path(p).name: self.boxes.get(p, {}) for p in self.images}, indent=1)

    # -- the table ------------------------------------------------------------------------------------
    def run(self) -> None:
        """Compute Table 1 for the images and their parts."""
        from ...errors import DeconvvizError

        try:
            parts = self.parts()
        except DeconvvizError as exc:
            self.show_message(str(exc), error=True)
            return
        images, draws = list(self.images), self.random.value()
        model_options = self.model_options()
        frame = self.frame[2] if self.frame is not None and images and images[0] == self.frame[0] else None
        pictures, names = [self.picture(p) for p in images], [self.name(p) for p in images]

        def recipe_for(path: str) -> CorrespondenceRecipe:
            """Return the recipe writing the figure at ``path``, reading the parts file export writes beside."""
            stem = str(Path(path).with_suffix(""))
            return CorrespondenceRecipe(**model_options, images=tuple(images), frame=frame, parts=stem + ".parts.json",
                                        random=draws, csv=stem + ".csv", out=path)

        def job(model, progress, cancel):
            from ...analyses.correspondence import correspondence_table, load_inputs
            from ...figures.parts import parts_panel

            rows = correspondence_table(model, pictures, parts, random_draws=draws)
            panel = parts_panel(model, load_inputs(model, pictures), names, parts,
                                recipe_for("parts.png").shell())
            return rows, panel

        self.show_message("masking each part on each image…")
        self.submit("correspondence", job, lambda r: self._show(*r, recipe_for), long=True)

    def _show(self, rows, panel, recipe_for) -> None:
        from ...analyses.correspondence import correspondence_rows

        self.rows = rows
        header, table = correspondence_rows(rows)
        self.table.clear()
        self.table.setColumnCount(len(header))
        self.table.setRowCount(len(table))
        self.table.setHorizontalHeaderLabels(["part", "layer", "mean sign change", "std", "Delta", "draws"])
        for i, row in enumerate(table):
            for j, value in enumerate(row):
                text = f"{value:.4g}" if isinstance(value, float) else str(value)
                self.table.setItem(i, j, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.set_panel(panel, recipe_for)
        self.show_message(f"{len(rows)} rows: lower mean sign change = more consistent (Table 1)")

    def cell(self, row: int, column: int) -> str:
        """Return the text of a table cell."""
        item = self.table.item(row, column)
        return "" if item is None else item.text()

    def export(self, path: str) -> None:
        """Write the parts file and the table (CSV) beside the PNG (the command names both), then the PNG of
        the images with their boxes."""
        from ...analyses.correspondence import correspondence_rows
        from ...atomic import atomic_path
        from ...tables import write_csv

        stem = Path(path).with_suffix("").as_posix()
        text, parts_file, rows = self.parts_json(), stem + ".parts.json", list(self.rows)

        def write(_m, _p, _c):
            with atomic_path(parts_file) as tmp:
                Path(tmp).write_text(text, encoding="utf-8")
            if rows:
                write_csv(stem + ".csv", *correspondence_rows(rows))
            return parts_file

        self.submit(f"export parts {path}", write, lambda p: None, model=False)
        super().export(path)
