"""Feature evolution during training (the paper's Fig. 4): for chosen channels, the strongest activation
over a data set at each snapshot of a training history, projected to pixel space."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.sources import ImageSource, open_images
from ..engine._control import Cancel, Progress, check
from ..engine.deconv import project
from ..engine.receptive_field import Box, receptive_fields
from ..errors import DeconvvizError
from ..models import load_model
from ..models.history import list_snapshots
from .topk import topk_index


def history_snapshots(folder: str | Path) -> list[tuple[int, Path]]:
    """Return (epoch, file) of every ``epoch-NNN.safetensors`` snapshot of a run, by epoch.

    ``folder`` is a training run's folder or its ``history/`` folder. Raises DeconvvizError when it holds none.
    """
    found = list_snapshots(folder)
    if not found:
        raise DeconvvizError(f"{folder} holds no training snapshots (epoch-NNN.safetensors, as `deconvviz train` writes)")
    return found


@dataclass(frozen=True)
class Evolution:
    """Rows = ``channels``, columns = ``epochs``. ``image``, ``row``, ``col``, ``value`` (channels, epochs)
    locate each cell's strongest activation; ``projections`` (channels, epochs, C, H, W) float32 are their
    projections, ``pixels`` (channels, epochs, H, W, 3) uint8 the images, ``boxes[c][e]`` the receptive fields."""

    layer: str
    channels: list[int]
    epochs: list[int]
    files: list[Path]
    image: np.ndarray
    row: np.ndarray
    col: np.ndarray
    value: np.ndarray
    projections: np.ndarray
    pixels: np.ndarray
    boxes: list[list[Box]]
    model_name: str
    data: str


def feature_evolution(history: str | Path | list[Path], data: ImageSource | str | Path, layer: str,
                      channels: list[int], batch_size: int = 64, device: str = "cpu",
                      progress: Progress | None = None, cancel: Cancel | None = None) -> Evolution:
    """Return the Evolution of ``channels`` of ``layer`` over the snapshots of ``history`` (a folder or a
    list of snapshot files), each scanning all of ``data``. ``progress(snapshots done, total)``."""
    if not channels:
        raise DeconvvizError("choose at least one channel")
    snapshots = history_snapshots(history) if not isinstance(history, list) else \
        [(int(load_model(p).meta.get("epoch", i)), Path(p)) for i, p in enumerate(history)]
    source = open_images(data) if isinstance(data, (str, Path)) else data
    n_c, n_s = len(channels), len(snapshots)
    image, row, col = (np.zeros((n_c, n_s), np.int64) for _ in range(3))
    value = np.zeros((n_c, n_s), np.float32)
    projections, pixels, boxes = None, None, [[None] * n_s for _ in range(n_c)]
    model_name = ""
    for s, (_, path) in enumerate(snapshots):
        check(cancel)
        model = load_model(path, device=device)
        model_name = model.name
        index = topk_index(model, source, layer, channels, 1, batch_size, cancel=cancel)
        for c, channel in enumerate(channels):
            (i, r, q, v), = index.entries(channel)
            x = model.preprocess(source.image(i))
            p = project(model.net, x, layer, channel, (r, q))
            if projections is None:
                projections = np.zeros((n_c, n_s) + tuple(p.images.shape[1:]), np.float32)
                pixels = np.zeros((n_c, n_s) + tuple(x.shape[2:]) + (3,), np.uint8)
            projections[c, s] = p.images[0].cpu().numpy()
            pixels[c, s] = model.preprocessing.to_pixels(x)
            image[c, s], row[c, s], col[c, s], value[c, s] = i, r, q, v
            (boxes[c][s],) = receptive_fields(model.net, tuple(x.shape), layer, [(r, q)])
        if progress is not None:
            progress(s + 1, n_s)
    return Evolution(layer, list(channels), [e for e, _ in snapshots], [p for _, p in snapshots], image, row, col,
                     value, projections, pixels, boxes, model_name, str(getattr(source, "name", data)))
