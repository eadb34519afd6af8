"""Saliency and activation maximisation for a LoadedModel."""

from __future__ import annotations

from pathlib import Path

import torch

from ..data.images import load_image
from ..engine._control import Cancel, Progress
from ..engine.actmax import Ascent, Target, maximise
from ..engine.saliency import Saliency, saliency
from ..errors import DeconvvizError
from ..models import LoadedModel


def class_saliency(model: LoadedModel, image: str | Path | torch.Tensor, target: int | None = None) -> Saliency:
    """Return the gradient Saliency of class ``target`` (default: the top class) for an image file or input."""
    x = image if isinstance(image, torch.Tensor) else model.preprocess(load_image(image))
    return saliency(model.net, x, target)


def pixel_bounds(model: LoadedModel) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (low, high) (1, C, 1, 1): black and white pixels in the model's normalised units."""
    mean = torch.tensor(model.preprocessing.mean).view(1, -1, 1, 1)
    std = torch.tensor(model.preprocessing.std).view(1, -1, 1, 1)
    return ((0 - mean) / std).to(model.device), ((1 - mean) / std).to(model.device)


def start_input(model: LoadedModel, start: str = "noise", seed: int = 0) -> torch.Tensor:
    """Return the ascent's start: "noise" (Gaussian noise, std 0.5 in normalised units, around the mean image), "mean" (the mean
    image, all zeros after normalisation) or an image file."""
    if start == "mean":
        return model.blank_input()
    if start == "noise":
        g = torch.Generator().manual_seed(seed)
        return (0.5 * torch.randn(model.blank_input().shape, generator=g)).to(model.device)
    if Path(start).is_file():
        return model.preprocess(load_image(start))
    raise DeconvvizError(f"start must be noise, mean or an image file, got {start!r}")


def activation_maximisation(model: LoadedModel, target: Target, start: str = "noise", steps: int = 30,
                            step_size: float = 0.05, l1: float = 0.0, l2: float = 0.0, seed: int = 0,
                            progress: Progress | None = None, cancel: Cancel | None = None) -> Ascent:
    """Return the Ascent maximising ``target`` from ``start`` (see :func:`start_input`), kept to real pixels."""
    return maximise(model.net, start_input(model, start, seed), target, steps, step_size, l1, l2,
                    pixel_bounds(model), progress, cancel)
