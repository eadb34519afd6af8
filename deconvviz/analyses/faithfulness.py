"""Deletion and insertion curves (Petsiuk et al. 2018) of the occlusion map and of any attribution method's
map (the registry's, :mod:`deconvviz.engine.methods`) for a LoadedModel.

A method's map ranks the pixels as :func:`deconvviz.engine.methods.attribute` returns it: the most positive
first (for a signed map, integrated gradients say, the evidence for the class before the evidence against).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..engine import faithfulness as engine
from ..engine.occlusion import OcclusionCancelled, default_patch_stride, default_stride, occlusion_map
from ..engine.attribution import AttributionTarget
from ..engine.methods import NAMES, attribute
from ..errors import DeconvvizError
from ..models import LoadedModel

MAPS = ("occlusion",) + NAMES
DEFAULT_MAPS = ("occlusion", "saliency")
HEADER = ["map", "fraction", "deletion", "insertion", "deletion_auc", "insertion_auc"]


@dataclass(frozen=True)
class FaithfulnessResult:
    """Per map name (and "random", the mean over random orders): its (H, W) importance (not for "random")
    and its Curves. ``target`` is the class, ``base_prob`` its probability on the image."""

    target: int
    base_prob: float
    maps: dict[str, np.ndarray]
    curves: dict[str, engine.Curves]
    steps: int
    random_orders: int
    patch: int
    stride: int


def faithfulness_curves(model: LoadedModel, x: torch.Tensor, target: int | None = None, maps=DEFAULT_MAPS, steps: int = 50,
                        random_orders: int = 3, seed: int = 0, patch: int | None = None, stride: int | None = None,
                        batch: int = 16, progress=None, cancel=None) -> FaithfulnessResult:
    """Return the FaithfulnessResult for input ``x`` (1, C, H, W): deletion and insertion curves of the
    occlusion map (p drop of a ``patch`` square, per pixel the mean over the squares covering it) and of
    each attribution method named in ``maps`` (default: gradient saliency) for ``target`` (default: the top
    class), with the random-order baseline.

    ``progress(done, total)`` is called after each stage (the occlusion map, then each map's curves and
    each random order's); ``cancel()`` returning True stops it (an engine ``Cancelled``)."""
    maps = tuple(maps)
    unknown = [m for m in maps if m not in MAPS]
    if unknown or not maps:
        raise DeconvvizError(f"unknown map {unknown[0] if unknown else '(none)'!r}; valid: {', '.join(MAPS)}")
    x = x.to(model.device)
    height, width = x.shape[2:]
    default_patch, _ = default_patch_stride(height, width)
    patch = default_patch if patch is None else patch
    stride = default_stride(patch) if stride is None else stride
    if not 1 <= patch <= min(height, width) or stride < 1:
        raise DeconvvizError(f"patch must be 1..{min(height, width)} and stride at least 1, got {patch} and {stride}")
    with torch.no_grad():
        probs = torch.softmax(model.net(x).double(), 1)[0]
    target = int(probs.argmax()) if target is None else target
    if not 0 <= target < probs.numel():
        raise DeconvvizError(f"class {target} out of range: valid 0..{probs.numel() - 1}")
    total = ("occlusion" in maps) + len(maps) + max(1, random_orders)
    done = [0]

    def stage() -> None:
        done[0] += 1
        if progress is not None:
            progress(done[0], total)

    importance = {}
    if "occlusion" in maps:
        try:
            occ = occlusion_map(model.net, x, patch, stride, None, target, cancel=cancel)
        except OcclusionCancelled as exc:  # a DeconvvizError (the CLI's one line); here a cancel like the others
            raise engine.FaithfulnessCancelled(str(exc)) from exc
        importance["occlusion"] = engine.occlusion_importance(occ.base_prob - occ.prob, patch, stride, height, width)
        stage()
    prep = model.preprocessing
    for name in maps:
        if name != "occlusion":
            importance[name] = attribute(model.net, x, name, AttributionTarget(target), mean=prep.mean, std=prep.std)
    curves = {}
    for name, m in importance.items():
        curves[name] = engine.curves(model.net, x, m, target, steps, batch=batch, cancel=cancel)
        stage()
    curves["random"] = engine.random_curves(model.net, x, target, steps, random_orders, seed, batch=batch,
                                            cancel=cancel, progress=stage)
    return FaithfulnessResult(target, float(probs[target]), importance, curves, steps, random_orders, patch, stride)


def faithfulness_rows(result: FaithfulnessResult) -> tuple[list[str], list[list]]:
    """Return (HEADER, rows): per map (and "random") and fraction, p(target) deleted and inserted, with the AUCs."""
    rows = []
    for name, c in result.curves.items():
        for f, d, i in zip(c.fractions, c.deletion, c.insertion):
            rows.append([name, float(f), float(d), float(i), c.deletion_auc, c.insertion_auc])
    return HEADER, rows
