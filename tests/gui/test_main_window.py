"""The window's tour on zf-fmnist: layers, channels, projections, occlusion, export, bad input, responsiveness."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, Qt

from deconvviz.figures.png import read_facts
from deconvviz.session import messages as m
from stall_meter import StallMeter, allowed_stall, idle_heartbeat


def wait_shown(qtbot, window, kind, timeout=20000, check=None):
    """Return the next result of type ``kind`` the window shows (and passes ``check``)."""
    got = []

    def accept(result):
        if isinstance(result, kind) and (check is None or check(result)):
            got.append(result)
            return True
        return False

    with qtbot.waitSignal(window.shown, timeout=timeout, check_params_cb=accept):
        pass
    return got[-1]


def center(rect) -> QPoint:
    return QPoint(int(rect.center().x()), int(rect.center().y()))


def test_title_and_layers(window):
    assert window.windowTitle().startswith("deconvviz")
    assert "zf-fmnist" in window.windowTitle() and "coffee.png" in window.windowTitle()
    assert window.tree.layers()[0] == "features.0"
    assert window.tree.current_layer() == "features.0"  # the first convolution is chosen first
    assert "CPU" in window.device_label.text() or "CUDA" in window.device_label.text()


def test_choosing_a_layer_fills_the_grid(qtbot, window):
    item = window.tree._items["features.4"]
    rect = window.tree.visualItemRect(item)
    with qtbot.waitSignal(window.shown, timeout=20000,
                          check_params_cb=lambda r: isinstance(r, m.MapsReady) and r.request.layer == "features.4"):
        qtbot.mouseClick(window.tree.viewport(), Qt.MouseButton.LeftButton, pos=center(rect))
    assert window.grid.count() == 64
    assert window.grid_title.text().startswith("features.4")
    assert window.grid.selected == int(np.argmax(window.grid._maxima))  # a new layer starts at its strongest map


def test_page_down_moves_to_the_next_layer(qtbot, window):
    window.tree.setFocus()
    with qtbot.waitSignal(window.shown, timeout=20000,
                          check_params_cb=lambda r: isinstance(r, m.MapsReady) and r.request.layer == "features.1"):
        qtbot.keyClick(window.tree, Qt.Key.Key_PageDown)
    assert window.tree.current_layer() == "features.1"
    qtbot.keyClick(window.tree, Qt.Key.Key_PageUp)
    assert window.tree.current_layer() == "features.0"


def test_clicking_a_channel_changes_the_projection(qtbot, window):
    before = window.deconv.projection._image.copy()
    first = window.grid.selected
    other = next(c for c in window.grid.order if c != first)
    slot = window.grid.order.index(other)
    with qtbot.waitSignal(window.shown, timeout=20000,
                          check_params_cb=lambda r: isinstance(r, m.ProjectionReady) and r.request.channel == other):
        qtbot.mouseClick(window.grid, Qt.MouseButton.LeftButton, pos=center(window.grid.cell_rect(slot)))
    assert window.grid.selected == other
    assert f"channel {other}" in window.deconv.info.text()
    assert window.deconv.projection._image != before


def test_arrow_keys_and_tooltip(qtbot, window):
    window.grid.setFocus()
    window.grid.select(window.grid.order[0])
    qtbot.keyClick(window.grid, Qt.Key.Key_Right)
    assert window.grid.selected == window.grid.order[1]
    qtbot.keyClick(window.grid, Qt.Key.Key_Down)
    assert window.grid.selected == window.grid.order[1 + window.grid.columns()]
    text = window.grid.tooltip_text(3)
    assert text.startswith("channel 3 · max ")
    assert float(text.rsplit(" ", 1)[1]) == pytest.approx(float(window.grid._maxima[3]), rel=1e-3)


def test_sorted_order_and_filters(qtbot, window):
    window.sort.setCurrentIndex(1)
    maxima = window.grid._maxima
    assert list(maxima[window.grid.order]) == sorted(maxima, reverse=True)
    assert window.filters.isEnabled()  # features.0 is the first convolution
    window.filters.setChecked(True)
    assert window.grid.show_filters


def test_clicking_the_feature_map_projects_that_activation(qtbot, window):
    view = window.deconv.feature_map
    point = view.widget_point(3.5, 5.5).toPoint()
    with qtbot.waitSignal(window.shown, timeout=20000,
                          check_params_cb=lambda r: isinstance(r, m.ProjectionReady) and r.request.position == (3, 5)):
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=point)
    assert "activation (3, 5)" in window.deconv.info.text()
    with qtbot.waitSignal(window.shown, timeout=20000,
                          check_params_cb=lambda r: isinstance(r, m.ProjectionReady) and r.request.top_k == 9):
        window.deconv.which.setCurrentText("top-k")
    assert "top-9" in window.deconv.info.text()


def test_dragging_the_occluder_changes_the_probabilities(qtbot, window):
    canvas = window.canvas
    base = window.table.values.copy()
    h, w = window.pixels.shape[:2]
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=canvas.to_widget(h / 2, 2).toPoint())
    for col in range(4, w, 4):
        qtbot.mouseMove(canvas, pos=canvas.to_widget(h / 2, col).toPoint())
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=canvas.to_widget(h / 2, w - 2).toPoint())
    last = canvas.square
    result = wait_shown(qtbot, window, m.Occluded, check=lambda r: (r.request.top, r.request.left) == last)
    assert not np.allclose(window.table.values, base, atol=1e-7)
    assert np.array_equal(window.table.values, result.probs)
    assert window.occlusion.map_total.text() != "–"  # the selected map's total activation is shown


def test_wheel_and_slider_resize_the_square(qtbot, window):
    canvas = window.canvas
    canvas.move_to(10, 10)
    size = canvas.size
    window.occlusion.slider.setValue(size + 3)
    assert canvas.size == size + 3
    assert canvas.square is not None


def test_occlusion_map_overlays_a_heatmap(qtbot, window):
    window.occlusion.stride.setValue(4)
    with qtbot.waitSignal(window.shown, timeout=30000, check_params_cb=lambda r: isinstance(r, m.MapReady)):
        qtbot.mouseClick(window.occlusion.compute, Qt.MouseButton.LeftButton)
    assert window.canvas.has_heat()
    assert window.occlusion.compute.isEnabled() and not window.occlusion.cancel.isEnabled()


def test_occlusion_map_can_be_cancelled(qtbot, window):
    window.occlusion.slider.setValue(2)
    window.occlusion.stride.setValue(1)
    with qtbot.waitSignal(window.shown, timeout=30000,
                          check_params_cb=lambda r: isinstance(r, (m.Cancelled, m.MapReady))) as blocker:
        window.request_map()
        window.backend.cancel()
    assert isinstance(blocker.args[0], m.Cancelled)
    assert not window.canvas.has_heat()
    assert window.occlusion.compute.isEnabled()


@pytest.mark.parametrize("pane", ["grid", "deconv", "occlusion"])
def test_export_writes_a_png_with_its_facts(qtbot, window, tmp_path, pane):
    window.canvas.move_to(14, 14)
    out = tmp_path / f"{pane}.png"
    with qtbot.waitSignal(window.shown, timeout=20000, check_params_cb=lambda r: isinstance(r, m.Exported)):
        window.export_pane(pane, str(out))
    with Image.open(out) as image:
        image.verify()
    facts = read_facts(out)
    assert facts["model"] == "zf-fmnist"
    assert facts["image"].endswith("coffee.png")
    assert "zf-fmnist" in facts["Title"] and "coffee.png" in facts["Title"]
    if pane != "occlusion":
        assert facts["layer"] == window.layer
        assert facts["command"].startswith("deconvviz ") and f"--out {out}" in facts["command"]
    if pane == "deconv":
        assert facts["channel"] == str(window.channel)
    assert not list(tmp_path.glob("*.tmp*"))  # atomic: nothing half-written beside it


def test_export_to_an_unwritable_place_shows_a_message(qtbot, window, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with qtbot.waitSignal(window.shown, timeout=20000, check_params_cb=lambda r: isinstance(r, m.Failed)):
        window.export_pane("grid", str(blocker / "x.png"))
    assert window.banner.isVisible() and window.last_error == window.banner.text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "deconvviz.ini"]


def test_a_bad_image_shows_a_message_and_keeps_the_state(qtbot, window, tmp_path):
    bad = tmp_path / "not-an-image.png"
    bad.write_text("hello")
    pixels, path = window.pixels, window.image_path
    with qtbot.waitSignal(window.shown, timeout=20000, check_params_cb=lambda r: isinstance(r, m.Failed)):
        window.open_image(str(bad))
    assert "not-an-image.png" in window.banner.text()
    assert window.pixels is pixels and window.image_path == path
    with qtbot.waitSignal(window.shown, timeout=20000, check_params_cb=lambda r: isinstance(r, m.MapsReady)):
        window.tree.select_layer("features.8")  # still working
    assert window.grid.count() == 128


def test_weights_that_do_not_fit_keep_the_model(qtbot, window, tmp_path):
    import torch

    bad = tmp_path / "other.pt"
    torch.save({"features.0.weight": torch.zeros(3, 3)}, bad)
    with qtbot.waitSignal(window.shown, timeout=20000, check_params_cb=lambda r: isinstance(r, m.Failed)):
        window.open_file(str(bad))
    assert window.banner.isVisible() and window.banner.text()
    assert window.model_name == "zf-fmnist" and window.grid.count() > 0


def test_a_model_that_raises_is_reported_and_the_app_recovers(qtbot, window, tmp_path):
    source = tmp_path / "broken.py"
    source.write_text(
        "import torch\n"
        "PREPROCESSING = {'size': [16, 16], 'mode': 'L', 'mean': [0.5], 'std': [0.5]}\n"
        "class Broken(torch.nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__(); self.conv = torch.nn.Conv2d(1, 2, 3)\n"
        "    def forward(self, x):\n"
        "        raise RuntimeError('boom')\n"
        "def make():\n"
        "    return Broken()\n")
    with qtbot.waitSignal(window.shown, timeout=20000, check_params_cb=lambda r: isinstance(r, m.Failed)):
        window.open_model(f"{source}:make")
    assert "model raised RuntimeError: boom" in window.banner.text()
    assert window.model_name == "zf-fmnist"
    with qtbot.waitSignal(window.shown, timeout=20000, check_params_cb=lambda r: isinstance(r, m.MapsReady)):
        window.tree.select_layer("features.4")


def test_the_window_remembers_model_and_image(qtbot, settings, open_window):
    from deconvviz.data.images import sample_photos

    photo = str(sample_photos()[0])
    window = open_window(settings, image=photo)
    window.close()
    settings.sync()
    assert settings.value("model") == "zf-fmnist" and settings.value("image") == photo
    assert settings.value("geometry") is not None

    from deconvviz.gui.main_window import MainWindow

    again = MainWindow(settings)
    qtbot.addWidget(again, before_close_func=lambda w: w.close())
    qtbot.waitUntil(lambda: again.pixels is not None, timeout=20000)
    assert again.model_name == "zf-fmnist" and again.image_path == photo


def test_the_ui_thread_never_blocks_while_the_backend_computes(qtbot, window, app_heap):
    """A 5 ms heartbeat keeps firing through a full map and a fast drag: its worst gap stays within
    allowed_stall of the same heartbeat idle (tests/gui/stall_meter.py)."""
    window.occlusion.slider.setValue(3)
    window.occlusion.stride.setValue(1)
    idle = idle_heartbeat(qtbot)
    with StallMeter(busy=window.backend.busy) as meter, qtbot.waitSignal(
            window.shown, timeout=60000, check_params_cb=lambda r: isinstance(r, m.MapReady)):
        window.request_map()
        h, w = window.pixels.shape[:2]
        for i in range(60):
            window.canvas.move_to(h / 2, (i * 3) % w)
            qtbot.wait(5)
    assert sum(meter.busy) > 20, "the backend was hardly busy: the test measured nothing"
    assert meter.longest < allowed_stall(idle), f"the UI thread blocked for {meter.longest:.0f} ms (idle {idle:.0f})"


def test_the_live_square_answers_while_a_map_is_computed(qtbot, window):
    """The map yields to interactive requests between its batches, so dragging keeps working meanwhile."""
    window.occlusion.slider.setValue(2)
    window.occlusion.stride.setValue(1)
    window.request_map()
    qtbot.waitUntil(lambda: window.occlusion.progress.value() > 0, timeout=20000)
    window.canvas.move_to(10, 10)
    with qtbot.waitSignal(window.shown, timeout=20000, check_params_cb=lambda r: isinstance(r, (m.Occluded, m.MapReady))) as blocker:
        pass
    assert isinstance(blocker.args[0], m.Occluded), "the live square waited for the whole map"
    window.backend.cancel()
    qtbot.waitUntil(lambda: window.occlusion.compute.isEnabled(), timeout=20000)


def _png_declaring(path, width, height):
    """Write a tiny PNG whose header declares width x height pixels (a decompression bomb's shape)."""
    import io
    import struct
    import zlib

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    ihdr = bytearray(data[12:29])  # type + 13 bytes of IHDR data
    ihdr[4:12] = struct.pack(">II", width, height)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)) & 0xFFFFFFFF)
    path.write_bytes(bytes(data))


