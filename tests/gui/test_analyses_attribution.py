"""The attribution view from the Analyses menu: every method of the registry, its map equal to
``deconvviz.attribution`` for the same input, the opacity slider, export, a layer without maps; and the sanity
and faithfulness views list every method."""

from __future__ import annotations

import numpy as np

import deconvviz
from analyses_helpers import export_and_read, open_from_menu, run_and_wait, wait_for
from deconvviz.data.images import default_photo, load_image
from deconvviz.engine.methods import NAMES
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
    assert pixels.ndim == 3 and pixels.shape[1] >= view.panel.pixels.shape[1] // 2
    assert facts["command"].startswith("deconvviz attribute --model zf-fmnist ")
    assert "--opacity 0.2" in facts["command"] and facts["method"] == "gradcam"


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
