"""The attribution view from the Analyses menu: every method of the registry, its map equal to
``deconvviz.attribution`` for the same input (class, channel and neuron targets), the opacity slider, export (the
view's pixels, its command's PNG), Cancel on the slow methods, a layer without maps; and the sanity and
faithfulness views list every method."""

from __future__ import annotations

import shlex

import numpy as np
import pytest
from PIL import Image

import deconvviz
from analyses_helpers import export_and_read, open_from_menu, run_and_wait, wait_for
from deconvviz.cli import main as cli_main
from deconvviz.data.images import default_photo, load_image
from deconvviz.engine.methods import NAMES
from deconvviz.figures.png import CAPTION_HEIGHT
from deconvviz.models import load_model

OPTIONS = {"integrated-gradients": {"steps": 32, "baseline": "zero"},
           "smoothgrad": {"base": "saliency", "samples": 16, "noise": 0.15}}


def test_every_method_draws_the_api_map_of_the_input(qtbot, window):
    view = open_from_menu(window, "attribution")
    assert [view.method.itemText(i) for i in range(view.method.count())] == list(NAMES)
    wait_for(qtbot, view, lambda: view.shown is not None)
    model = load_model("zf-fmnist")
    x = model.preprocess(load_image(default_photo()))
    target = window.session.target
    for method in NAMES:
        assert run_and_wait(qtbot, view, "attribution", lambda: (view.method.setCurrentText(method), view.run())) == "attribution"
        shown = view.shown
        assert shown.result.method == method
        expected = deconvviz.attribution(model, x, method, target=target, **OPTIONS.get(method, {}))
        assert shown.map.shape == expected.shape
        assert np.allclose(shown.map, expected, atol=1e-5, rtol=1e-4), method
        assert np.array_equal(view.view.pixels(), shown.panel.pixels)
        assert f"{method} of class {target}" in view.last_message


def test_opacity_redraws_and_export_writes_the_png(qtbot, window, tmp_path):
    view = open_from_menu(window, "attribution")
    wait_for(qtbot, view, lambda: view.shown is not None)
    before = view.view.pixels().copy()
    view.opacity.setValue(20)
    after = view.view.pixels()
    assert after.shape == before.shape and not np.array_equal(after, before)
    assert np.abs(after.astype(int) - before.astype(int)).mean() > 1
    pixels, facts = export_and_read(qtbot, view, tmp_path / "attr.png")
    shown = view.view.pixels()
    assert pixels.shape == (shown.shape[0] + CAPTION_HEIGHT, shown.shape[1], 3)  # the panel and its caption strip
    assert np.array_equal(pixels[:shown.shape[0]], shown)  # what the view shows, pixel for pixel
    assert facts["command"].startswith("deconvviz attribute --model zf-fmnist ")
    assert "--opacity 0.2" in facts["command"] and facts["method"] == "gradcam"
    # the command in the PNG writes the same picture
    argv = shlex.split(facts["command"])
    again = tmp_path / "again.png"
    argv[argv.index("--out") + 1] = str(again)
    assert cli_main(argv[1:]) == 0
    with Image.open(again) as image:
        assert np.array_equal(np.asarray(image.convert("RGB")), pixels)


