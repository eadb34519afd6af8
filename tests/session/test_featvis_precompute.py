"""Every layer's feature visualisations in the background (Qt-free): each layer's channels end up in the cache
under the grid's keys, a second model load finds them all (no job), a job pauses while the main lane is busy and
yields to another waiting job without losing a finished chunk, a failing layer is skipped."""

from __future__ import annotations

import textwrap

import pytest

from deconvviz.session import featvis_cache as cache
from deconvviz.session import messages as m
from deconvviz.session.featvis_precompute import OWNER, FeatvisPrecompute
from deconvviz.session.featvis_tiles import CHUNK, FeatvisParams, FeatvisTiles
from deconvviz.session.runner import Runner

LAYERS = [("0", 4), ("1", 4), ("2", 10)]  # conv, relu, conv: 18 pictures


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "tinynet.py"
    path.write_text(textwrap.dedent("""
        import torch
        import torch.nn as nn
        PREPROCESSING = {"size": [16, 16], "mode": "L", "mean": [0.5], "std": [0.25]}
        def build():
            torch.manual_seed(0)  # the same weights at every load
            return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 10, 3), nn.AdaptiveAvgPool2d(1),
                                 nn.Flatten())
        """))
    return f"{path}:build"


class Setup:
    """A synchronous runner, the tiles and the background precompute on the tiny model, recording jobs."""

    def __init__(self, model_file, folder, main_busy=lambda: False, others_waiting=lambda: False):
        self.runner = Runner("cpu")
        self.jobs, self.results = [], []
        self.tiles = FeatvisTiles(self.submit, self.runner.cancel, self.runner.generations)
        self.tiles.params = lambda: FeatvisParams(steps=2, size=8)
        self.tiles.folder = lambda: folder
        self.background = FeatvisPrecompute(self.tiles, main_busy, others_waiting)
        self.states = []
        self.background.state = self.states.append
        self.runner.on_result = self.answer
        self.runner.on_progress = lambda g, done, total: self.background.on_progress(g, done, total)
        self.model_file = model_file

    def submit(self, request):
        self.jobs.append(request)
        self.runner.submit(request)

    def answer(self, result):
        self.results.append(result)
        self.tiles.on_result(result) or self.background.on_result(result)

    def load(self, layers=LAYERS):
        loaded = object()  # a new load: its own ModelFacts
        self.tiles.model(loaded, (self.model_file, None))
        self.background.model(loaded, layers)


def cached_channels(setup, folder, layer, count):
    params = setup.tiles.params()
    return [c for c in range(count)
            if cache.has(cache.picture_key(setup.tiles.hash, layer, c, **params.key_params()), folder)]


def test_every_layer_ends_up_in_the_cache_and_a_second_load_submits_nothing(model_file, tmp_path):
    folder = tmp_path / "cache"
    s = Setup(model_file, folder)
    s.background.enable(True)
    s.load()
    assert [j.owner for j in s.jobs] == [OWNER] * 3  # one job per layer
    assert s.tiles.hash is not None
    for layer, count in LAYERS:
        assert cached_channels(s, folder, layer, count) == list(range(count))
    assert len(list(folder.glob("*.npy"))) == 18
    assert s.states[-1] == "every layer's feature vis: 3 of 3 layers"
    # the grid's own job for a layer would find them all: its pictures are the same ones
    grid = cache.load(cache.picture_key(s.tiles.hash, "2", 7, **s.tiles.params().key_params()), folder)
    assert grid.shape == (3, 8, 8) and float(grid.min()) >= 0 and float(grid.max()) <= 1

    again = Setup(model_file, folder)  # the same weights loaded again: one job, which hashes them and finds
    again.background.enable(True)      # layer "0" cached; the other layers are looked up with no job
    again.load()
    assert len(again.jobs) == 1 and again.tiles.hash == s.tiles.hash
    assert again.states[-1] == "every layer's feature vis: 3 of 3 layers"
    assert len(list(folder.glob("*.npy"))) == 18


def test_it_pauses_while_the_main_lane_is_busy_and_yields_to_a_waiting_job(model_file, tmp_path):
    folder = tmp_path / "cache"
    busy = iter([True] * 3)  # the main lane busy at the first three looks
    fired = []

    def others_waiting():  # another job comes once layer "2"'s first chunk is cached, in its second chunk
        if not fired and len(list(folder.glob("*.npy"))) == 4 + 4 + CHUNK:
            fired.append(True)
            return True
        return False

    s = Setup(model_file, folder, main_busy=lambda: next(busy, False), others_waiting=others_waiting)
    s.background.enable(True)
    s.load()
    assert next(busy, None) is None  # it looked (and waited) while the lane was busy
    runs = [r.value for r in s.results if isinstance(r, m.Done) and r.request.owner == OWNER]
    assert [(r.layer, r.yielded) for r in runs] == [("0", False), ("1", False), ("2", True), ("2", False)]
    last = s.jobs[-1]
    computed = {c for r in s.results if isinstance(r, m.Partial) and r.request is last for c in r.value.pictures}
    assert computed == {8, 9}  # asked again for the unfinished chunk only: the first was cached before it yielded
    assert len(list(folder.glob("*.npy"))) == 18


def test_a_layer_that_fails_is_skipped_and_named(model_file, tmp_path):
    s = Setup(model_file, tmp_path / "cache")
    s.background.enable(True)
    s.load([("0", 4), ("no.such.layer", 3), ("2", 10)])
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 14
    assert "skipped 1: no.such.layer" in s.states[-1] and s.states[-1].startswith("every layer's feature vis: 3 of 3")


def test_switched_off_it_stops_and_asks_for_nothing(model_file, tmp_path):
    s = Setup(model_file, tmp_path / "cache")
    s.load()
    assert s.jobs == [] and not (tmp_path / "cache").exists()
    s.background.enable(True)
    assert len(s.jobs) == 3
    s.background.enable(False)
    assert s.states[-1] == ""


def test_a_pause_ends_when_another_job_waits_in_the_views_lane(model_file, tmp_path):
    """While a video plays the main lane is always busy: a paused job must still let a view's job go first."""
    folder = tmp_path / "cache"
    waiting = []

    def others_waiting():  # a view's job comes while the first layer is paused
        if not waiting:
            waiting.append(len(looks))  # how long it had been paused when the job came
            return True
        return False

    looks: list[bool] = []

    def main_busy():  # busy until the view's job came (at most 20 looks, 1 s: a pause that misses it ends)
        looks.append(True)
        return not waiting and len(looks) <= 20

    s = Setup(model_file, folder, main_busy=main_busy, others_waiting=others_waiting)
    s.background.enable(True)
    s.load()
    runs = [r.value for r in s.results if isinstance(r, m.Done) and r.request.owner == OWNER]
    assert (runs[0].layer, runs[0].yielded) == ("0", True) and waiting[0] <= 1  # gave way at once, not after
    assert len(list(folder.glob("*.npy"))) == 18


def test_after_the_main_lane_was_busy_it_waits_until_the_lane_has_been_quiet(model_file, tmp_path):
    """A drag sends a request every few ms: a step must not start in the gaps between them."""
    import time

    from deconvviz.session.featvis_precompute import QUIET_S

    busy = iter([True])  # busy at the first look only
    s = Setup(model_file, tmp_path / "cache", main_busy=lambda: next(busy, False))
    s.background.enable(True)
    start = time.monotonic()
    s.load([("0", 4)])
    assert time.monotonic() - start >= QUIET_S and len(list((tmp_path / "cache").glob("*.npy"))) == 4
