"""Launch smoke test on the default model: efficientnet-lite0 and the bundled coffee photo."""

from __future__ import annotations

import time

from deconvviz.session import messages as m


def test_launch_on_efficientnet(qtbot, settings):
    from deconvviz.gui.main_window import MainWindow

    started = time.perf_counter()
    window = MainWindow(settings)  # no model, no image: the defaults
    qtbot.addWidget(window, before_close_func=lambda w: w.close())
    window.show()
    assert window.windowTitle().startswith("deconvviz")
    assert time.perf_counter() - started < 2.0  # the window is up at once; the model loads in the backend
    with qtbot.waitSignal(window.shown, timeout=60000, check_params_cb=lambda r: isinstance(r, m.ImageLoaded)):
        pass
    assert window.model_name == "efficientnet-lite0"
    assert window.image_path.endswith("coffee.png")
    assert window.table.rows()[0][0] == "espresso"
    assert window.windowTitle() == "deconvviz — efficientnet-lite0 — coffee.png"


def test_a_remembered_model_that_no_longer_loads_falls_back_to_the_default(qtbot, settings):
    from deconvviz.gui.main_window import MainWindow

    settings.setValue("model", "no-such-model")
    window = MainWindow(settings)
    qtbot.addWidget(window, before_close_func=lambda w: w.close())
    with qtbot.waitSignal(window.shown, timeout=60000, check_params_cb=lambda r: isinstance(r, m.ImageLoaded)):
        pass
    assert window.model_name == "efficientnet-lite0"