@pytest.mark.parametrize("method,long,short", [
    ("integrated-gradients", {"steps": 4096}, {"steps": 8, "baseline": "zero"}),
    ("smoothgrad", {"samples": 1024}, {"base": "saliency", "samples": 3, "noise": 0.15}),
])
def test_cancel_keeps_the_last_map_and_a_new_run_works(qtbot, window, method, long, short):
    view = open_from_menu(window, "attribution")
    wait_for(qtbot, view, lambda: view.shown is not None)
    assert run_and_wait(qtbot, view, "attribution", lambda: view.method.setCurrentText(method)) == "attribution"
    before, pixels, caption = view.shown, view.view.pixels().copy(), view.panel.caption
    for name, value in long.items():
        getattr(view, name).setValue(value)  # hundreds of passes: still running when Cancel is pressed
    assert run_and_wait(qtbot, view, "attribution", lambda: (view.run(), view.cancel_button.click())) \
        == "cancelled attribution"
    assert view.last_message == "attribution cancelled"
    assert view.shown is before and view.panel.caption == caption
    assert np.array_equal(view.view.pixels(), pixels)  # nothing half-drawn: the last map stays
    assert view.progress.isHidden() and not view.cancel_button.isEnabled()
    wait_for(qtbot, view, lambda: True)  # the cancelled job has left the runner

    for name, value in short.items():
        box = getattr(view, name)
        box.setValue(value) if hasattr(box, "setValue") else box.setCurrentText(value)
    assert run_and_wait(qtbot, view, "attribution", view.run) == "attribution"
    model = load_model("zf-fmnist")
    x = model.preprocess(load_image(default_photo()))
    expected = deconvviz.attribution(model, x, method, target=window.session.target, **short)
    assert view.shown is not before and np.allclose(view.shown.map, expected, atol=1e-5, rtol=1e-4)
    assert not np.array_equal(view.view.pixels(), pixels) and f"{method} of class" in view.last_message


