"""Invariance of a network's features to translation, scaling and rotation (the paper's Fig. 5).

Each image is transformed by a range of amounts; for each amount the result holds the Euclidean distance
between the feature vectors (a layer's whole output, flattened) of the original and the transformed
image, and the softmax probability of the true class. The transforms act on the model's input, and the
area they uncover is filled with the mean pixel (zero after normalisation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..errors import DeconvvizError
from .probe import probe

TRANSFORMS = ("translate", "scale", "rotate")
IDENTITY = {"translate": 0.0, "scale": 1.0, "rotate": 0.0}
UNITS = {"translate": "vertical shift (pixels)", "scale": "scale factor", "rotate": "rotation (degrees)"}


def default_amounts(kind: str, height: int) -> list[float]:
    """Return the default amounts of ``kind`` for an input ``height`` pixels high (13 values incl. identity)."""
    if kind == "translate":
        reach = max(1, height // 4)
        return [float(round(v)) for v in np.linspace(-reach, reach, 13)]
    if kind == "scale":
        return [round(float(v), 3) for v in np.linspace(0.6, 1.8, 13)]
    if kind == "rotate":
        return [float(v) for v in range(0, 361, 30)]
    raise DeconvvizError(f"unknown transform {kind!r}; valid: {', '.join(TRANSFORMS)}")


def transform(x: torch.Tensor, kind: str, amount: float) -> torch.Tensor:
    """Return ``x`` (N, C, H, W) shifted down by ``amount`` pixels, scaled about its centre, or rotated
    anticlockwise by ``amount`` degrees; uncovered pixels are 0 (the mean pixel). Identity returns a copy."""
    from torchvision.transforms.v2 import functional as TF
    from torchvision.transforms import InterpolationMode

    if kind not in TRANSFORMS:
        raise DeconvvizError(f"unknown transform {kind!r}; valid: {', '.join(TRANSFORMS)}")
    if kind == "scale" and amount <= 0:
        raise DeconvvizError(f"scale factors must be positive, got {amount}")
    if amount == IDENTITY[kind] or (kind == "rotate" and amount % 360 == 0):
        return x.clone()
    if kind == "translate" and float(amount).is_integer():
        return _shift_rows(x, int(amount))
    angle = float(amount) if kind == "rotate" else 0.0
    scale = float(amount) if kind == "scale" else 1.0
    shift = [0, float(amount)] if kind == "translate" else [0, 0]
    return TF.affine(x, angle=angle, translate=shift, scale=scale, shear=[0.0, 0.0],
                     interpolation=InterpolationMode.BILINEAR, fill=0.0)


def _shift_rows(x: torch.Tensor, rows: int) -> torch.Tensor:
    out = torch.zeros_like(x)
    h = x.shape[-2]
    if abs(rows) < h:
        if rows > 0:
            out[..., rows:, :] = x[..., :h - rows, :]
        else:
            out[..., :h + rows, :] = x[..., -rows:, :]
    return out


@dataclass(frozen=True)
class InvarianceCurves:
    """For one image and amounts (A,): ``distances[layer]`` (A,) float32, ``prob`` (A,) of ``true_class``."""

    kind: str
    amounts: np.ndarray
    distances: dict[str, np.ndarray]
    prob: np.ndarray
    true_class: int
    top_class: np.ndarray  # (A,) the most probable class of each transformed image


def invariance(net: nn.Module, x: torch.Tensor, kind: str, amounts: list[float], layers: list[str],
               true_class: int | None = None) -> InvarianceCurves:
    """Return the InvarianceCurves of image ``x`` (1, C, H, W) under ``kind`` by each of ``amounts``.

    ``true_class`` defaults to the top class of the untransformed image.
    """
    if x.dim() != 4 or x.shape[0] != 1:
        raise DeconvvizError(f"expected one image (1, C, H, W), got {tuple(x.shape)}")
    if not amounts:
        raise DeconvvizError("no transformation amounts given")
    batch = torch.cat([x] + [transform(x, kind, a) for a in amounts])
    result = probe(net, batch, keep=layers)
    missing = [name for name in layers if name not in result.activations]
    if missing:
        valid = ", ".join(r.name for r in result.records[:10])
        raise DeconvvizError(f"layer(s) {', '.join(missing)} not found; valid names include {valid}, ... "
                             f"(`deconvviz layers` lists them all)")
    logits = result.output
    if logits.dim() != 2:
        raise DeconvvizError(f"the model's output has shape {tuple(logits.shape[1:])}, not class scores")
    probs = torch.softmax(logits.double(), 1)
    if true_class is None:
        true_class = int(probs[0].argmax())
    if not 0 <= true_class < probs.shape[1]:
        raise DeconvvizError(f"class {true_class} out of range: valid 0..{probs.shape[1] - 1}")
    distances = {}
    for name in layers:
        feats = result.activations[name].flatten(1).double()
        distances[name] = (feats[1:] - feats[:1]).norm(dim=1).float().cpu().numpy()
    return InvarianceCurves(kind, np.asarray(amounts, np.float32), distances,
                            probs[1:, true_class].float().cpu().numpy(), true_class, probs[1:].argmax(1).cpu().numpy())
