"""Activation maximisation: regularised gradient ascent in input space on a channel's mean output or on a
class's pre-softmax score (Erhan et al. 2009; Simonyan et al. 2014, maximising S_c(I) - lambda ||I||).

Each step moves the input along the objective's gradient, normalised to unit mean magnitude so that
``step_size`` is in input units whatever the layer's scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..errors import DeconvvizError
from ._control import Cancel, Progress, report
from .layers import capture, run_until


@dataclass(frozen=True)
class Target:
    """What to maximise: ``layer``'s ``channel`` (mean over its map), or ``class_index``'s pre-softmax score."""

    layer: str | None = None
    channel: int | None = None
    class_index: int | None = None

    def describe(self) -> str:
        """Return e.g. "features.6 channel 3" or "class 7"."""
        return f"class {self.class_index}" if self.class_index is not None else f"{self.layer} channel {self.channel}"


@dataclass(frozen=True)
class Ascent:
    """The input found (1, C, H, W) and, per step (0 = start), the target's value and the objective."""

    image: torch.Tensor
    values: list[float]
    objectives: list[float]
    target: Target


def target_value(net: nn.Module, x: torch.Tensor, target: Target) -> torch.Tensor:
    """Return the target's value for input ``x`` (1, C, H, W) as a 0-d tensor (differentiable)."""
    if target.class_index is not None:
        scores = net(x)
        if scores.dim() != 2:
            raise DeconvvizError(f"the model's output has shape {tuple(scores.shape[1:])}, not class scores")
        if not 0 <= target.class_index < scores.shape[1]:
            raise DeconvvizError(f"class {target.class_index} out of range: valid 0..{scores.shape[1] - 1}")
        return scores[0, target.class_index]
    if target.layer is None or target.channel is None:
        raise DeconvvizError("name a layer and a channel, or a class, to maximise")
    with capture(net, target.layer) as box:
        act = run_until(net, x, box, target.layer)
    layout = box["layout"]  # tokens and channels-last: the channel is a map of the layout's reading
    act = layout.maps(act) if layout.spatial else act
    if not 0 <= target.channel < act.shape[1]:
        raise DeconvvizError(f"channel {target.channel} out of range for layer {target.layer!r}: "
                             f"valid 0..{act.shape[1] - 1}")
    return act[0, target.channel].mean()


def maximise(net: nn.Module, start: torch.Tensor, target: Target, steps: int = 20, step_size: float = 0.5,
             l1: float = 0.0, l2: float = 0.0, bounds: tuple[torch.Tensor, torch.Tensor] | None = None,
             progress: Progress | None = None, cancel: Cancel | None = None) -> Ascent:
    """Return the Ascent from ``start`` (1, C, H, W): ``steps`` steps up value - l1 |x|_1/N - l2 |x|^2/N
    (N = the number of input values). ``bounds`` (low, high), broadcastable to the input, keep it in the
    range of real images after each step. ``cancel()`` returning True stops early with what was found so far."""
    if steps < 0 or step_size <= 0 or l1 < 0 or l2 < 0:
        raise DeconvvizError("steps must be >= 0, the step size > 0 and the L1/L2 weights >= 0")
    x = start.detach().clone()
    n = x.numel()
    values, objectives = [], []
    with torch.enable_grad():
        for step in range(steps + 1):
            x.requires_grad_(True)
            value = target_value(net, x, target)
            objective = value - l1 * x.abs().sum() / n - l2 * x.pow(2).sum() / n
            values.append(float(value.detach()))
            objectives.append(float(objective.detach()))
            if step == steps or (cancel is not None and cancel()):
                break
            (grad,) = torch.autograd.grad(objective, x)
            x = (x + step_size * grad / (grad.abs().mean() + 1e-12)).detach()
            if bounds is not None:
                x = torch.maximum(torch.minimum(x, bounds[1]), bounds[0])
            report(progress, step + 1, steps)
    return Ascent(x.detach(), values, objectives, target)
