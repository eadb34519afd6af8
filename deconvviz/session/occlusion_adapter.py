"""The one place the backend calls occlusion code: live occlusion of one square and the full map.

Both go through :mod:`deconvviz.engine.occlusion` (exact incremental inference: only what the square
changes is recomputed). A selected layer without spatial maps (a classifier layer) has no map total; the
live square then runs plain forward passes.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from ..api import occlusion_map as _api_occlusion_map
from ..engine.layers import capture
from ..engine.occlusion import OcclusionCancelled, OcclusionResult, OcclusionSession
from ..engine.occlusion_ladder import Level
from .budget import DEFAULT_BUDGET_MS, LevelChooser


class Cancelled(Exception):
    """Raised when the caller's ``cancel()`` returned True during a long computation."""


EXACT = Level(1.0)


class Occluder:
    """Live occlusion for one image ``x`` (1, C, H, W): one incremental session per (layer, channel) chosen.

    ``chooser`` picks the level of each moving answer from the answer-time budget (a new
    :class:`~.budget.LevelChooser` by default); ``last_level`` is the level of the last answer (exact for plain
    forward passes and models incremental inference does not support).
    """

    def __init__(self, net: torch.nn.Module, x: torch.Tensor, fill: torch.Tensor, spatial: set[str] | None = None,
                 chooser: LevelChooser | None = None) -> None:
        self.net, self.x, self.fill = net, x, fill.to(x.device, x.dtype)
        self.spatial = spatial
        self.chooser = chooser or LevelChooser()
        self.last_level = EXACT
        self._key: tuple | None = None
        self._session: OcclusionSession | None = None

    def session(self, layer: str | None, channel: int | None) -> OcclusionSession | None:
        """Return the session for ``layer``/``channel`` (built once per choice), or None for a non-spatial layer."""
        if layer is not None and self.spatial is not None and layer not in self.spatial:
            return None
        key = (layer, channel)
        if key != self._key:
            self._session = OcclusionSession(self.net, self.x, layer, channel, fill=self.fill.reshape(-1).tolist())
            self._key = key
        return self._session

    def approximates(self, layer: str | None, channel: int | None) -> bool:
        """Return whether ``occlude(..., approximate=True)`` answers approximately for this choice (False: a
        plain forward pass, or a model incremental inference does not support; those are exact)."""
        session = self.session(layer, channel)
        return session is not None and session.approximates

    @torch.no_grad()
    def occlude(self, top: int, left: int, size: int, layer: str | None = None,
                channel: int | None = None, approximate: bool = False,
                budget_ms: float = DEFAULT_BUDGET_MS) -> tuple[np.ndarray, float | None]:
        """Return (class probabilities (num_classes,), total activation of ``layer``'s ``channel`` or None).

        ``approximate``: the square is moving; it is answered at the most accurate level of the ladder whose
        learned cost fits ``budget_ms`` (:class:`~.budget.LevelChooser`; exact when exact fits), with the exact
        answer asked for when it stops. Every answer is timed into its level's cost. Plain forward passes (no
        session) are always exact. ``last_level`` says which level answered.
        """
        session = self.session(layer, channel)
        if session is not None:
            chooser = self.chooser
            chooser.budget_ms = budget_ms
            index = chooser.index if approximate and session.approximates else 0
            level = chooser.levels[index]
            field = False if level.exact else level.field
            probs, total = chooser.timed(index, lambda: session.occlude(top, left, size, approximate=field))
            self.last_level = level
            return np.asarray(probs, np.float32), (float(total) if layer is not None else None)
        self.last_level = EXACT
        return self.forward(top, left, size, layer, channel)

    @torch.no_grad()
    def forward(self, top: int, left: int, size: int, layer: str | None = None,
                channel: int | None = None) -> tuple[np.ndarray, float | None]:
        """Return what :meth:`occlude` returns, from one plain forward pass with the square pasted in (exact)."""
        x = self.x.clone()
        x[..., max(0, top):max(0, top + size), max(0, left):max(0, left + size)] = self.fill
        if layer is None or channel is None:
            return torch.softmax(self.net(x).float().reshape(1, -1), 1)[0].cpu().numpy(), None
        with capture(self.net, layer, stop=False) as box:
            out = self.net(x)
        probs = torch.softmax(out.float().reshape(1, -1), 1)[0].cpu().numpy()
        layout = box["layout"]  # a token or channels-last layer's channel is not its output's second axis
        maps = layout.maps(box["output"]) if layout.spatial else box["output"]
        return probs, float(maps[0, channel].sum())


def occlusion_map(model, x: torch.Tensor, patch: int, stride: int, target: int,
                  progress: Callable[[int, int], None] | None = None,
                  cancel: Callable[[], bool] | None = None, approximate: bool = False) -> OcclusionResult:
    """Return the engine's OcclusionResult (``.prob`` is p(target), (ny, nx)) with the mean-pixel fill and the
    default feature layer, exactly as ``deconvviz occlusion`` computes it (``approximate``: as with
    ``--approximate``, the default parameters). Raises Cancelled when cancelled."""
    try:
        return _api_occlusion_map(model, x, patch=patch, stride=stride, target=target, progress=progress,
                                  cancel=cancel, approximate=approximate)
    except OcclusionCancelled:
        raise Cancelled from None
