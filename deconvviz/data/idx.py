"""Reading and writing MNIST-format IDX files (plain or gzipped), with every field checked.

The format (LeCun's MNIST page): a 4-byte magic number ``0 0 TYPE NDIM``, NDIM big-endian uint32 sizes, then
the data. MNIST and Fashion-MNIST use TYPE 0x08 (unsigned bytes): images ``(N, H, W)``, labels ``(N,)``.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from ..errors import DeconvvizError

_UBYTE = 0x08
# No data set deconvviz trains on comes near this; it stops a corrupt header from asking for terabytes.
MAX_BYTES = 4 << 30


def read_idx(path: str | Path) -> np.ndarray:
    """Return the array stored in an IDX file (``.gz`` is decompressed), dtype uint8.

    Raises DeconvvizError when the file is missing, not gzip where named ``.gz``, has a wrong magic number,
    a type other than unsigned bytes, or a length that does not match its declared dimensions.
    """
    path = Path(path)
    if not path.is_file():
        raise DeconvvizError(f"IDX file not found: {path}")
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                raw = f.read(MAX_BYTES + 1)
        else:
            raw = path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        raise DeconvvizError(f"{path.name} is not a readable gzip file (truncated or corrupt?): {exc}") from None
    return parse_idx(raw, path.name)


def parse_idx(raw: bytes, name: str = "IDX data") -> np.ndarray:
    """Return the uint8 array held by IDX bytes ``raw``; ``name`` is used in error messages."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        head = raw[:4].hex() or "empty"
        raise DeconvvizError(f"{name} is not an IDX file (magic number {head}, expected 0000 08 0N)")
    if raw[2] != _UBYTE:
        raise DeconvvizError(f"{name} holds IDX type 0x{raw[2]:02x}; deconvviz reads unsigned bytes (0x08) only")
    ndim = raw[3]
    if not 1 <= ndim <= 4:
        raise DeconvvizError(f"{name} declares {ndim} dimensions; IDX image or label files have 1 to 3")
    if len(raw) < 4 + 4 * ndim:
        raise DeconvvizError(f"{name} is truncated inside its header")
    dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    expected = int(np.prod(dims, dtype=np.int64))
    body = len(raw) - 4 - 4 * ndim
    if expected > MAX_BYTES or body != expected:
        raise DeconvvizError(
            f"{name} declares dimensions {'x'.join(map(str, dims))} ({expected:,} bytes) but holds {body:,} "
            f"bytes of data (truncated or corrupt?)"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def read_idx_pair(images_path: str | Path, labels_path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(images (N, H, W) uint8, labels (N,) int64)`` from an IDX image file and its label file.

    Raises DeconvvizError when either file is invalid, the counts differ, or the shapes are not images/labels.
    """
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim != 3:
        raise DeconvvizError(f"{Path(images_path).name} holds a {images.ndim}-D array; image files are N x H x W")
    if labels.ndim != 1:
        raise DeconvvizError(f"{Path(labels_path).name} holds a {labels.ndim}-D array; label files are 1-D")
    if len(images) != len(labels):
        raise DeconvvizError(
            f"{Path(images_path).name} holds {len(images):,} images but {Path(labels_path).name} "
            f"holds {len(labels):,} labels"
        )
    if len(images) == 0:
        raise DeconvvizError(f"{Path(images_path).name} holds no images")
    return images, labels.astype(np.int64)


def encode_idx(array: np.ndarray) -> bytes:
    """Return uint8 ``array`` encoded as IDX bytes (type 0x08)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, _UBYTE, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def write_idx_gz(path: str | Path, array: np.ndarray) -> None:
    """Write uint8 ``array`` as a gzipped IDX file, atomically and reproducibly (no time stamp in the header)."""
    from ..atomic import atomic_path

    with atomic_path(path) as tmp:
        with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
            f.write(encode_idx(array))