def test_channel_and_neuron_targets_of_the_tree_layer_are_the_apis(qtbot, window):
    window.tree.select_layer("features.4")  # a layer with maps before it, for Grad-CAM to read
    qtbot.waitUntil(lambda: window.layer == "features.4" and window.channel is not None, timeout=30000)
    view = open_from_menu(window, "attribution")
    wait_for(qtbot, view, lambda: view.shown is not None)
    assert not view.target.isHidden() and view.unit_options.isHidden()  # a class target to begin with
    layer, channel = window.session.layer, window.session.channel
    assert view.unit_record().name == layer and view.unit_record().spatial
    model = load_model("zf-fmnist")
    x = model.preprocess(load_image(default_photo()))

    assert run_and_wait(qtbot, view, "attribution", lambda: view.kind.setCurrentText("channel")) == "attribution", \
        view.last_message
    assert view.target.isHidden() and not view.unit_options.isHidden() and view.position.isHidden()
    assert view.unit_layer.text() == layer and view.channel.value() == channel  # the grid's channel
    expected = deconvviz.attribution(model, x, "gradcam", target=(layer, channel))
    assert np.allclose(view.shown.map, expected, atol=1e-5, rtol=1e-4)
    assert f"gradcam of {layer} channel {channel}" in view.last_message

    assert run_and_wait(qtbot, view, "attribution", lambda: view.kind.setCurrentText("neuron")) == "attribution"
    _, height, width = view.unit_record().map_shape
    assert not view.position.isHidden() and (view.row.value(), view.col.value()) == (height // 2, width // 2)
    assert (view.row.maximum(), view.col.maximum(), view.channel.maximum()) == \
        (height - 1, width - 1, view.unit_record().map_shape[0] - 1)
    view.row.setValue(1)
    assert run_and_wait(qtbot, view, "attribution", view.run) == "attribution"
    where = (1, width // 2)
    expected = deconvviz.attribution(model, x, "gradcam", target=(layer, channel, where))
    assert np.allclose(view.shown.map, expected, atol=1e-5, rtol=1e-4)
    assert f"of {layer} channel {channel} at {where}" in view.last_message

    other = (channel + 1) % view.unit_record().map_shape[0]  # the grid's channel: the target follows it
    assert run_and_wait(qtbot, view, "attribution", lambda: setattr(window.session, "channel", other)) == "attribution"
    assert view.channel.value() == other
    run_and_wait(qtbot, view, "attribution", lambda: view.method.setCurrentText("guided"))
    expected = deconvviz.attribution(model, x, "guided", target=(layer, other, where))
    assert np.allclose(view.shown.map, expected, atol=1e-5, rtol=1e-4)
    assert view.shown.recipe.shell().count(f"--target {layer}:{other}:1,{width // 2}") == 1

    # another layer in the tree is the target's layer; Grad-CAM's layer box stays as it was
    run_and_wait(qtbot, view, "attribution", lambda: (view.method.setCurrentText("gradcam"),
                                                       view.kind.setCurrentText("channel")))
    gradcam_layer = view.layer.currentText()
    assert run_and_wait(qtbot, view, "attribution", lambda: window.tree.select_layer("features.8")) == "attribution"
    qtbot.waitUntil(lambda: window.channel is not None and view.channel.value() == window.channel and not view.busy(),
                    timeout=30000)
    assert view.unit_layer.text() == "features.8" and view.layer.currentText() == gradcam_layer
    expected = deconvviz.attribution(model, x, "gradcam", target=("features.8", window.channel))
    assert np.allclose(view.shown.map, expected, atol=1e-5, rtol=1e-4)

    assert run_and_wait(qtbot, view, "attribution", lambda: (view.method.setCurrentText("guided"),
                                                             view.kind.setCurrentText("class"))) == "attribution"
    expected = deconvviz.attribution(model, x, "guided", target=window.session.target)
    assert np.allclose(view.shown.map, expected, atol=1e-5, rtol=1e-4)


def test_a_layer_without_maps_gives_one_clear_line(qtbot, window):
    view = open_from_menu(window, "attribution")
    wait_for(qtbot, view, lambda: view.shown is not None)
    flat = next(r.name for r in window.session.loaded.layers if not r.spatial)
    shown = view.view.pixels().copy()
    index = view.layer.findData(flat)
    assert run_and_wait(qtbot, view, "attribution", lambda: view.layer.setCurrentIndex(index)) == "failed attribution"
    assert flat in view.last_message and "\n" not in view.last_message and "Traceback" not in view.last_message
    assert np.array_equal(view.view.pixels(), shown)  # the last map stays


def test_sanity_and_faithfulness_views_list_every_method(qtbot, window):
    sanity = open_from_menu(window, "sanity")
    assert set(NAMES) <= set(sanity.methods)
    faithfulness = open_from_menu(window, "faithfulness")
    assert set(NAMES) <= set(faithfulness.maps)


def test_a_playing_video_updates_the_gradcam_map_and_slow_methods_wait_for_the_pause(qtbot, window, tmp_path):
    from PIL import Image

    from deconvviz.session import messages as m
    from deconvviz.session.state import LiveFrame
    from tests.clips import clip_frames, write_clip

    clip = write_clip(tmp_path / "clip.mp4", clip_frames(40), fps=10)
    with qtbot.waitSignal(window.shown, timeout=20000,
                          check_params_cb=lambda r: isinstance(r, m.ImageLoaded) and r.frame is not None):
        window.open_video(str(clip))
    view = open_from_menu(window, "attribution")
    wait_for(qtbot, view, lambda: view.shown is not None)
    window.video.play_button.click()
    qtbot.waitUntil(lambda: view.shown is not None and isinstance(view.shown.source, LiveFrame)
                    and view.shown.frame.index >= 2, timeout=20000)
    shown = view.shown
    model = load_model("zf-fmnist")
    x = model.preprocess(Image.fromarray(shown.source.pixels, "RGB"))
    expected = deconvviz.attribution(model, x, "gradcam", target=window.session.target)
    assert np.allclose(shown.map, expected, atol=1e-5, rtol=1e-4)
    assert f"frame {shown.frame.index}" in view.last_message
    view.method.setCurrentText("integrated-gradients")
    assert "computes on the frame you pause on" in view.last_message
    window.pause_video()
    qtbot.waitUntil(lambda: view.shown is not None and view.shown.result.method == "integrated-gradients"
                    and not view.busy(), timeout=30000)
    assert view.shown.source is window.session.image
