"""A long session on the real window: 1,000 rapid occluder moves, 100 layer/channel switches, 100 model
switches (zf-fmnist <-> a tiny user model) and a cancelled occlusion map; no crash, bounded memory, and the screen answers the last request.

Memory is the process's resident set (/proc/self/statm) after a warm-up session of the same kind, and again
after the long one (both after gc and with the backend idle); the bound is stated in MAX_GROWTH_MB.
"""

from __future__ import annotations

import gc
import os

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from deconvviz.session import messages as m
from occlusion_helpers import direct_probs
from settle import settled

# Measured on 2 busy cores: +11 to +22 MiB for the first long session, then 0 to +27 / -9 for each further
# one (allocator arenas, not a trend: +40 MiB over 5 sessions, 500 model loads). A leak of the model per load
# (zf-fmnist's weights are 3.4 MiB; 50 loads per session) would add ~170 MiB.
MAX_GROWTH_MB = 64
LAYERS = [f"features.{i}" for i in range(15)]  # zf-fmnist's spatial layers, 32..128 channels each
TINY = (
    "import torch\n"
    "from torch import nn\n"
    "PREPROCESSING = {'size': [28, 28], 'mode': 'L', 'mean': [0.5], 'std': [0.5]}\n"
    "def make():\n"
    "    torch.manual_seed(0)\n"
    "    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),\n"
    "                         nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),\n"
    "                         nn.Linear(16, 10))\n"
)


def rss_mb() -> float:
    """Return this process's resident memory in MiB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def idle(qtbot, window, timeout=30000):
    qtbot.waitUntil(lambda: settled(window.backend), timeout=timeout)
    QApplication.processEvents()  # deliver the last queued results


def session(qtbot, window, tiny, moves, switches, models):
    """Drive the window: ``moves`` occluder moves, ``switches`` layer/channel switches, ``models`` model switches
    (zf-fmnist <-> tiny, ending on zf-fmnist) and one occlusion map cancelled half-way through the moves."""
    h, w = window.pixels.shape[:2]
    for i in range(moves):
        window.canvas.move_to((i * 7) % h, (i * 13) % w)
        if i % 10 == 9:
            QApplication.processEvents()
        if i == moves // 2:
            window.occlusion.stride.setValue(1)
            window.request_map()
        if i == moves // 2 + 20:
            window.backend.cancel()
    for i in range(switches):
        if i % 2 == 0:
            window.tree.select_layer(LAYERS[(i * 5) % len(LAYERS)])
        else:
            window.grid.select((i * 7) % 32)
        QApplication.processEvents()
    for i in range(models):
        name = tiny if i % 2 == 0 else "zf-fmnist"
        with qtbot.waitSignal(window.shown, timeout=30000,
                              check_params_cb=lambda r, n=name: isinstance(r, m.ModelLoaded) and r.request.name == n):
            window.open_model(name)
        window.canvas.move_to(i, i)  # a request right behind each load
    idle(qtbot, window)


def test_a_long_session_stays_correct_and_bounded(qtbot, window, tmp_path):
    source = tmp_path / "tiny.py"
    source.write_text(TINY)
    tiny = f"{source}:make"
    failures, maps, loaded = [], [], []
    window.shown.connect(lambda r: failures.append(r.message) if isinstance(r, m.Failed) else None)
    window.shown.connect(lambda r: loaded.append(r.name) if isinstance(r, m.ModelLoaded) else None)
    window.backend.resultReady.connect(lambda r: maps.append(r) if isinstance(r.request, m.OcclusionMap) else None)

    session(qtbot, window, tiny, moves=100, switches=20, models=2)  # warm-up: caches, allocator pools
    gc.collect()
    before = rss_mb()
    computed, loads = len(window.backend.computed), len(loaded)
    session(qtbot, window, tiny, moves=1000, switches=100, models=100)
    assert window.model_name == "zf-fmnist" and len(loaded) - loads == 100
    assert [type(r) for r in maps] == [m.Cancelled, m.Cancelled]  # warm-up's and this session's map
    assert window.occlusion.compute.isEnabled() and not window.occlusion.cancel.isEnabled()
    computed = len(window.backend.computed) - computed
    assert computed > 200, "the backend hardly computed anything: the session tested nothing"

    # the last requests: a layer, a channel, a square; the screen must show exactly their answers
    window.tree.select_layer("features.8")
    idle(qtbot, window)
    window.grid.select(17)
    window.canvas.move_to(9, 20)
    idle(qtbot, window)
    gc.collect()
    after = rss_mb()
    print(f"\nRSS after warm-up {before:.1f} MiB, after the long session {after:.1f} MiB, "
          f"growth {after - before:+.1f} MiB (bound {MAX_GROWTH_MB}); {computed} requests computed")

    assert not failures, failures[:3]
    assert after - before < MAX_GROWTH_MB
    assert window._grid_layer == "features.8" and window.grid_title.text().startswith("features.8 ·")
    assert window.grid.count() == 128 and window.channel == 17
    expected = direct_probs(window)
    np.testing.assert_allclose(window.table.values, expected, atol=1e-6)
    np.testing.assert_allclose(window.last_probs, expected, atol=1e-6)
    assert window.occlusion.target_prob.text() == f"{float(expected[window.target]):.4f}"


def test_a_map_cancelled_by_a_load_that_fails_leaves_the_map_buttons_usable(qtbot, window, tmp_path):
    """A new image cancels a running map; if that image then fails to open, Compute must work again."""
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    window.occlusion.slider.setValue(2)
    window.occlusion.stride.setValue(1)
    window.request_map()
    assert not window.occlusion.compute.isEnabled()
    with qtbot.waitSignal(window.shown, timeout=20000, check_params_cb=lambda r: isinstance(r, m.Failed)):
        window.open_image(str(bad))
    idle(qtbot, window)
    assert window.occlusion.compute.isEnabled() and not window.occlusion.cancel.isEnabled()
    with qtbot.waitSignal(window.shown, timeout=30000, check_params_cb=lambda r: isinstance(r, m.Cancelled)):
        window.request_map()
        window.backend.cancel()
    assert window.occlusion.compute.isEnabled()
