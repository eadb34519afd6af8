"""The matrix's axes: the layer kinds (a tiny model and a layer each), the inputs, and an independent reading
of a layer's output as maps (written here by hand, not through deconvviz's layout code, so a wrong reading
there shows as a difference)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

MODELS = Path(__file__).with_name("tiny_models.py")


@dataclass(frozen=True)
class Kind:
    """A layer kind: the model factory, the layer, its maps' (C, H, W), and a channel to project."""

    factory: str
    layer: str
    shape: tuple[int, int, int]
    channel: int

    @property
    def model(self) -> str:
        return f"{MODELS}:{self.factory}"

    @property
    def spatial(self) -> bool:
        return self.shape[1:] != (1, 1)


KINDS = {
    "CxHxW": Kind("conv", "features.3", (8, 16, 16), 5),
    "tokens": Kind("vit", "encoder.layers.encoder_layer_1", (16, 4, 4), 5),
    "channels-last": Kind("swin", "features.1", (12, 8, 8), 5),
    "1-D": Kind("conv", "classifier.0", (10, 1, 1), 5),
}
INPUTS = ("image", "paused", "playing", "camera")


def reference_maps(kind: str, act: torch.Tensor) -> np.ndarray:
    """Return the layer output ``act`` (1, ...) as (C, H, W) maps, read by hand for ``kind``."""
    a = act[0].detach().float()
    if kind == "tokens":
        t, d = a.shape
        g = int(round((t - 1) ** 0.5))
        a = a[1:].T.reshape(d, g, g)  # the class token first, then the patch grid row-major
    elif kind == "channels-last":
        a = a.permute(2, 0, 1)
    elif kind == "1-D":
        a = a[:, None, None]
    return a.numpy()


def raw_output(net: torch.nn.Module, x: torch.Tensor, layer: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (logits, ``layer``'s output) of ``net(x)``, kept by a plain forward hook."""
    box = {}
    handle = dict(net.named_modules())[layer].register_forward_hook(lambda m, i, o: box.setdefault("out", o.clone()))
    try:
        with torch.no_grad():
            logits = net(x)
    finally:
        handle.remove()
    return logits, box["out"]
