"""Feature visualisation for a LoadedModel: the picture each channel of a layer (or each class) responds to
most, by :mod:`deconvviz.engine.featvis`."""

from __future__ import annotations

import torch

from ..engine._control import Cancel, Progress
from ..engine.actmax import Ascent, Target
from ..engine.featvis import CLASS, DIVERSITY_WEIGHT, KINDS, LR, FeatureVis, Objective, input_images, visualise
from ..errors import DeconvvizError
from ..models import LoadedModel

OBJECTIVES = KINDS + ("negative",)  # "negative": the channel's mean, minimised


def objective_named(name: str, position: tuple[int, int] | None = None) -> Objective:
    """Return the Objective for the CLI's name: channel, neuron, class, or negative (a channel's mean, negated)."""
    if name not in OBJECTIVES:
        raise DeconvvizError(f"objective must be one of {', '.join(OBJECTIVES)}, got {name!r}")
    if name == "negative":
        return Objective("channel", negative=True)
    return Objective(name, position=position)


def feature_visualisation(model: LoadedModel, layer: str | None, channels, steps: int = 256, size: int = 128,
                          seed: int = 0, objective: str | Objective = "channel", position: tuple[int, int] | None = None,
                          diversity: int = 1, diversity_weight: float = DIVERSITY_WEIGHT, lr: float = LR,
                          batch: int | None = None, progress: Progress | None = None, cancel: Cancel | None = None,
                          on_chunk=None, fast: bool = True) -> FeatureVis:
    """Return the FeatureVis of ``channels`` (an int or a list) of ``layer``: ``.images`` (N, 3, size, size) RGB
    in [0, 1], one per channel (``diversity`` per channel, consecutive, when > 1), ``.objectives`` per step.

    ``objective``: "channel" (the map's mean), "neuron" (at ``position``, default the centre), "class" (then
    ``channels`` are class indices and ``layer`` may be None), "negative" (the channel's mean minimised), or an
    Objective. See :func:`deconvviz.engine.featvis.visualise` for the rest."""
    channels = [int(channels)] if isinstance(channels, int) else [int(c) for c in channels]
    chosen = objective if isinstance(objective, Objective) else objective_named(objective, position)
    if chosen.kind != CLASS and layer is not None:
        layer_maps(model, layer)
    return visualise(model.net, model.preprocessing, layer, channels, chosen, steps, size, seed, diversity,
                     diversity_weight, lr, batch=batch, progress=progress, cancel=cancel, on_chunk=on_chunk,
                     fast=fast)


def layer_maps(model: LoadedModel, layer: str) -> tuple[int, int, int] | None:
    """Return ``layer``'s (C, H, W) maps, None for a flat output (DeconvvizError naming close names if unknown)."""
    from ..engine.layers import resolve_layer

    resolve_layer(model.net, layer)
    for record in model.layers():
        if record.name == layer:
            return record.layout.map_shape
    return None


def as_ascent(model: LoadedModel, result: FeatureVis, target: Target, index: int = 0) -> Ascent:
    """Return image ``index`` of ``result`` as an Ascent (the model's input, its objective per step), as the
    pixel ascent of :func:`deconvviz.analyses.actmax.activation_maximisation` returns it."""
    steps = int(result.steps_done[index])
    values = [float(v) for v in result.objectives[index, :steps]]
    with torch.no_grad():
        image = input_images(result.images[index:index + 1], model.preprocessing).to(model.device)
    return Ascent(image, values, values, target)


def grey_start(model: LoadedModel) -> torch.Tensor:
    """Return the start of every feature visualisation as the model's input: the mid-grey picture."""
    return input_images(torch.full((1, 3, 8, 8), 0.5), model.preprocessing).to(model.device)
