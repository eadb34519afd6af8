"""Invariance curves (Fig. 5) for a LoadedModel over up to 5 image files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..data.images import Picture, as_picture
from ..engine.invariance import InvarianceCurves, default_amounts, invariance
from ..engine.landmarks import first_block, penultimate
from ..errors import DeconvvizError
from ..models import LoadedModel

MAX_IMAGES = 5


@dataclass(frozen=True)
class InvarianceResult:
    """The curves of each image (``names[i]`` -> ``curves[i]``) under one transform, at ``layers``."""

    kind: str
    amounts: list[float]
    layers: list[str]
    names: list[str]
    curves: list[InvarianceCurves]


def default_invariance_layers(model: LoadedModel) -> list[str]:
    """Return the paper's two layers for the model: its first conv block and its penultimate layer."""
    records = model.layers()
    return [first_block(model.net, records), penultimate(model.net, records)]


def invariance_curves(model: LoadedModel, images: list[str | Path | Picture], kind: str = "translate",
                      amounts: list[float] | None = None, layers: list[str] | None = None,
                      true_classes: list[int] | None = None) -> InvarianceResult:
    """Return the InvarianceResult of up to 5 image files (or Pictures: a video frame) under ``kind`` (translate, scale or rotate).

    ``amounts`` default to :func:`~deconvviz.engine.invariance.default_amounts`; ``layers`` to
    :func:`default_invariance_layers`; each image's true class to its top class untransformed.
    """
    if not images:
        raise DeconvvizError("give at least one image")
    if len(images) > MAX_IMAGES:
        raise DeconvvizError(f"at most {MAX_IMAGES} images, got {len(images)}")
    if true_classes is not None and len(true_classes) != len(images):
        raise DeconvvizError(f"give one true class per image ({len(images)}), got {len(true_classes)}")
    amounts = amounts or default_amounts(kind, model.preprocessing.size[0])
    layers = layers or default_invariance_layers(model)
    curves = []
    pictures = [as_picture(p) for p in images]
    for i, picture in enumerate(pictures):
        x = model.preprocess(picture.image)
        true = None if true_classes is None else true_classes[i]
        curves.append(invariance(model.net, x, kind, list(amounts), layers, true))
    return InvarianceResult(kind, [float(a) for a in amounts], list(layers), [p.name for p in pictures], curves)


def invariance_rows(result: InvarianceResult, model: LoadedModel) -> tuple[list[str], list[list]]:
    """Return (header, rows) for a CSV: one row per image and amount."""
    header = ["image", "transform", "amount"] + [f"distance {name}" for name in result.layers] + \
             ["true class", "p(true class)", "top class"]
    rows = []
    for name, c in zip(result.names, result.curves):
        for a in range(len(result.amounts)):
            rows.append([name, result.kind, float(c.amounts[a])]
                        + [float(c.distances[layer][a]) for layer in result.layers]
                        + [model.class_name(c.true_class), float(c.prob[a]), model.class_name(int(c.top_class[a]))])
    return header, rows