def test_an_image_far_larger_than_the_screen_is_refused_with_a_message(qtbot, window, tmp_path):
    huge = tmp_path / "huge.png"
    _png_declaring(huge, 12000, 12000)
    pixels = window.pixels
    with qtbot.waitSignal(window.shown, timeout=20000, check_params_cb=lambda r: isinstance(r, m.Failed)):
        window.open_image(str(huge))
    assert "huge.png" in window.banner.text() and "pixels" in window.banner.text()
    assert window.pixels is pixels


def test_dropping_an_image_file_opens_it(qtbot, window):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent

    from deconvviz.data.images import sample_photos

    photo = next(p for p in sample_photos() if p.name != "coffee.png")
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(photo))])
    event = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.shown, timeout=20000, check_params_cb=lambda r: isinstance(r, m.ImageLoaded)):
        window.dropEvent(event)
    assert window.image_path == str(photo) and photo.name in window.windowTitle()


def test_switching_the_class_while_a_square_is_shown_shows_its_probability_with_the_square(qtbot, window):
    """Before: the window passed None for the occluded probabilities, so p(class) kept the old class's value."""
    with qtbot.waitSignal(window.shown, timeout=20000, check_params_cb=lambda r: isinstance(r, m.Occluded)) as got:
        window.canvas.move_to(10, 12)
    probs = got.args[0].probs
    other = int(np.argsort(probs)[-2])  # the second most probable class with the square in place
    window.occlusion.target.setCurrentIndex(other)
    assert window.session.target == other
    assert window.occlusion.target_prob.text() == f"{float(probs[other]):.4f}"
    assert float(probs[other]) != pytest.approx(float(window.base_probs[other]), abs=5e-5)  # not the unoccluded one
