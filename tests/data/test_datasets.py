"""Opening data sets: IDX folders, image folders, the bundled subset, and the messages for bad ones."""

import numpy as np
import pytest
import torch
from PIL import Image

from deconvviz.data import datasets
from deconvviz.data.datasets import bundled_subset, has_split, open_dataset
from deconvviz.data.idx import write_idx_gz
from deconvviz.errors import DeconvvizError


def test_bundled_subset():
    data = bundled_subset()
    assert len(data) == 2000 and data.images.shape == (2000, 1, 28, 28)
    assert data.class_names[0] == "T-shirt/top" and len(data.class_names) == 10
    assert np.bincount(data.labels.numpy()).tolist() == [200] * 10
    assert 40 < data.images.float().mean() < 110  # real clothing, not blank images


def test_idx_folder_splits_and_names(tmp_path):
    folder = tmp_path / "mnist"
    write_idx_gz(folder / "train-images-idx3-ubyte.gz", np.zeros((6, 28, 28), np.uint8))
    write_idx_gz(folder / "train-labels-idx1-ubyte.gz", np.arange(6, dtype=np.uint8))
    data = open_dataset(folder, "train")
    assert len(data) == 6 and data.class_names == datasets.DIGITS
    assert has_split(folder, "train") and not has_split(folder, "test")
    with pytest.raises(DeconvvizError, match="none for the test split"):
        open_dataset(folder, "test")
    assert data.subset([1, 3]).labels.tolist() == [1, 3]


def test_missing_data_says_where_and_how(tmp_path, monkeypatch):
    with pytest.raises(DeconvvizError, match=f"{tmp_path / 'nope'} is not a folder.*dataset-fashion-mnist"):
        open_dataset(tmp_path / "nope")
    monkeypatch.setattr(datasets, "DEFAULT_DATA", tmp_path / "gone")
    with pytest.raises(DeconvvizError) as caught:
        open_dataset(None)
    assert "Debian package dataset-fashion-mnist's location" in str(caught.value)
    assert str(tmp_path) not in str(caught.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DeconvvizError, match="no data set found in .*empty.*--data"):
        open_dataset(tmp_path / "empty")


def _write_pngs(folder, n, shade):
    folder.mkdir(parents=True)
    for i in range(n):
        Image.fromarray(np.full((10, 12, 3), shade + i, np.uint8)).save(folder / f"{i}.png")


def test_image_folder(tmp_path):
    _write_pngs(tmp_path / "train" / "cats", 3, 10)
    _write_pngs(tmp_path / "train" / "dogs", 2, 200)
    _write_pngs(tmp_path / "val" / "cats", 1, 10)
    _write_pngs(tmp_path / "val" / "dogs", 1, 200)
    data = open_dataset(tmp_path, "train", size=(8, 8), mode="L")
    assert data.class_names == ("cats", "dogs") and data.labels.tolist() == [0, 0, 0, 1, 1]
    image, label = data.folder[4]
    assert image.shape == (1, 8, 8) and image.dtype == torch.uint8 and label == 1 and int(image[0, 0, 0]) > 150
    assert len(open_dataset(tmp_path, "test", size=(8, 8))) == 2


def test_empty_class_folder(tmp_path):
    _write_pngs(tmp_path / "cats", 2, 10)
    (tmp_path / "dogs").mkdir()
    (tmp_path / "dogs" / "notes.txt").write_text("no images here")
    with pytest.raises(DeconvvizError, match="class folder dogs in .* hold no images"):
        open_dataset(tmp_path)
