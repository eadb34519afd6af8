"""The feature-visualisation cache: a hit for the same weights and parameters, a miss when either changes."""

import torch
from torch import nn

from deconvviz.session import featvis_cache as cache


def test_cache_dir_honours_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.cache_dir() == tmp_path / "deconvviz" / "featvis"


def test_the_cache_hits_and_invalidates_when_the_weights_change(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    picture = torch.rand(3, 16, 16)
    key = cache.picture_key(cache.weights_hash(net), "0", 2, steps=8, size=16, seed=0, objective="channel mean")
    assert cache.load(key) is None
    cache.store(key, picture)
    again = cache.picture_key(cache.weights_hash(net), "0", 2, steps=8, size=16, seed=0, objective="channel mean")
    assert torch.equal(cache.load(again), picture)
    assert cache.load(cache.picture_key(cache.weights_hash(net), "0", 2, steps=9, size=16, seed=0,
                                        objective="channel mean")) is None
    with torch.no_grad():
        net[0].weight[0, 0, 0, 0] += 1e-3
    changed = cache.picture_key(cache.weights_hash(net), "0", 2, steps=8, size=16, seed=0, objective="channel mean")
    assert changed != key and cache.load(changed) is None
    net[1].running_mean += 1  # a buffer is part of the weights too
    assert cache.weights_hash(net) != cache.weights_hash(nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)))
    assert not list(tmp_path.rglob("*.tmp"))
