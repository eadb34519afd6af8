"""Panels for the sanity checks: Adebayo et al.'s randomisation figure, and deletion/insertion curves."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageDraw

from ..analyses.faithfulness import FaithfulnessResult
from ..analyses.sanity import verdicts
from ..engine.sanity import SanityResult
from ..engine.similarity import MEASURES
from ..models import LoadedModel
from .labels import CHAR_W, LINE_H, font, with_title
from .plots import legend, line_plot, series_colours, side_by_side, stacked
from .png import Panel
from .projections import _square
from .render import grey_rgb, heatmap_rgb, projection_rgb

MAX_COLUMNS = 9  # steps shown as pictures (the curves show every step)
_MEASURE_TITLES = {"spearman": "Spearman |map|", "spearman_signed": "Spearman signed", "ssim": "SSIM",
                   "hog": "HOG similarity"}


def shown_steps(count: int, columns: int = MAX_COLUMNS) -> list[int]:
    """Return the step indices drawn as columns: step 0 ("none") and ``columns - 1`` steps evenly spaced
    over 1..count-1, always including the last (every layer randomised in a cascading test)."""
    if count <= columns:
        return list(range(count))
    picks = np.unique(np.round(np.linspace(1, count - 1, columns - 1)).astype(int))
    return [0] + [int(p) for p in picks]


def explanation_rgb(explanation: np.ndarray) -> np.ndarray:
    """Return a projection (C, H, W) as the app shows it (zero grey), or a map (H, W) (saliency, Grad-CAM,
    integrated gradients...) as its magnitude in grey to its 99th percentile."""
    if explanation.ndim == 3:
        return projection_rgb(explanation)
    explanation = np.abs(explanation)
    high = float(np.percentile(explanation, 99)) or float(explanation.max()) or 1.0
    return grey_rgb(np.clip(explanation, 0, high), 0.0, high)


def text_lines(lines: list[str], width: int) -> np.ndarray:
    """Return lines of text on white, ``width`` pixels wide (long lines are cut with an ellipsis)."""
    image = Image.new("RGB", (width, len(lines) * (LINE_H + 3) + 4), "white")
    draw = ImageDraw.Draw(image)
    limit = max(8, (width - 6) // CHAR_W)
    for i, line in enumerate(lines):
        text = line if len(line) <= limit else line[: limit - 1] + "…"
        draw.text((3, 2 + i * (LINE_H + 3)), text, fill="black", font=font())
    return np.asarray(image)


def _label(text: str, limit: int) -> str:
    return text if len(text) <= limit else "…" + text[-(limit - 1):]


def sanity_grid(model: LoadedModel, x: torch.Tensor, result: SanityResult, cell: int = 112) -> np.ndarray:
    """Return the paper's layout: one row per method, one column per shown step, the input on the left."""
    steps = shown_steps(len(result.steps))
    limit = cell // CHAR_W
    pixels = _square(model.preprocessing.to_pixels(x), cell)
    rows = []
    for method in result.methods:
        tiles = [with_title(pixels, "input")] + [
            with_title(_square(explanation_rgb(result.maps[method][k]), cell),
                       f"{k}: {_label(result.steps[k], limit - len(str(k)) - 2)}" if k else "learnt") for k in steps]
        row = side_by_side(tiles, 4)
        label = Image.new("RGB", (len(max(result.methods, key=len)) * CHAR_W + 10, row.shape[0]), "white")
        ImageDraw.Draw(label).text((3, row.shape[0] // 2), method, fill="black", font=font())
        rows.append(side_by_side([np.asarray(label), row], 0))
    return stacked(rows, 4)


def similarity_plots(result: SanityResult, size: tuple[int, int] = (300, 220)) -> np.ndarray:
    """Return the four similarity-vs-step plots side by side (one line per method) with their legend."""
    xs = list(range(len(result.steps)))
    what = "layers randomised from the top" if result.test == "cascading" else "layer randomised (from the top)"
    plots = [line_plot([(m, xs, result.scores[m][measure]) for m in result.methods], _MEASURE_TITLES[measure],
                       f"step: {what}", "similarity", size, ylim=(-1.0, 1.0)) for measure in MEASURES]
    strip = side_by_side(plots, 6)
    return stacked([strip, legend(list(result.methods), width=strip.shape[1])], 2)


def sanity_panel(model: LoadedModel, x: torch.Tensor, result: SanityResult, image_name: str = "",
                 command: str = "") -> Panel:
    """Return the Panel: the maps per method and step, the similarity curves, and a verdict per method."""
    grid = sanity_grid(model, x, result)
    plots = similarity_plots(result)
    width = max(grid.shape[1], plots.shape[1])
    shown = shown_steps(len(result.steps))
    note = (f"columns: the learnt network and {len(shown) - 1} of {len(result.steps) - 1} steps "
            f"(step k: name of the layer re-initialised{' last' if result.test == 'cascading' else ''}); "
            "curves: every step")
    lines = verdicts(result) + [note]
    target = result.target.describe()
    if result.target.class_index is not None:
        target += f" ({model.class_name(result.target.class_index)})"
    caption = f"{model.label} · {result.test} randomisation · {target} · seed {result.seed} · {image_name}"
    facts = {"model": model.name, "weights": model.weights, "test": result.test, "target": target,
             "methods": ",".join(result.methods), "seed": str(result.seed), "image": image_name,
             "steps": ",".join(result.steps), "verdicts": "\n".join(verdicts(result)), "command": command}
    return Panel(stacked([grid, plots, text_lines(lines, width)], 6), caption, facts)


def _map_rgb(values: np.ndarray) -> np.ndarray:
    high = float(np.percentile(values, 99.5))
    low = float(values.min())
    return heatmap_rgb(np.clip(values, low, high if high > low else low + 1.0), low, high if high > low else low + 1.0)


def faithfulness_panel(model: LoadedModel, x: torch.Tensor, result: FaithfulnessResult, image_name: str = "",
                       command: str = "") -> Panel:
    """Return the Panel: the input and each map (most important yellow), the deletion and insertion curves,
    with each curve's area under it in the legend."""
    cell = 200
    tiles = [with_title(_square(model.preprocessing.to_pixels(x), cell), "input")]
    titles = {"occlusion": f"occlusion p drop ({result.patch} px)", "saliency": "saliency |d score / d x|"}
    tiles += [with_title(_square(_map_rgb(m), cell), titles.get(name, name)) for name, m in result.maps.items()]
    names = list(result.curves)
    colours = series_colours(names, baseline="random")  # more than ten maps: tab10 alone would repeat
    size = (330, cell + 16)
    deletion = line_plot([(n, result.curves[n].fractions, result.curves[n].deletion) for n in names],
                         "deletion (lower AUC: more faithful)", "fraction greyed", "p(class)", size, ylim=(0.0, 1.0),
                         colors=colours)
    insertion = line_plot([(n, result.curves[n].fractions, result.curves[n].insertion) for n in names],
                          "insertion (higher AUC: more faithful)", "fraction revealed", "p(class)", size,
                          ylim=(0.0, 1.0), colors=colours)
    top = side_by_side(tiles + [deletion, insertion], 6)
    labels = [f"{n}{f' (mean of {result.random_orders} orders)' if n == 'random' else ''}: deletion AUC "
              f"{result.curves[n].deletion_auc:.3f}, insertion AUC {result.curves[n].insertion_auc:.3f}"
              for n in names]
    name = model.class_name(result.target)
    caption = (f"{model.label} · deletion/insertion of {name} (class {result.target}, p = {result.base_prob:.3f}) · "
               f"{result.steps} steps · {image_name}")
    facts = {"model": model.name, "weights": model.weights, "class": str(result.target), "class name": name,
             "image": image_name, "aucs": "\n".join(labels), "command": command}
    return Panel(stacked([top, legend(labels, colours, width=top.shape[1])], 2), caption, facts)
