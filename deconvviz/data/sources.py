"""Image data sets as indexable sources: an image folder (one sub-folder per class), a flat folder of
images, or Fashion-MNIST style IDX files (read by :mod:`.idx`), e.g. the bundled subset
``resources/fashion-mnist-subset``.

:func:`open_images` is the one adapter the analyses call; every format is read lazily, one image at a time,
so a data set is streamed, never held in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Protocol, Sequence

import numpy as np
import torch
from PIL import Image

from ..errors import DeconvvizError
from ..paths import bundled
from .idx import read_idx
from .images import load_image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


class ImageSource(Protocol):
    """An indexable data set of images: ``len``, ``image(i)`` (PIL), ``label(i)`` (int or None), ``name``."""

    name: str
    class_names: list[str]

    def __len__(self) -> int: ...

    def image(self, index: int) -> Image.Image: ...

    def label(self, index: int) -> int | None: ...


@dataclass
class FileImages:
    """Image files, optionally with a class label each (an ImageFolder layout)."""

    name: str
    files: list[Path]
    labels: list[int] | None = None
    class_names: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.files)

    def image(self, index: int) -> Image.Image:
        """Return image ``index`` (DeconvvizError naming the file if it cannot be read)."""
        return load_image(self.files[index])

    def label(self, index: int) -> int | None:
        """Return the class index of image ``index`` (None without class folders)."""
        return None if self.labels is None else self.labels[index]

    def describe(self, index: int) -> str:
        """Return the file name of image ``index``."""
        return str(self.files[index])


@dataclass
class ArrayImages:
    """Greyscale images held as a uint8 array (N, H, W) (IDX files), with optional labels."""

    name: str
    pixels: np.ndarray
    labels: np.ndarray | None = None
    class_names: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.pixels)

    def image(self, index: int) -> Image.Image:
        """Return image ``index`` as a greyscale PIL image."""
        return Image.fromarray(self.pixels[index], "L")

    def label(self, index: int) -> int | None:
        """Return the label of image ``index`` (None without a labels file)."""
        return None if self.labels is None else int(self.labels[index])

    def describe(self, index: int) -> str:
        """Return ``name[index]``."""
        return f"{self.name}[{index}]"


def open_images(spec: str | Path, limit: int | None = None) -> ImageSource:
    """Return the data set at ``spec``: a folder of class sub-folders, a folder of images, an IDX images file,
    or a folder holding IDX files (its t10k/test images file first).

    ``limit`` keeps only the first ``limit`` images. Raises DeconvvizError for a missing, empty or unreadable
    data set.
    """
    path = bundled(spec)
    if not path.exists():
        raise DeconvvizError(f"data set not found: {path} (give an image folder, a folder of class folders, "
                             f"or an IDX images file such as t10k-images-idx3-ubyte.gz)")
    source: ImageSource
    if path.is_dir():
        source = _folder(path)
    else:
        source = _idx_images(path)
    if limit is not None:
        if limit < 1:
            raise DeconvvizError(f"--limit must be at least 1, got {limit}")
        source = _first(source, limit)
    if len(source) == 0:
        raise DeconvvizError(f"data set {path} holds no images (looked for {', '.join(IMAGE_SUFFIXES)})")
    return source


def _first(source: ImageSource, limit: int) -> ImageSource:
    if isinstance(source, FileImages):
        labels = source.labels[:limit] if source.labels is not None else None
        return FileImages(source.name, source.files[:limit], labels, source.class_names)
    if isinstance(source, ArrayImages):
        labels = source.labels[:limit] if source.labels is not None else None
        return ArrayImages(source.name, source.pixels[:limit], labels, source.class_names)
    return source


def _is_image(p: Path) -> bool:
    return p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")


def _folder(path: Path) -> ImageSource:
    idx = sorted(path.glob("*images-idx3-ubyte*"), key=lambda p: ("t10k" not in p.name and "test" not in p.name, p.name))
    if idx:  # a Fashion-MNIST style folder: its test images (t10k) when there, else the first IDX images file
        source = _idx_images(idx[0])
        source.name = f"{path.name}/{idx[0].name}"
        return source
    classes = sorted(d.name for d in path.iterdir() if d.is_dir() and not d.name.startswith("."))
    class_files = [(c, sorted(p for p in (path / c).iterdir() if _is_image(p))) for c in classes]
    class_files = [(c, files) for c, files in class_files if files]
    if class_files:
        names = [c for c, _ in class_files]
        files = [f for _, fs in class_files for f in fs]
        labels = [i for i, (_, fs) in enumerate(class_files) for _ in fs]
        return FileImages(path.name, files, labels, names)
    return FileImages(path.name, sorted(p for p in path.iterdir() if _is_image(p)))


def _idx_images(path: Path) -> ArrayImages:
    pixels = read_idx(path)
    if pixels.ndim != 3:
        raise DeconvvizError(f"{path.name} holds an array of shape {pixels.shape}, not images (N, H, W)")
    labels = None
    label_path = path.with_name(path.name.replace("images-idx3", "labels-idx1"))
    if label_path != path and label_path.is_file():
        labels = read_idx(label_path)
        if labels.shape != (len(pixels),):
            labels = None
    return ArrayImages(path.name, pixels, labels)


def batches(source: ImageSource, preprocess: Callable[[Image.Image], torch.Tensor], indices: Sequence[int],
            batch_size: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield (image indices (B,) int64, inputs (B, C, H, W)) for ``indices`` in order, ``batch_size`` at a time."""
    if batch_size < 1:
        raise DeconvvizError(f"batch size must be at least 1, got {batch_size}")
    for start in range(0, len(indices), batch_size):
        chunk = list(indices[start:start + batch_size])
        x = torch.cat([preprocess(source.image(i)) for i in chunk])
        yield torch.tensor(chunk, dtype=torch.int64), x


def describe(source: ImageSource, index: int) -> str:
    """Return a short name for image ``index`` of ``source`` (its file name, or ``name[index]``)."""
    fn = getattr(source, "describe", None)
    return fn(index) if fn else f"{source.name}[{index}]"
