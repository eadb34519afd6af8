"""Feature visualisations kept on disk, so that a second visit to a layer is instant (Qt-free).

One ``.npy`` per picture in ``$XDG_CACHE_HOME/deconvviz/featvis`` (default ``~/.cache``), named by a hash of
what made it: the weights' own hash (their bytes, so retrained or edited weights miss), the layer, the
channel and every parameter of the run. Written atomically: a crash never leaves half a picture.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..npy import save_npy


def cache_dir() -> Path:
    """Return the folder of cached pictures (not created)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "deconvviz" / "featvis"


def weights_hash(net: nn.Module) -> str:
    """Return a hex digest of the network's parameters and buffers: names, shapes, dtypes and bytes."""
    h = hashlib.sha256()
    for name, tensor in net.state_dict().items():
        t = tensor.detach().to("cpu").contiguous().reshape(-1)
        h.update(f"{name}:{tuple(t.shape)}:{t.dtype};".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()[:32]


def picture_key(weights: str, layer: str | None, target: int, **params) -> str:
    """Return the cache key of one picture: weights hash, layer, target (channel or class) and the run's
    parameters (objective, steps, size, seed, ...)."""
    text = f"{weights}|{layer}|{target}|" + "|".join(f"{k}={params[k]}" for k in sorted(params))
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def load(key: str, folder: Path | None = None) -> torch.Tensor | None:
    """Return the cached picture (3, S, S) float in [0, 1] for ``key``, or None (missing or unreadable)."""
    path = (folder or cache_dir()) / f"{key}.npy"
    try:
        return torch.from_numpy(np.load(path))
    except (OSError, ValueError):
        return None


def has(key: str, folder: Path | None = None) -> bool:
    """Return whether a picture is cached under ``key`` (without reading it)."""
    return ((folder or cache_dir()) / f"{key}.npy").is_file()


def store(key: str, picture: torch.Tensor, folder: Path | None = None) -> Path:
    """Write ``picture`` (3, S, S) under ``key`` atomically and return its path."""
    return save_npy((folder or cache_dir()) / f"{key}.npy", picture.detach().cpu().numpy())
