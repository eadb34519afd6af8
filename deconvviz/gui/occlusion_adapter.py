"""The one place the backend calls occlusion code: live occlusion of one square and the full map.

Interim: plain full forward passes (batched for the map). Swap the bodies for
``deconvviz.engine.occlusion`` (incremental inference) when it lands; callers do not change.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from ..engine.layers import capture


class Cancelled(Exception):
    """Raised when the caller's ``cancel()`` returned True during a long computation."""


class Occluder:
    """Runs ``net`` on ``x`` (1, C, H, W) with a square of ``fill`` (C, 1, 1) pasted in, one position at a time."""

    def __init__(self, net: torch.nn.Module, x: torch.Tensor, fill: torch.Tensor) -> None:
        self.net, self.x, self.fill = net, x, fill.to(x.device, x.dtype)

    @torch.no_grad()
    def occlude(self, top: int, left: int, size: int, layer: str | None = None,
                channel: int | None = None) -> tuple[np.ndarray, float | None]:
        """Return (class probabilities (num_classes,), total activation of ``layer``'s ``channel`` or None)."""
        x = _paste(self.x, top, left, size, self.fill)
        if layer is None:
            return _probs(self.net(x))[0], None
        with capture(self.net, layer, stop=False) as box:
            out = self.net(x)
        total = float(box["output"][0, channel].sum()) if channel is not None else None
        return _probs(out)[0], total


@torch.no_grad()
def occlusion_map(net: torch.nn.Module, x: torch.Tensor, patch: int, stride: int, fill: torch.Tensor,
                  target: int, progress: Callable[[int, int], None] | None = None,
                  cancel: Callable[[], bool] | None = None, batch: int = 16) -> np.ndarray:
    """Return p(target) (ny, nx) float32 for the square's top-left corner at every (i*stride, j*stride).

    Raises Cancelled when ``cancel()`` turns True between batches.
    """
    height, width = x.shape[-2:]
    tops = list(range(0, max(1, height - patch + 1), stride))
    lefts = list(range(0, max(1, width - patch + 1), stride))
    corners = [(t, l) for t in tops for l in lefts]
    out = np.empty(len(corners), np.float32)
    fill = fill.to(x.device, x.dtype)
    for start in range(0, len(corners), batch):
        if cancel is not None and cancel():
            raise Cancelled
        chunk = corners[start:start + batch]
        xs = torch.cat([_paste(x, t, l, patch, fill) for t, l in chunk])
        out[start:start + len(chunk)] = _probs(net(xs))[:, target]
        if progress is not None:
            progress(start + len(chunk), len(corners))
    return out.reshape(len(tops), len(lefts))


def _paste(x: torch.Tensor, top: int, left: int, size: int, fill: torch.Tensor) -> torch.Tensor:
    x = x.clone()
    x[..., max(0, top):max(0, top + size), max(0, left):max(0, left + size)] = fill
    return x


def _probs(output: torch.Tensor) -> np.ndarray:
    return torch.softmax(output.float().reshape(output.shape[0], -1), dim=1).cpu().numpy()
