"""Labelled image sets for training and evaluation: MNIST-format IDX files, image folders, the bundled subset.

``open_dataset(DIR)`` looks in DIR for IDX files (Fashion-MNIST / MNIST layout, plain or gzipped) and
otherwise treats DIR as an image folder with one sub-folder per class (torchvision's ImageFolder layout,
optionally split into ``train/`` and ``val/`` or ``test/``). Everything is checked before training starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import DeconvvizError
from ..models.registry import FASHION_MNIST_CLASSES
from ..paths import RESOURCES
from .idx import read_idx_pair

# Where the Debian package dataset-fashion-mnist installs its files.
DEFAULT_DATA = Path("/usr/share/datasets/fashion-mnist")
DEFAULT_DATA_DESCRIPTION = "the Debian package dataset-fashion-mnist's location"
BUNDLED_SUBSET = RESOURCES / "fashion-mnist-subset"

DIGITS = tuple(str(i) for i in range(10))
_IDX_PREFIX = {"train": "train", "test": "t10k"}
_FOLDER_SPLITS = {"train": ("train",), "test": ("val", "test")}
_HOW_TO_GET = (
    "install the Debian package dataset-fashion-mnist, or give --data DIR with Fashion-MNIST/MNIST IDX files "
    "(train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-...) or with one sub-folder of images "
    "per class"
)


@dataclass
class ImageData:
    """A labelled image set.

    ``images`` is a uint8 tensor (N, C, H, W) when the set lives in memory (IDX files); image folders
    instead give ``folder``, a torch Dataset yielding ``(uint8 (C, H, W), label)`` read from disk on demand.
    ``labels`` is int64 (N,) either way.
    """

    source: str
    class_names: tuple[str, ...]
    labels: torch.Tensor
    images: torch.Tensor | None = None
    folder: torch.utils.data.Dataset | None = None

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def in_memory(self) -> bool:
        """Return whether the images are held in memory as one tensor."""
        return self.images is not None

    def subset(self, indices) -> "ImageData":
        """Return the images at ``indices`` (a sequence or tensor of ints) as a new ImageData."""
        indices = torch.as_tensor(indices, dtype=torch.int64)
        if self.images is not None:
            return ImageData(self.source, self.class_names, self.labels[indices], images=self.images[indices])
        return ImageData(self.source, self.class_names, self.labels[indices],
                         folder=torch.utils.data.Subset(self.folder, indices.tolist()))


def open_dataset(data_dir: str | Path | None = None, split: str = "train", size: tuple[int, int] = (28, 28),
                 mode: str = "L") -> ImageData:
    """Return the ``split`` ("train" or "test") of the data set in ``data_dir`` (default: Fashion-MNIST).

    Image folders are read at ``size`` (height, width) in PIL colour ``mode``; IDX images keep their own size.
    Raises DeconvvizError when no data set is there (saying where it looked and how to get one), when a
    file is corrupt, or when a class folder is empty.
    """
    if split not in _IDX_PREFIX:
        raise DeconvvizError(f"unknown split {split!r}; valid: train, test")
    where = DEFAULT_DATA_DESCRIPTION if data_dir is None else str(data_dir)
    root = DEFAULT_DATA if data_dir is None else Path(data_dir)
    if not root.is_dir():
        raise DeconvvizError(f"no data set found: {where} is not a folder; {_HOW_TO_GET}")
    pair = find_idx(root, split)
    if pair is not None:
        return _open_idx(root, *pair, source=where)
    if any(find_idx(root, s) for s in _IDX_PREFIX):
        raise DeconvvizError(f"{where} has IDX files but none for the {split} split "
                             f"({_IDX_PREFIX[split]}-images-idx3-ubyte[.gz] and {_IDX_PREFIX[split]}-labels-idx1-ubyte[.gz])")
    folder = _split_folder(root, split)
    if folder is None:
        if split == "test":
            raise DeconvvizError(f"{where} has no test split: expected IDX t10k-* files or a val/ or test/ folder")
        raise DeconvvizError(f"no data set found in {where}; {_HOW_TO_GET}")
    return _open_folder(folder, size, mode)


def has_split(data_dir: str | Path | None, split: str) -> bool:
    """Return whether ``data_dir`` (default: Fashion-MNIST's location) holds the ``split`` split."""
    root = DEFAULT_DATA if data_dir is None else Path(data_dir)
    if find_idx(root, split) is not None:
        return True
    if any(find_idx(root, s) for s in _IDX_PREFIX):
        return False
    if split == "train":
        return root.is_dir()
    return any((root / name).is_dir() for name in _FOLDER_SPLITS[split])


def find_idx(root: Path, split: str) -> tuple[Path, Path] | None:
    """Return the (images, labels) IDX files of ``split`` in ``root`` (``.gz`` or plain), or None."""
    prefix = _IDX_PREFIX[split]
    found = []
    for kind, ndim in (("images", 3), ("labels", 1)):
        names = [f"{prefix}-{kind}-idx{ndim}-ubyte", f"{prefix}-{kind}.idx{ndim}-ubyte"]
        hits = [root / n for name in names for n in (name + ".gz", name) if (root / n).is_file()]
        if not hits:
            return None
        found.append(hits[0])
    return found[0], found[1]


def bundled_subset() -> ImageData:
    """Return the Fashion-MNIST test images bundled in resources/ (2,000 images, 200 per class)."""
    return _open_idx(BUNDLED_SUBSET, *find_idx(BUNDLED_SUBSET, "test"), source="the bundled Fashion-MNIST subset")


def _open_idx(root: Path, images_path: Path, labels_path: Path, source: str | None = None) -> ImageData:
    images, labels = read_idx_pair(images_path, labels_path)
    class_names = _class_names(root, int(labels.max()) + 1)
    if labels.max() >= len(class_names):
        raise DeconvvizError(f"{labels_path.name} has label {labels.max()} but {root} names "
                             f"{len(class_names)} classes")
    return ImageData(source or str(root), class_names, torch.from_numpy(labels),
                     images=torch.from_numpy(images.copy()).unsqueeze(1))


def _class_names(root: Path, n: int) -> tuple[str, ...]:
    listed = root / "classes.txt"
    if listed.is_file():
        names = tuple(line.strip() for line in listed.read_text(encoding="utf-8").splitlines() if line.strip())
        if names:
            return names
    text = str(root.resolve()).lower()
    if "fashion" in text and n <= 10:
        return FASHION_MNIST_CLASSES
    if n <= 10:
        return DIGITS if "mnist" in text else tuple(str(i) for i in range(n))
    return tuple(f"class {i}" for i in range(n))


def _split_folder(root: Path, split: str) -> Path | None:
    for name in _FOLDER_SPLITS[split]:
        if (root / name).is_dir():
            return root / name
    return root if split == "train" else None


def _open_folder(folder: Path, size: tuple[int, int], mode: str) -> ImageData:
    from torchvision.datasets.folder import IMG_EXTENSIONS

    classes = sorted(d.name for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not classes:
        raise DeconvvizError(f"no data set found in {folder}: no IDX files and no class sub-folders; {_HOW_TO_GET}")
    samples, empty = [], []
    for label, name in enumerate(classes):
        files = sorted(p for p in (folder / name).rglob("*") if p.is_file() and p.suffix.lower() in IMG_EXTENSIONS)
        if not files:
            empty.append(name)
        samples += [(p, label) for p in files]
    if empty:
        raise DeconvvizError(
            f"class folder{'s' if len(empty) > 1 else ''} {', '.join(empty)} in {folder} hold no images "
            f"(extensions: {' '.join(IMG_EXTENSIONS)}); every class needs at least one"
        )
    labels = torch.tensor([label for _, label in samples], dtype=torch.int64)
    return ImageData(str(folder), tuple(classes), labels, folder=FolderImages(samples, size, mode))


class FolderImages(torch.utils.data.Dataset):
    """Image files read on demand, each fitted to ``size`` in ``mode`` as a uint8 tensor (C, H, W)."""

    def __init__(self, samples: list[tuple[Path, int]], size: tuple[int, int], mode: str) -> None:
        from ..models.preprocessing import Preprocessing

        self.samples = samples
        channels = 1 if mode == "L" else 3
        self._fit = Preprocessing(tuple(size), mode, (0.0,) * channels, (1.0,) * channels).fit

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        from .images import load_image

        path, label = self.samples[index]
        pixels = np.asarray(self._fit(load_image(path)), dtype=np.uint8)
        if pixels.ndim == 2:
            pixels = pixels[:, :, None]
        return torch.from_numpy(pixels.transpose(2, 0, 1).copy()), label
