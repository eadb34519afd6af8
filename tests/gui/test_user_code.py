"""A user's model (file.py:factory) that raises, returns the wrong thing or hangs: the app says so and goes on.

The hang tests shorten the backend's grace and watchdog (seconds) so they run in a few seconds.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from deconvviz.session import messages as m
from deconvviz.gui.backend import stuck_threads
from occlusion_helpers import direct_probs
from stall_meter import StallMeter, allowed_stall, idle_heartbeat
from settle import settled

HEADER = (
    "import time\n"
    "import torch\n"
    "PREPROCESSING = {'size': [16, 16], 'mode': 'L', 'mean': [0.5], 'std': [0.5]}\n"
    "class Net(torch.nn.Module):\n"
    "    def __init__(self):\n"
    "        super().__init__(); self.conv = torch.nn.Conv2d(1, 2, 3)\n"
)
FORWARDS = {
    "feature_map": "    def forward(self, x):\n        return self.conv(x)\n",
    "tuple": "    def forward(self, x):\n        y = self.conv(x).mean((2, 3))\n        return y, y\n",
    "busy_loop": "    def forward(self, x):\n        while True:\n            pass\n",
    # a call that never comes back to the interpreter (here for 2.5 s, once): cannot be interrupted
    "sleep": "    SLEPT = []\n    def forward(self, x):\n        if not self.SLEPT:\n            self.SLEPT.append(1)\n"
             "            time.sleep(2.5)\n        return self.conv(x).mean((2, 3))\n",
}


def user_model(tmp_path, kind: str) -> str:
    """Return ``file.py:make`` for a user model whose forward is FORWARDS[kind]."""
    source = tmp_path / f"{kind}.py"
    source.write_text(HEADER + FORWARDS[kind] + "def make():\n    return Net()\n")
    return f"{source}:make"


def failed_load(qtbot, window, name, timeout=20000) -> m.Failed:
    with qtbot.waitSignal(window.shown, timeout=timeout, check_params_cb=lambda r: isinstance(r, m.Failed)) as got:
        window.open_model(name)
    return got.args[0]


def assert_still_working(qtbot, window):
    """The window keeps zf-fmnist and answers a layer switch and an occluder move with the right numbers."""
    assert window.model_name == "zf-fmnist"
    with qtbot.waitSignal(window.shown, timeout=20000,
                          check_params_cb=lambda r: isinstance(r, m.MapsReady) and r.request.layer == "features.4"):
        window.tree.select_layer("features.4")
    assert window.grid.count() == 64
    with qtbot.waitSignal(window.shown, timeout=20000, check_params_cb=lambda r: isinstance(r, m.Occluded)) as got:
        window.canvas.move_to(10, 12)
    expected = direct_probs(window)
    np.testing.assert_allclose(got.args[0].probs, expected, atol=1e-6)


@pytest.mark.parametrize("kind, says", [("feature_map", "forward returned shape (1, 2, 14, 14)"),
                                        ("tuple", "forward returned a tuple")])
def test_a_model_returning_the_wrong_thing_is_reported(qtbot, window, tmp_path, kind, says):
    failed = failed_load(qtbot, window, user_model(tmp_path, kind))
    assert says in failed.message and "class scores of shape (1, classes)" in failed.message
    assert says in window.banner.text() and says in window.statusBar().currentMessage()
    assert_still_working(qtbot, window)


def test_a_busy_looping_model_is_interrupted_by_cancel(qtbot, window, tmp_path):
    """``while True: pass`` in forward: the UI keeps ticking, the watchdog speaks, Esc stops the loop."""
    backend = window.backend
    backend.grace, backend.watchdog = 0.3, 0.5
    messages = []
    window.message.connect(messages.append)
    idle = idle_heartbeat(qtbot)
    meter = StallMeter(10).start()
    window.open_model(user_model(tmp_path, "busy_loop"))
    qtbot.waitUntil(lambda: any("has not answered for" in t for t in messages), timeout=10000)
    with qtbot.waitSignal(window.shown, timeout=10000, check_params_cb=lambda r: isinstance(r, m.Failed)) as got:
        qtbot.keyClick(window, Qt.Key.Key_Escape)
    meter.stop()
    assert got.args[0].message.startswith("stopped:") and "did not answer LoadModel" in got.args[0].message
    assert "stopped:" in window.statusBar().currentMessage() and window.banner.isVisible()
    assert backend.abandoned == 0, "the loop should end by the interrupt, without abandoning the thread"
    assert len(meter.gaps) > 20 and meter.longest < allowed_stall(idle), \
        f"the UI waited {meter.longest:.0f} ms while the model looped (idle {idle:.0f} ms)"
    assert_still_working(qtbot, window)


def test_a_model_stuck_in_a_call_is_abandoned_and_the_app_restarts_its_worker(qtbot, window, tmp_path):
    """A sleep does not return to the interpreter: cancel gives up on that thread and reloads zf-fmnist."""
    backend = window.backend
    backend.grace = 0.3
    old_thread = backend.thread
    window.open_model(user_model(tmp_path, "sleep"))
    qtbot.waitUntil(lambda: backend.running_for() > 0.2, timeout=10000)
    with qtbot.waitSignal(window.shown, timeout=10000, check_params_cb=lambda r: isinstance(r, m.Failed)) as got:
        backend.cancel()
    assert got.args[0].message.startswith("abandoned:") and "back to zf-fmnist" in got.args[0].message
    assert "abandoned:" in window.statusBar().currentMessage()
    assert backend.abandoned == 1 and backend.thread is not old_thread and old_thread in stuck_threads()
    assert_still_working(qtbot, window)  # the fresh worker reloaded the last model and image that worked
    qtbot.waitUntil(lambda: not stuck_threads(), timeout=15000)  # the sleep ends; its late answer is dropped
    assert window.model_name == "zf-fmnist"


def test_closing_the_window_while_a_model_loops_does_not_hang(qtbot, window, tmp_path):
    """Before: closing waited forever for the worker thread, which never left the user's loop."""
    import time

    window.open_model(user_model(tmp_path, "busy_loop"))
    qtbot.waitUntil(lambda: window.backend.running_for() > 0.2, timeout=10000)
    started = time.monotonic()
    window.close()
    assert time.monotonic() - started < 3.5
    assert not window.backend.busy() and not stuck_threads()



