"""The paper's Fig. 5: feature distance at two layers and p(true class) against the amount of transformation."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from ..analyses.invariance import InvarianceResult
from ..engine.invariance import UNITS, transform
from ..models import LoadedModel
from .labels import with_title
from .plots import legend, line_plot, side_by_side, stacked
from .png import Panel


def invariance_plots(result: InvarianceResult, size: tuple[int, int] = (340, 250)) -> list[np.ndarray]:
    """Return one line plot per layer (Euclidean feature distance) and one of p(true class), all images."""
    plots = []
    xlabel = UNITS[result.kind]
    for layer in result.layers:
        series = [(n, result.amounts, c.distances[layer]) for n, c in zip(result.names, result.curves)]
        plots.append(line_plot(series, f"distance at {layer}", xlabel, "Euclidean distance", size))
    series = [(n, result.amounts, c.prob) for n, c in zip(result.names, result.curves)]
    plots.append(line_plot(series, "p(true class)", xlabel, "probability", size, ylim=(0.0, 1.0)))
    return plots


def transformed_strip(model: LoadedModel, x: torch.Tensor, kind: str, amounts: list[float], count: int = 7,
                      size: int = 72) -> np.ndarray:
    """Return thumbnails of input ``x`` at ``count`` of the amounts, labelled, as one RGB strip."""
    picks = sorted({round(i * (len(amounts) - 1) / max(1, count - 1)) for i in range(count)})
    thumbs = []
    for i in picks:
        pixels = model.preprocessing.to_pixels(transform(x, kind, amounts[i]))
        thumb = np.asarray(Image.fromarray(pixels).resize((size, size), Image.BILINEAR))
        thumbs.append(with_title(thumb, f"{amounts[i]:g}", 14))
    return side_by_side(thumbs, 4)


def invariance_panel(model: LoadedModel, result: InvarianceResult, first_input: torch.Tensor | None = None,
                     command: str = "") -> Panel:
    """Return the Panel: the plots side by side, a legend (image -> true class), and a strip of the first
    image transformed (when ``first_input`` is given)."""
    plots = side_by_side(invariance_plots(result), 8)
    labels = [f"{n} ({model.class_name(c.true_class)})" for n, c in zip(result.names, result.curves)]
    parts = [plots, legend(labels, width=plots.shape[1])]
    if first_input is not None:
        parts.append(transformed_strip(model, first_input, result.kind, result.amounts))
    caption = f"{model.label} · invariance to {result.kind} · layers {', '.join(result.layers)}"
    facts = {"model": model.name, "weights": model.weights, "transform": result.kind,
             "amounts": ",".join(f"{a:g}" for a in result.amounts), "layers": ",".join(result.layers),
             "images": ",".join(result.names), "command": command}
    return Panel(stacked(parts, 4), caption, facts)
