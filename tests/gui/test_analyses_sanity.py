"""Sanity check and deletion/insertion curves from the Analyses menu: on the session's channel or class, with
progress and Cancel on the shared runner, and an export that the CLI command in it reproduces."""

from __future__ import annotations

import shlex

import numpy as np
from PIL import Image

from analyses_helpers import export_and_read, open_from_menu, run_and_wait
from deconvviz.cli import main as cli_main
from settle import settled

TIMEOUT = 120000  # the whole cascading test of zf-fmnist: 8 steps x 4 methods


def _cli_pixels(argv: list[str], tmp_path, name: str) -> np.ndarray:
    """Run the export's command with its outputs in ``tmp_path``; return the PNG's pixels."""
    argv = list(argv)
    argv[argv.index("--out") + 1] = str(tmp_path / f"{name}.png")
    argv[argv.index("--csv") + 1] = str(tmp_path / f"{name}.csv")
    assert cli_main(argv[1:]) == 0
    return np.asarray(Image.open(tmp_path / f"{name}.png").convert("RGB"))


def test_sanity_check_of_the_selected_channel_with_progress_table_and_export(qtbot, window, tmp_path):
    view = open_from_menu(window, "sanity")
    steps = []
    view.backend.progress.connect(lambda _g, done, total: steps.append((done, total)))
    assert run_and_wait(qtbot, view, "sanity", view.run, TIMEOUT) == "sanity"
    result = view.result
    assert result.target.layer == window.layer and result.target.channel == window.channel
    assert f"{window.layer} channel {window.channel}" in view.panel.caption and "cascading" in view.panel.caption
    total = len(result.steps) - 1
    assert total >= 5 and steps[-1] == (total, total)  # one report per randomised layer
    assert np.array_equal(view.view.pixels(), view.panel.pixels)
    assert view.table.rowCount() == 4
    assert [view.table.item(r, 0).text() for r in range(4)] == ["deconvnet", "guided", "backprop", "saliency"]
    assert {view.table.item(r, 3).text() for r in range(4)} <= {"fails", "partly", "passes", "cannot tell"}
    assert view.progress.isHidden() and not view.cancel_button.isEnabled()

    out = tmp_path / "sanity.png"
    pixels, facts = export_and_read(qtbot, view, out)
    argv = shlex.split(facts["command"])
    assert argv[:4] == ["deconvviz", "sanity", "--model", "zf-fmnist"]
    assert argv[argv.index("--layer") + 1] == window.layer and argv[argv.index("--channel") + 1] == str(window.channel)
    assert argv[argv.index("--out") + 1] == str(out) and argv[argv.index("--csv") + 1] == str(tmp_path / "sanity.csv")
    assert np.array_equal(_cli_pixels(argv, tmp_path, "again"), pixels)  # the same computation and figure code


def test_a_class_score_independent_test_and_cancel(qtbot, window, tmp_path):
    view = open_from_menu(window, "sanity")
    view.what.setCurrentText("class score")
    assert view.target.isEnabled()
    view.target.setCurrentIndex(view.target.findData(3))
    view.test.setCurrentText("independent")
    view.methods["deconvnet"].setChecked(False)
    view.methods["backprop"].setChecked(False)
    assert run_and_wait(qtbot, view, "sanity", view.run, TIMEOUT) == "sanity"
    assert view.result.target.class_index == 3 and view.result.methods == ("guided", "saliency")
    assert "class 3" in view.panel.caption and "independent" in view.panel.caption
    before, caption = view.view.pixels().copy(), view.panel.caption

    assert run_and_wait(qtbot, view, "sanity", lambda: (view.run(), view.cancel_button.click()),
                        TIMEOUT) == "cancelled sanity"
    assert view.last_message == "sanity cancelled"
    assert np.array_equal(view.view.pixels(), before) and view.panel.caption == caption  # the last result stays
    assert view.progress.isHidden() and not view.cancel_button.isEnabled()
    _, facts = export_and_read(qtbot, view, tmp_path / "class.png")
    assert "--class 3" in facts["command"] and "--test independent" in facts["command"]
    assert "--methods guided,saliency" in facts["command"]

    for box in view.methods.values():
        box.setChecked(False)
    view.run()
    assert view.last_message == "tick at least one method" and not view.busy()


def test_deletion_and_insertion_curves_with_table_cancel_and_export(qtbot, window, tmp_path):
    view = open_from_menu(window, "faithfulness")
    view.steps.setValue(8)
    view.random.setValue(1)
    assert run_and_wait(qtbot, view, "faithfulness", view.run, TIMEOUT) == "faithfulness"
    top = int(window.base_probs.argmax())
    assert view.result.target == top and f"(class {top}," in view.panel.caption
    assert [view.table.item(r, 0).text() for r in range(view.table.rowCount())] == ["occlusion", "saliency", "random"]
    assert float(view.table.item(2, 1).text()) == round(view.result.curves["random"].deletion_auc, 3)
    before = view.view.pixels().copy()

    assert run_and_wait(qtbot, view, "faithfulness", lambda: (view.run(), view.cancel_button.click()),
                        TIMEOUT) == "cancelled faithfulness"
    assert np.array_equal(view.view.pixels(), before)

    out = tmp_path / "faithfulness.png"
    pixels, facts = export_and_read(qtbot, view, out)
    argv = shlex.split(facts["command"])
    assert argv[:2] == ["deconvviz", "faithfulness"] and "--steps" in argv and argv[argv.index("--steps") + 1] == "8"
    assert np.array_equal(_cli_pixels(argv, tmp_path, "again"), pixels)


def test_a_paused_video_frame_is_checked_and_its_command_reads_that_frame(qtbot, window, tmp_path):
    from deconvviz.session import messages as m
    from tests.clips import clip_frames, write_clip

    clip = write_clip(tmp_path / "clip.mp4", clip_frames(12), fps=10)

    def frame_loaded(r):
        return isinstance(r, m.ImageLoaded) and r.frame is not None

    with qtbot.waitSignal(window.shown, timeout=20000, check_params_cb=frame_loaded):
        window.open_video(str(clip))
    qtbot.waitUntil(lambda: settled(window.backend), timeout=20000)
    with qtbot.waitSignal(window.shown, timeout=20000, check_params_cb=frame_loaded):
        window.video.slider.setValue(5)
    view = open_from_menu(window, "sanity")
    for method in ("deconvnet", "backprop", "saliency"):
        view.methods[method].setChecked(False)
    assert run_and_wait(qtbot, view, "sanity", view.run, TIMEOUT) == "sanity"
    assert view.panel.caption.endswith("clip.mp4 frame 5 at 0.50 s")
    out = tmp_path / "frame.png"
    pixels, facts = export_and_read(qtbot, view, out)
    assert (facts["video"], facts["frame"]) == (str(clip), "5")
    argv = shlex.split(facts["command"])
    assert argv[argv.index("--frame") + 1] == "5" and argv[argv.index("--image") + 1] == str(clip)
    assert np.array_equal(_cli_pixels(argv, tmp_path, "again"), pixels)