def flag_loop_model(tmp_path):
    """Return (model spec, flag file): the model's forward loops while the flag file exists."""
    flag = tmp_path / "loop-now"
    source = tmp_path / "flag_loop.py"
    source.write_text(HEADER + "    def forward(self, x):\n"
                      f"        while __import__('os').path.exists({str(flag)!r}):\n            pass\n"
                      "        return self.conv(x).mean((2, 3))\n" + "def make():\n    return Net()\n")
    return f"{source}:make", flag


def loop_in_saliency_view(qtbot, window, tmp_path):
    """Load the flag model, then loop it inside the saliency view's job; return (view, flag)."""
    from analyses_helpers import open_from_menu

    spec, flag = flag_loop_model(tmp_path)
    with qtbot.waitSignal(window.shown, timeout=20000, check_params_cb=lambda r: isinstance(r, m.ProjectionReady)
                          and r.request.generation > window.tracker.epoch and window.model_name == spec):
        window.open_model(spec)  # the chain load -> maps -> projection has ended: the main window is idle
    qtbot.waitUntil(lambda: settled(window.backend), timeout=20000)
    flag.touch()
    view = open_from_menu(window, "saliency")  # runs at once, on the looping model
    qtbot.waitUntil(lambda: window.backend.running_for() > 0.3, timeout=10000)
    assert window.backend.running().owner == "saliency"
    return view, flag


def test_closing_the_app_while_a_model_loops_inside_an_analysis_view_exits_within_seconds(qtbot, window, tmp_path):
    """Before: the analysis view's own worker waited without a timeout for the looping job at close."""
    import time

    view, flag = loop_in_saliency_view(qtbot, window, tmp_path)
    started = time.monotonic()
    window.close()
    assert time.monotonic() - started < 4.0
    assert not stuck_threads()


def test_cancel_in_an_analysis_view_interrupts_a_looping_model_and_the_app_goes_on(qtbot, window, tmp_path):
    """The views share the main window's runner, so they get its escalation: Cancel interrupts the loop."""
    from analyses_helpers import run_and_wait

    window.backend.grace = 0.3
    view, flag = loop_in_saliency_view(qtbot, window, tmp_path)
    assert run_and_wait(qtbot, view, "saliency", view.cancel, timeout=10000) == "failed saliency"
    assert view.last_message.startswith("stopped:")
    view.run()  # again, and this time the main window's Esc (its status bar says so) stops it
    qtbot.waitUntil(lambda: window.backend.running_for() > 0.3, timeout=10000)
    assert run_and_wait(qtbot, view, "saliency", window.escape, timeout=10000) == "failed saliency"
    assert view.last_message.startswith("stopped:") and "did not answer saliency" in view.last_message
    assert window.backend.abandoned == 0 and not view.busy()
    flag.unlink()
    with qtbot.waitSignal(window.shown, timeout=20000, check_params_cb=lambda r: isinstance(r, m.Occluded)):
        window.canvas.move_to(5, 6)  # the main window answers again
