"""The model box's entries: registered models, and torchvision architectures with their ImageNet weights' state.

Qt-free: each entry says what it loads and whether that needs a download (the window asks first). A
torchvision architecture whose DEFAULT weights are in torchvision's cache is offered with them; one whose
weights are not is offered on random weights, and with "ImageNet weights (download…)".
"""

from __future__ import annotations

from dataclasses import dataclass

from ..models import list_models
from ..models.torchvision_weights import cache_path, cached_weights, resolve

TORCHVISION = ("alexnet", "vgg16", "resnet18", "resnet50", "vit_b_16", "swin_t", "convnext_tiny")


@dataclass(frozen=True)
class Choice:
    """One entry: its text, the model name and weights it loads, and whether those weights must be downloaded."""

    text: str
    name: str
    weights: str | None = None
    download: bool = False


def model_choices(archs=None) -> list[Choice]:
    """Return the model box's entries, in order: registered models, then per torchvision architecture
    its ImageNet weights (cached, or to download) and its random weights."""
    out = [Choice(name, name) for name in list_models()]
    for arch in TORCHVISION if archs is None else archs:
        name = f"torchvision:{arch}"
        if "DEFAULT" in cached_weights(arch):
            out.append(Choice(f"{name} · ImageNet weights (in cache)", name, "DEFAULT"))
        else:
            out.append(Choice(f"{name} · ImageNet weights (download…)", name, "DEFAULT", download=True))
        out.append(Choice(f"{name} · random weights", name))
    return out


def download_question(choice: Choice) -> str:
    """Return the question the window asks before downloading ``choice``'s weights."""
    arch = choice.name.split(":", 1)[1]
    weights = resolve(arch, choice.weights or "DEFAULT")
    return (f"Download torchvision's {arch} {weights.name} weights ({weights.url}) into {cache_path(weights).parent}? "
            f"The file's hash is checked; later loads need no network.")
