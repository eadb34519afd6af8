"""The functions the README documents, taking a LoadedModel (the engine's functions take a bare network)."""

from __future__ import annotations

import torch

from .engine import deconv
from .models import LoadedModel


def project(
    model: LoadedModel,
    x: torch.Tensor,
    layer: str,
    channel: int,
    position: tuple[int, int] | None = None,
    mode: str = "deconvnet",
    whole_map: bool = False,
    top_k: int | None = None,
) -> torch.Tensor:
    """Return the projection(s) of ``layer``'s ``channel`` to input space, shape (K, C, H, W).

    K is 1 except with ``top_k``. ``position=None`` means the channel's strongest activation; see
    :func:`deconvviz.engine.deconv.project` for the positions and values.
    """
    return deconv.project(model.net, x.to(model.device), layer, channel, position, mode, whole_map, top_k).images


def occlusion_map(
    model: LoadedModel,
    x: torch.Tensor,
    patch: int | None = None,
    stride: int | None = None,
    fill: float | None = None,
    target: int | None = None,
    layer: str | None = None,
    progress=None,
    cancel=None,
    approximate=False,
):
    """Return the :class:`~deconvviz.engine.occlusion.OcclusionResult` of sliding a grey square over ``x``.

    ``x`` is the model's input (1, C, H, W); ``patch``/``stride`` default to 32/8 at 224 px (6/2 at 28 px);
    ``fill`` is the square's grey level on [0, 1] pixels (default: the data set's mean pixel); ``target``
    the class mapped in ``.prob`` (default: the top class); ``layer`` the feature layer for ``.activity``
    (default: the last conv block). ``.prob`` is float32 (ny, nx), ny = (H - patch) // stride + 1.
    ``approximate`` True (or an :class:`~deconvviz.engine.occlusion.Approximation`) computes a faster
    approximate map; the default is exact.
    """
    from .engine.occlusion import default_patch_stride, default_stride
    from .engine.occlusion import occlusion_map as _occlusion_map
    from .errors import DeconvvizError

    patch = default_patch_stride(*x.shape[-2:])[0] if patch is None else patch
    stride = default_stride(patch) if stride is None else stride
    fill_value = None
    if fill is not None:
        if not 0.0 <= fill <= 1.0:
            raise DeconvvizError(f"fill is a grey level between 0 and 1, got {fill}")
        prep = model.preprocessing
        fill_value = [(fill - m) / s for m, s in zip(prep.mean, prep.std)]
    return _occlusion_map(model.net, x.to(model.device), patch, stride, fill_value, target, layer, progress, cancel,
                          approximate=approximate)


def parse_target(model: LoadedModel, text: str | None) -> int | None:
    """Return the class index for a target given as an index or a class name (None stays None)."""
    from .errors import DeconvvizError

    if text is None:
        return None
    text = str(text).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    names = [n.lower() for n in model.class_names]
    if text.lower() in names:
        return names.index(text.lower())
    raise DeconvvizError(f"unknown target class {text!r}; give an index 0..{len(model.class_names) - 1} or a class name")


def attribution_target(model: LoadedModel, target):
    """Return the engine's AttributionTarget for ``target``: None (the top class), a class index or name, a
    ``(layer, channel)`` or ``(layer, channel, (row, col))`` tuple, the text ``LAYER:CHANNEL`` or
    ``LAYER:CHANNEL:ROW,COL``, or an AttributionTarget (DeconvvizError for anything else)."""
    from .engine.attribution import AttributionTarget
    from .errors import DeconvvizError

    if target is None or isinstance(target, AttributionTarget):
        return target or AttributionTarget()
    if isinstance(target, (int,)) and not isinstance(target, bool):
        return AttributionTarget(int(target))
    if isinstance(target, tuple) and 2 <= len(target) <= 3:
        position = tuple(int(v) for v in target[2]) if len(target) == 3 and target[2] is not None else None
        return AttributionTarget(layer=str(target[0]), channel=int(target[1]), position=position)
    if isinstance(target, str):
        text = target.strip()
        parts = text.rsplit(":", 2) if text.count(":") >= 1 else [text]
        if len(parts) == 1:
            return AttributionTarget(parse_target(model, text))
        if len(parts) == 3 and "," in parts[2] and parts[1].strip().isdigit():
            layer, channel, where = parts
            rc = [p.strip() for p in where.split(",")]
            if len(rc) == 2 and all(p.isdigit() for p in rc):
                return AttributionTarget(layer=layer, channel=int(channel), position=(int(rc[0]), int(rc[1])))
        layer, channel = text.rsplit(":", 1)
        if channel.strip().isdigit():
            return AttributionTarget(layer=layer, channel=int(channel))
    raise DeconvvizError(f"cannot read the target {target!r}: give a class (index or name), LAYER:CHANNEL or "
                         "LAYER:CHANNEL:ROW,COL")


def attribution(model: LoadedModel, x: torch.Tensor, method: str, target=None, layer: str | None = None,
                **options):
    """Return the (H, W) float32 numpy map of ``method`` (one of ``deconvviz.engine.methods.NAMES``) for the
    input ``x`` (1, C, H, W), at the input's size.

    ``target``: the class (index or name; default the top class), or a channel or neuron (see
    :func:`attribution_target`). ``layer``: the layer Grad-CAM reads (default: the last with spatial maps).
    ``options``: the method's own (integrated gradients: ``steps``, ``baseline`` zero/mean/blur, ``sigma``;
    SmoothGrad: ``base``, ``samples``, ``noise``, ``seed``).
    """
    return explain_attribution(model, x, method, target, layer, **options).map


def explain_attribution(model: LoadedModel, x: torch.Tensor, method: str, target=None, layer: str | None = None,
                        **options):
    """Return the engine's :class:`~deconvviz.engine.methods.Attribution` (the map with the resolved target
    and layer) of :func:`attribution`."""
    from .engine.methods import explain

    prep = model.preprocessing
    return explain(model.net, x.to(model.device), method, attribution_target(model, target), layer, options,
                   prep.mean, prep.std)
