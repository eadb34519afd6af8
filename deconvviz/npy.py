"""Writing numpy arrays atomically."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .atomic import atomic_path


def save_npy(path: str | Path, array: np.ndarray) -> Path:
    """Write ``array`` as float32 ``.npy`` at ``path`` (atomically) and return the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.save(f, np.asarray(array, dtype=np.float32))
    return path
