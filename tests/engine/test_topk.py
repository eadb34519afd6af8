import numpy as np
import pytest
import torch
from torch import nn

from deconvviz.errors import DeconvvizError
from deconvviz.engine import topk


def _brute(maps: np.ndarray, k: int, channels):
    """Full sort of every (value, image, row, col) per channel."""
    out = {}
    n, _, h, w = maps.shape
    for c in channels:
        entries = [(-float(maps[i, c, r, q]), i, r, q) for i in range(n) for r in range(h) for q in range(w)]
        entries.sort()
        out[c] = [(i, r, q, -v) for v, i, r, q in entries[:k]]
    return out


def _brute_distinct(maps: np.ndarray, k: int, channels):
    """Each image's strongest (first in row-major order on ties), then a full sort."""
    out = {}
    n, _, h, w = maps.shape
    for c in channels:
        best = [min((-float(maps[i, c, r, q]), r, q) for r in range(h) for q in range(w)) for i in range(n)]
        entries = sorted((v, i, r, q) for i, (v, r, q) in enumerate(best))
        out[c] = [(i, r, q, -v) for v, i, r, q in entries[:k]]
    return out


def _stream(maps, k, channels, batch, order=None, distinct=False):
    index = topk.empty_index("L", channels, k, distinct=distinct)
    order = np.arange(len(maps)) if order is None else order
    for s in range(0, len(order), batch):
        ids = order[s:s + batch]
        index = topk.update(index, torch.from_numpy(maps[ids]), torch.from_numpy(ids))
    return index


@pytest.mark.parametrize("batch", [1, 3, 7])
def test_streamed_index_equals_full_sort_with_ties(batch):
    rng = np.random.default_rng(0)
    maps = rng.integers(0, 4, size=(11, 5, 3, 4)).astype(np.float32)  # many ties
    maps[:, 2] = 0  # a dead channel: every position ties
    index = _stream(maps, 6, [0, 2, 4], batch)
    expected = _brute(maps, 6, [0, 2, 4])
    for c in (0, 2, 4):
        assert index.entries(c) == expected[c]
    assert index.n_images == 11


@pytest.mark.parametrize("batch", [1, 4])
def test_distinct_index_takes_each_images_strongest_once(batch):
    rng = np.random.default_rng(3)
    maps = rng.integers(0, 3, size=(9, 3, 3, 3)).astype(np.float32)
    index = _stream(maps, 5, [0, 1, 2], batch, distinct=True)
    expected = _brute_distinct(maps, 5, [0, 1, 2])
    for c in (0, 1, 2):
        assert index.entries(c) == expected[c]
        assert len({e[0] for e in index.entries(c)}) == 5


@pytest.mark.parametrize("distinct", [False, True])
def test_merge_of_shards_equals_single_pass_for_any_split(distinct):
    rng = np.random.default_rng(1)
    maps = rng.integers(0, 3, size=(13, 4, 2, 3)).astype(np.float32)
    whole = _stream(maps, 5, range(4), 4, distinct=distinct)
    ids = np.arange(13)
    shards = [_stream(maps, 5, range(4), 2, order=ids[r::3], distinct=distinct) for r in range(3)]
    merged = topk.merge(shards[::-1])
    for name in ("values", "image", "row", "col"):
        np.testing.assert_array_equal(getattr(merged, name), getattr(whole, name))
    assert merged.n_images == 13


def test_fewer_positions_than_k_leaves_empty_slots():
    maps = np.arange(8, dtype=np.float32).reshape(2, 1, 2, 2)
    index = _stream(maps, 20, [0], 1)
    assert [e[3] for e in index.entries(0)] == [7, 6, 5, 4, 3, 2, 1, 0]
    assert index.image[0, 8] == -1


def test_save_load_roundtrip_and_bad_file(tmp_path):
    maps = np.random.default_rng(2).normal(size=(4, 3, 2, 2)).astype(np.float32)
    index = _stream(maps, 3, [0, 2], 2)
    index.meta["model"] = "m"
    path = topk.save_index(index, tmp_path / "ix.npz")
    back = topk.load_index(path)
    assert back.entries(2) == index.entries(2) and back.meta == {"model": "m"} and back.layer == "L"
    (tmp_path / "bad.npz").write_bytes(b"nope")
    with pytest.raises(DeconvvizError):
        topk.load_index(tmp_path / "bad.npz")
    with pytest.raises(DeconvvizError, match="channel 1 is not"):
        back.entries(1)


def test_build_index_runs_the_net_and_rejects_flat_layers():
    net = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 2))
    x = torch.randn(5, 1, 6, 6)
    batches = [(torch.arange(s, min(s + 2, 5)), x[s:s + 2]) for s in range(0, 5, 2)]
    seen = []
    index = topk.build_index(net, batches, topk.empty_index("1", [0, 1, 2], 4, distinct=False), total=5,
                             progress=lambda d, t: seen.append(d))
    maps = net[1](net[0](x)).detach().numpy()
    assert index.entries(1) == _brute(maps, 4, [1])[1]
    assert seen == [2, 4, 5]
    with pytest.raises(DeconvvizError, match="no spatial maps"):
        topk.layer_channels(net, x[:1], "3")
