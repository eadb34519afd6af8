"""The paper's Fig. 6: a model's first-layer filters as a grid, and two snapshots or models side by side."""

from __future__ import annotations

import numpy as np
import torch

from ..errors import DeconvvizError
from ..models import LoadedModel
from .labels import with_title
from .plots import side_by_side
from .png import Panel, tile
from .render import enlarge, projection_rgb


def first_conv(model: LoadedModel) -> tuple[str, torch.Tensor]:
    """Return (layer name, weight (O, I, kh, kw)) of the first convolution the model runs."""
    from ..engine.probe import split_call_name

    modules = dict(model.net.named_modules())
    for record in model.layers():
        module = modules[split_call_name(record.name)[0]]
        weight = getattr(module, "weight", None)
        if isinstance(module, torch.nn.Conv2d) and weight is not None:
            return record.name, weight.detach().cpu()
    raise DeconvvizError(f"{model.name} has no 2-D convolution, so no first-layer filters to show")


def filter_tiles(weight: torch.Tensor, size: int = 36) -> list[np.ndarray]:
    """Return each filter (I, kh, kw) as RGB enlarged to about ``size`` pixels: grey is 0, each filter scaled
    to its own largest magnitude (as in the paper); filters with other than 1 or 3 inputs show their mean."""
    tiles = []
    for f in weight:
        if f.shape[0] not in (1, 3):
            f = f.mean(0, keepdim=True)
        tiles.append(enlarge(projection_rgb(f), size))
    return tiles


def filter_grid(weight: torch.Tensor, columns: int | None = None, size: int = 36) -> np.ndarray:
    """Return all filters of ``weight`` (O, I, kh, kw) tiled in a grid (8 columns up to 64 filters, then 16)."""
    columns = columns or (8 if len(weight) <= 64 else 16)
    return tile(filter_tiles(weight, size), min(columns, len(weight)), gap=2, background=255)


def _title(model: LoadedModel, layer: str, weight: torch.Tensor) -> tuple[str, str]:
    from pathlib import Path

    source = Path(model.weights)
    where = "/".join(source.parts[-3:]) if source.suffix else model.weights
    epoch = model.meta.get("epoch")
    if epoch is not None:
        where += f" (epoch {epoch})"
    o, i, kh, kw = weight.shape
    return f"{model.label} · {layer} · {o} filters {kh}x{kw}x{i}", where


def filters_panel(model: LoadedModel, other: LoadedModel | None = None, command: str = "") -> Panel:
    """Return the Panel of ``model``'s first-layer filters, and ``other``'s beside them when given."""
    grids, facts = [], {"command": command}
    for i, m in enumerate([model] + ([other] if other is not None else [])):
        layer, weight = first_conv(m)
        first, second = _title(m, layer, weight)
        grids.append(with_title(with_title(filter_grid(weight, size=48), second, 14), first, 14))
        facts[f"model {i + 1}"] = f"{m.name} ({m.weights})"
    caption = "first-layer filters" + (" · left vs right" if other is not None else f" · {model.label}")
    return Panel(side_by_side(grids, 16), caption, facts)

