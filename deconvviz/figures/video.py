"""One panel per analysed video frame: the frame as the model sees it, the layer's grid or the channel's
projection, and the top-5 classes; the same panel for every frame of a run, so they make a video."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ..analyses.frames import FrameAnalysis
from ..models import LoadedModel
from .feature_maps import channel_order, feature_maps_panel
from .labels import CHAR_W, font, with_title
from .png import Panel, tile
from .render import projection_rgb

TILE = 224  # pixels: each picture of the panel
_TOP = 5
_BAR_W = 60


def fit_square(rgb: np.ndarray, size: int = TILE) -> np.ndarray:
    """Return ``rgb`` scaled to fit a ``size`` square (nearest when enlarging, so map cells stay blocks),
    centred on white."""
    h, w = rgb.shape[:2]
    scale = size / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    resized = np.asarray(Image.fromarray(rgb).resize((nw, nh), Image.NEAREST if scale >= 1 else Image.BILINEAR))
    out = np.full((size, size, 3), 255, np.uint8)
    top, left = (size - nh) // 2, (size - nw) // 2
    out[top:top + nh, left:left + nw] = resized
    return out


def top_classes(probs: np.ndarray, k: int = _TOP) -> list[tuple[int, float]]:
    """Return the ``k`` most probable (class, p), most probable first; ties by class index."""
    order = np.argsort(-probs, kind="stable")[:k]
    return [(int(c), float(probs[c])) for c in order]


def top_k_rgb(model: LoadedModel, probs: np.ndarray, size: int = TILE, k: int = _TOP) -> np.ndarray:
    """Return the top-k classes as a white ``size`` square: one line each with a bar of length p."""
    canvas = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(canvas)
    limit = (size - _BAR_W - 50) // CHAR_W
    for i, (c, p) in enumerate(top_classes(probs, k)):
        y = 10 + i * 22
        name = model.class_name(c)
        name = name if len(name) <= limit else name[:limit - 1] + "…"
        draw.text((4, y), name, fill="black", font=font())
        draw.rectangle([4, y + 12, 4 + max(1, round(p * _BAR_W)), y + 17], fill=(31, 119, 180))
        draw.text((_BAR_W + 10, y + 8), f"{p:.3f}", fill="black", font=font())
    return np.asarray(canvas)


def frame_panel(model: LoadedModel, analysis: FrameAnalysis, video: str | Path, index: int, time_s: float,
                layer: str | None = None, channel: int | None = None, command: str = "") -> Panel:
    """Return the Panel of one analysed frame: the frame (as the model sees it), then the layer's maps
    (shared levels, index order) or, with a channel, its strongest activation's projection, then the top-5."""
    name = Path(video).name
    frame = model.preprocessing.to_pixels(analysis.x)
    tiles = [with_title(fit_square(frame), f"frame {index} · {time_s:.2f} s")]
    if analysis.projection is not None:
        where = "" if analysis.position is None else f" at {analysis.position}"
        tiles.append(with_title(fit_square(projection_rgb(analysis.projection)), f"channel {channel}{where}"))
    elif analysis.maps is not None:
        maps = analysis.maps
        grid = feature_maps_panel(maps, channel_order(maps), {}, "").pixels
        tiles.append(with_title(fit_square(grid), f"{layer} · {len(maps)} maps"))
    tiles.append(with_title(top_k_rgb(model, analysis.probs), "top-5"))
    width = max(t.shape[1] for t in tiles)
    tiles = [np.pad(t, ((0, 0), (0, width - t.shape[1]), (0, 0)), constant_values=255) for t in tiles]
    what = f" · {layer}" if layer else ""
    what += f" · channel {channel}" if channel is not None else ""
    caption = f"{model.label}{what} · {name} · frame {index} at {time_s:.2f} s"
    facts = {"model": model.name, "weights": model.weights, "video": str(video), "frame": str(index),
             "time_s": f"{time_s:.6f}", "layer": layer or "", "channel": "" if channel is None else str(channel),
             "command": command}
    return Panel(tile(tiles, columns=len(tiles), gap=6), caption, facts)
