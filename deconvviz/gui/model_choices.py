"""The model box's entries: registered models, then torchvision architectures and timm models with the
state of their pretrained weights.

Qt-free: each entry says what it loads and whether that needs a download (the window asks first). A
torchvision architecture whose DEFAULT weights are in torchvision's cache is offered with them; one whose
weights are not is offered on random weights, and with "ImageNet weights (download…)". timm models
likewise, with their weights in the Hugging Face cache; without timm installed they are left out (typing
``timm:NAME`` in the box then says how to install it).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..models import list_models
from ..errors import DeconvvizError
from ..models.torchvision_weights import cache_path, cached_weights, resolve

TORCHVISION = ("alexnet", "vgg16", "resnet18", "resnet50", "vit_b_16", "swin_t", "convnext_tiny")
# One of each family the layout code reads (maps, tokens, channels-last), each with ImageNet-1k weights.
TIMM = ("resnet50.a1_in1k", "efficientnet_b0.ra_in1k", "convnext_tiny.fb_in22k_ft_in1k",
        "vit_small_patch16_224.augreg_in21k_ft_in1k", "swin_tiny_patch4_window7_224.ms_in1k")


@dataclass(frozen=True)
class Choice:
    """One entry: its text, the model name and weights it loads, and whether those weights must be downloaded."""

    text: str
    name: str
    weights: str | None = None
    download: bool = False


def model_choices(archs=None, timm_names=None) -> list[Choice]:
    """Return the model box's entries, in order: registered models, then per torchvision architecture and
    per timm model its pretrained weights (cached, or to download) and its random weights."""
    out = [Choice(name, name) for name in list_models()]
    for arch in TORCHVISION if archs is None else archs:
        out += _pair(f"torchvision:{arch}", "ImageNet weights", "DEFAULT" in cached_weights(arch))
    if _timm_installed():
        from ..models.timm_models import has_cached_weights

        for name in TIMM if timm_names is None else timm_names:
            out += _pair(f"timm:{name}", "pretrained weights", has_cached_weights(name))
    return out


def _pair(name: str, what: str, cached: bool) -> list[Choice]:
    """Return the two entries of a model: its pretrained weights (in cache, or to download), its random ones."""
    weights = (Choice(f"{name} · {what} (in cache)", name, "DEFAULT") if cached
               else Choice(f"{name} · {what} (download…)", name, "DEFAULT", download=True))
    return [weights, Choice(f"{name} · random weights", name)]


def _timm_installed() -> bool:
    try:
        import timm  # noqa: F401
    except ImportError:
        return False
    return True


def download_question(choice: Choice) -> str:
    """Return the question the window asks before downloading ``choice``'s weights."""
    if choice.name.startswith("timm:"):
        from ..models.timm_models import hub_cache, hub_file

        name = choice.name.split(":", 1)[1]
        try:
            repo, _, filename = hub_file(name)
        except DeconvvizError as exc:
            return f"{exc}. Try anyway?"
        return (f"Download timm's {name} weights ({filename} of {repo} on the Hugging Face hub) into "
                f"{hub_cache()}? Later loads need no network.")
    arch = choice.name.split(":", 1)[1]
    weights = resolve(arch, choice.weights or "DEFAULT")
    return (f"Download torchvision's {arch} {weights.name} weights ({weights.url}) into {cache_path(weights).parent}? "
            f"The file's hash is checked; later loads need no network.")
