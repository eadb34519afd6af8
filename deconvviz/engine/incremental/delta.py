"""The value incremental inference passes along the graph: a batch that differs from the cache in one box."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


class Unsupported(Exception):
    """The graph holds an operation whose effect on a changed box is unknown (or it cannot be traced)."""


@dataclass
class Delta:
    """A batch of values that equal a node's cached value except inside one box per sample.

    ``patch`` is (B, C, h, w) for a 4-D node (``top``/``left`` numpy int64 arrays (B,) give each box's
    corner), or the whole batched tensor when ``full`` (then ``top``/``left`` are None). A full Delta's
    ``pad`` (rows, columns), when set, is zero padding still to add on each side: a padding whose only
    reader is a convolution leaves it to the convolution's own padding (a pass over the batch saved).
    """

    patch: torch.Tensor
    top: np.ndarray | None = None
    left: np.ndarray | None = None
    pad: tuple[int, int] | None = None

    @property
    def full(self) -> bool:
        """Return whether the patch is the whole tensor of every sample."""
        return self.top is None

    @property
    def batch(self) -> int:
        """Return the number of samples."""
        return self.patch.shape[0]

    @property
    def box(self) -> tuple[np.ndarray, np.ndarray, int, int]:
        """Return the box as (top (B,), left (B,), h, w) (not for a full Delta)."""
        return self.top, self.left, self.patch.shape[2], self.patch.shape[3]
