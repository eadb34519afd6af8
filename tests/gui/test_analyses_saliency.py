"""Saliency and activation maximisation from the Analyses menu, on the current image and selected channel."""

from __future__ import annotations

from analyses_helpers import export_and_read, open_from_menu, run_and_wait, wait_for


def test_saliency_of_the_top_class_and_of_a_chosen_class(qtbot, window, tmp_path):
    view = open_from_menu(window, "saliency")
    wait_for(qtbot, view, lambda: view.panel is not None)
    top = int(window.base_probs.argmax())
    assert f"(class {top}," in view.panel.caption and "coffee.png" in view.panel.caption
    shown = view.view.pixels()
    assert shown.shape[1] > 2.5 * shown.shape[0] - 60  # input | map | overlay
    other = (top + 1) % len(window.class_names)
    view.target.setCurrentIndex(view.target.findData(other))
    assert run_and_wait(qtbot, view, "saliency", view.run) == "saliency"
    assert f"(class {other}," in view.panel.caption
    pixels, facts = export_and_read(qtbot, view, tmp_path / "saliency.png")
    assert facts["command"].startswith("deconvviz saliency --model zf-fmnist --image ")
    assert f"--target {other}" in facts["command"] and facts["class"] == str(other)


def test_activation_maximisation_raises_the_channel_and_can_be_cancelled(qtbot, window, tmp_path):
    view = open_from_menu(window, "actmax")
    view.method.setCurrentIndex(view.method.findData("pixel"))
    assert view.steps.value() == 30 and view.l1.isEnabled() and not view.size.isEnabled()
    view.steps.setValue(8)
    assert run_and_wait(qtbot, view, "actmax", view.run) == "actmax"
    caption = view.panel.caption
    assert f"maximise {window.layer} channel {window.channel} · 8 steps" in caption
    first, last = (float(v) for v in caption.rsplit("· ", 1)[1].split(" -> "))
    assert last > first  # the ascent raised the target
    before = view.view.pixels().copy()

    view.steps.setValue(2000)
    result = run_and_wait(qtbot, view, "actmax", lambda: (view.run(), view.cancel_button.click()))
    assert result == "cancelled actmax"
    assert (view.view.pixels() == before).all() and view.panel.caption == caption  # the last result stays
    assert view.progress.isHidden() and not view.cancel_button.isEnabled()
    _, facts = export_and_read(qtbot, view, tmp_path / "actmax.png")
    assert facts["command"].startswith(f"deconvviz actmax --model zf-fmnist --layer {window.layer} "
                                       f"--channel {window.channel} --method pixel --steps 8 ")


def test_activation_maximisation_uses_feature_visualisation_by_default(qtbot, window, tmp_path, monkeypatch):
    from deconvviz.analyses import featvis

    calls = []
    engine = featvis.visualise
    monkeypatch.setattr(featvis, "visualise", lambda *a, **k: calls.append(a[2:4]) or engine(*a, **k))
    view = open_from_menu(window, "actmax")
    assert view.method.currentData() == "featvis" and view.steps.value() == 256  # the CLI's defaults
    assert not view.l1.isEnabled() and view.size.isEnabled()
    view.steps.setValue(4)
    view.size.setValue(32)
    assert run_and_wait(qtbot, view, "actmax", view.run) == "actmax"
    assert calls == [(window.layer, [window.channel])]
    assert f"maximise {window.layer} channel {window.channel}" in view.panel.caption
    assert view.view.pixels().std() > 0
    _, facts = export_and_read(qtbot, view, tmp_path / "featvis.png")
    assert facts["command"].startswith(f"deconvviz actmax --model zf-fmnist --layer {window.layer} "
                                       f"--channel {window.channel} --method featvis --steps 4 --size 32 ")
