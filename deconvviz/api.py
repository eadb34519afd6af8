"""The functions the README documents, taking a LoadedModel (the engine's functions take a bare network)."""

from __future__ import annotations

import torch

from .engine import deconv
from .models import LoadedModel


def project(
    model: LoadedModel,
    x: torch.Tensor,
    layer: str,
    channel: int,
    position: tuple[int, int] | None = None,
    mode: str = "deconvnet",
    whole_map: bool = False,
    top_k: int | None = None,
) -> torch.Tensor:
    """Return the projection(s) of ``layer``'s ``channel`` to input space, shape (K, C, H, W).

    K is 1 except with ``top_k``. ``position=None`` means the channel's strongest activation; see
    :func:`deconvviz.engine.deconv.project` for the positions and values.
    """
    return deconv.project(model.net, x.to(model.device), layer, channel, position, mode, whole_map, top_k).images
