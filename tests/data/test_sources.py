import gzip

import numpy as np
import pytest
import torch
from PIL import Image

from deconvviz.data.sources import batches, describe, open_images
from deconvviz.errors import DeconvvizError


def _png(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((4, 5), value, np.uint8), "L").save(path)


def _idx(path, array, gz=True):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if gz else data)


def test_class_folders_are_sorted_with_labels(tmp_path):
    _png(tmp_path / "b" / "2.png", 20)
    _png(tmp_path / "a" / "1.png", 10)
    _png(tmp_path / "a" / "0.png", 0)
    (tmp_path / "a" / "notes.txt").write_text("x")
    source = open_images(tmp_path)
    assert len(source) == 3 and source.class_names == ["a", "b"]
    assert [source.label(i) for i in range(3)] == [0, 0, 1]
    assert np.asarray(source.image(1))[0, 0] == 10
    assert describe(source, 2).endswith("2.png")


def test_flat_folder_and_limit(tmp_path):
    for i in range(4):
        _png(tmp_path / f"{i}.png", i)
    source = open_images(tmp_path, limit=2)
    assert len(source) == 2 and source.label(0) is None


def test_idx_images_with_labels(tmp_path):
    pixels = np.arange(3 * 2 * 2).reshape(3, 2, 2)
    _idx(tmp_path / "t-images-idx3-ubyte.gz", pixels)
    _idx(tmp_path / "t-labels-idx1-ubyte.gz", np.array([7, 8, 9]))
    source = open_images(tmp_path / "t-images-idx3-ubyte.gz")
    assert len(source) == 3 and source.label(2) == 9
    _idx(tmp_path / "t10k-images-idx3-ubyte.gz", pixels[:2])
    assert len(open_images(tmp_path)) == 2  # a folder of IDX files: its test images
    np.testing.assert_array_equal(np.asarray(source.image(1)), pixels[1])


@pytest.mark.parametrize("make", ["empty", "missing", "truncated", "not_idx"])
def test_bad_data_sets_raise(tmp_path, make):
    path = tmp_path / "data"
    if make == "empty":
        path.mkdir()
    elif make == "truncated":
        _idx(path, np.zeros((5, 3, 3)), gz=False)
        path.write_bytes(path.read_bytes()[:30])
    elif make == "not_idx":
        path.write_bytes(b"hello world")
    with pytest.raises(DeconvvizError):
        open_images(path)


def test_batches_keep_order_and_indices(tmp_path):
    for i in range(5):
        _png(tmp_path / f"{i}.png", i * 10)
    source = open_images(tmp_path)
    prep = lambda im: torch.from_numpy(np.asarray(im, np.float32))[None, None]  # noqa: E731
    got = list(batches(source, prep, [4, 0, 2], 2))
    assert [b[0].tolist() for b in got] == [[4, 0], [2]]
    assert got[0][1][:, 0, 0, 0].tolist() == [40.0, 0.0]
