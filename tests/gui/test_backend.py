"""The app's runner on QThreads: synchronous mode, coalescing of waiting requests, errors as messages, thread shutdown."""

from __future__ import annotations

import numpy as np

from deconvviz.data.images import default_photo
from deconvviz.session import messages as m
from deconvviz.gui.backend import Backend, running_threads


def test_synchronous_mode_answers_inside_submit(qtbot):
    backend = Backend("cpu", threaded=False)
    got = []
    backend.resultReady.connect(got.append)
    backend.submit(m.LoadModel(1, "zf-fmnist"))
    backend.submit(m.LoadImage(2, str(default_photo())))
    backend.submit(m.LayerMaps(3, "features.4"))
    assert [type(r) for r in got] == [m.ModelLoaded, m.ImageLoaded, m.MapsReady]
    assert got[2].maps.shape == (64, 14, 14) and got[2].request.generation == 3
    assert not got[2].maps.flags.writeable
    assert backend.thread is None and not running_threads()


def test_waiting_requests_of_one_kind_are_coalesced(qtbot):
    backend = Backend("cpu")
    got = []
    backend.resultReady.connect(got.append)
    try:
        backend.submit(m.LoadModel(1, "zf-fmnist"))
        backend.submit(m.LoadImage(2, str(default_photo())))
        for g in range(3, 103):  # a fast drag: 100 positions while the model is still loading
            backend.submit(m.Occlude(g, top=g % 20, left=3, size=6, layer="features.4", channel=1))
        qtbot.waitUntil(lambda: any(isinstance(r, m.Occluded) and r.request.generation == 102 for r in got),
                        timeout=20000)
    finally:
        backend.stop()
    occluded = [r.request.generation for r in got if isinstance(r, m.Occluded)]
    assert occluded[-1] == 102
    assert len(occluded) < 50, f"{len(occluded)} of 100 drag positions computed: not coalesced"
    assert not running_threads()


def test_a_newer_request_replaces_the_waiting_one_and_goes_to_the_back(monkeypatch):
    backend = Backend("cpu", threaded=False)
    monkeypatch.setattr(backend.core.worker, "handle", lambda: None)  # keep requests waiting
    a, b, c = m.Occlude(1), m.LayerMaps(2, "x"), m.Occlude(3)
    for r in (a, b, c):
        backend.submit(r)
    assert list(backend.core._pending.values()) == [b, c]  # the newest occlusion runs after the layer maps
    backend.submit(m.Export(4, "grid", "a.png"))
    backend.submit(m.Export(5, "grid", "b.png"))
    assert backend.pending() == 4  # exports are never coalesced
