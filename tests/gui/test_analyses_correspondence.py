"""Correspondence (Table 1) from the Analyses menu: the bundled sneakers and parts, drawing a box, the table."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QPoint, Qt

from analyses_helpers import export_and_read, open_from_menu, run_and_wait, wait_for
from deconvviz.analyses.correspondence import correspondence_rows, correspondence_table
from deconvviz.cli import main as cli_main
from deconvviz.engine.receptive_field import Box


def test_table_of_the_bundled_parts(qtbot, window, tmp_path):
    view = open_from_menu(window, "correspondence")
    wait_for(qtbot, view, lambda: view.list.count() == 5)
    assert view.list.item(0).text() == "sneaker-0009.png" and not view.list.item(0).icon().isNull()
    assert view.part_names() == ["toe", "heel", "sole"]
    assert view.canvas.has_image()
    view.random.setValue(2)
    assert run_and_wait(qtbot, view, "correspondence", view.run) == "correspondence"
    assert view.table.rowCount() == 12  # 3 parts and 3 random sizes, at 2 layers
    expected = correspondence_rows(correspondence_table(view.model(), view.images,
                                                        view.parts(), random_draws=2))[1]
    assert [view.cell(0, j) for j in range(2)] == ["toe", "features.14"]
    assert float(view.cell(0, 2)) == float(f"{expected[0][2]:.4g}")
    assert view.cell(11, 0) == "random (sole size)" and view.cell(11, 5) == "2"

    pixels, facts = export_and_read(qtbot, view, tmp_path / "parts.png")
    parts_file = tmp_path / "parts.parts.json"
    assert json.loads(parts_file.read_text())["sneaker-0009.png"]["toe"] == [13, 0, 21, 8]
    assert (f"--parts {parts_file} --random 2 --csv {tmp_path / 'parts.csv'} --out {tmp_path / 'parts.png'}"
            in facts["command"])
    csv = (tmp_path / "parts.csv").read_text().splitlines()
    assert len(csv) == 13 and csv[1].startswith("toe,features.14,")
    assert facts["parts"] == "toe,heel,sole"
    # the command in the PNG writes the same figure and table
    argv = shlex.split(facts["command"])
    again = tmp_path / "again"
    argv = [a.replace(str(tmp_path / "parts.png"), f"{again}.png").replace(str(tmp_path / "parts.csv"), f"{again}.csv")
            for a in argv]
    assert cli_main(argv[1:]) == 0
    assert np.array_equal(np.asarray(Image.open(f"{again}.png").convert("RGB")), pixels)
    assert Path(f"{again}.csv").read_text() == (tmp_path / "parts.csv").read_text()


def test_drawing_a_box_with_the_mouse(qtbot, window):
    view = open_from_menu(window, "correspondence")
    wait_for(qtbot, view, lambda: view.list.count() == 5)
    view.list.setCurrentRow(1)
    view.part.setCurrentText("lace")
    canvas = view.canvas
    # input pixels (rows 2..5, cols 10..17): drag between the shown image's pixel centres
    scale = 336 / 28
    a = canvas.widget_point(2 * scale + 1, 10 * scale + 1)
    b = canvas.widget_point(6 * scale - 2, 18 * scale - 2)
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(round(a.x()), round(a.y())))
    qtbot.mouseMove(canvas, QPoint(round(b.x()), round(b.y())))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(round(b.x()), round(b.y())))
    assert view.boxes[view.images[1]]["lace"] == [2, 10, 6, 18]
    assert "lace" in view.part_names() and "still to draw on sneaker-0009.png" in view.last_message
    # the part is missing on the other images: Run says where instead of computing
    view.run()
    assert view.last_message.startswith("part 'lace' has no box on sneaker-0009.png, sneaker-0022.png")
    assert view.table.rowCount() == 0
    for path in view.images:
        view.set_box(path, "lace", [2, 10, 6, 18])
    view.random.setValue(0)
    assert run_and_wait(qtbot, view, "correspondence", view.run) == "correspondence"
    assert view.table.rowCount() == 8 and view.cell(6, 0) == "lace"
    assert view.parts()["lace"][0] == Box(2, 10, 6, 18)


def test_a_box_outside_the_input_is_a_message(qtbot, window):
    view = open_from_menu(window, "correspondence")
    wait_for(qtbot, view, lambda: view.list.count() == 5)
    view.set_box(view.images[2], "toe", [13, 0, 21, 40])  # zf-fmnist's input is 28 x 28
    view.run()
    assert view.last_message == ("sneaker-0022.png 'toe': box [13, 0, 21, 40] is empty or outside the model's "
                                 "28x28 input; draw it again")
    assert not view.busy() and view.table.rowCount() == 0


def test_a_malformed_parts_file_is_a_message_and_the_parts_stay(qtbot, window, tmp_path):
    """Before: a parts file whose image maps to a list (not to named boxes) raised inside the Qt slot."""
    view = open_from_menu(window, "correspondence")
    wait_for(qtbot, view, lambda: view.list.count() == 5)
    before = dict(view.boxes)
    for text, says in (('{"a.png": [1, 2, 3, 4]}', "a.png"), ('{"a.png": {"toe": [1, 2]}}', "toe"),
                       ('{"a.png": {"toe": [1, 2, "x", 4]}}', "toe"), ('[1, 2]', "not an object")):
        bad = tmp_path / "bad.json"
        bad.write_text(text)
        view.load_parts(str(bad))
        assert "bad.json" in view.last_message and says in view.last_message, view.last_message
        assert view.boxes == before and view.list.count() == 5
