"""torchvision's pretrained weights by name (``DEFAULT``, ``IMAGENET1K_V1``, ...), read from torchvision's cache.

torchvision keeps downloaded weights in ``torch.hub.get_dir()/checkpoints/`` (``$TORCH_HOME/hub/checkpoints``),
under the file name of the weights' URL. deconvviz looks there and loads the file with no network; only when
the user asks (``download=True``) does it fetch the file, through torch.hub's own ``load_state_dict_from_url``
with torchvision's hash check and progress bar (torch.hub writes to a ``.partial`` file and renames it only
when complete and verified, so a failed download leaves nothing that looks valid).

The network is built by torchvision's own builder with the weights enum, so everything torchvision sets for
pretrained weights holds (``transform_input`` for GoogLeNet and Inception v3, ViT's image size, DenseNet's
renamed keys); the state dict it loads is the one this module read with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import os
import re
import threading
import urllib.error
from pathlib import Path
from urllib.parse import urlparse

import torch
from torch import nn

from ..errors import DeconvvizError
from .preprocessing import Preprocessing
from .weights import read_weights

_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")  # how torchvision spells its weights enum members
_BUILD_LOCK = threading.Lock()  # the builder's state-dict loader is swapped for the duration of one build


def looks_like_enum_name(text: str) -> bool:
    """Return whether ``text`` is spelled like a torchvision weights name (``DEFAULT``, ``IMAGENET1K_V2``)."""
    return bool(_NAME.match(str(text)))


def weights_enum(arch: str):
    """Return torchvision's weights enum class of architecture ``arch``, or None if it has none."""
    from torchvision import models

    try:
        return models.get_model_weights(arch)
    except (ValueError, KeyError):
        return None


def weight_names(arch: str) -> list[str]:
    """Return the weights names valid for ``arch``: ``DEFAULT`` and every member of its enum."""
    enum = weights_enum(arch)
    return ["DEFAULT", *(member.name for member in enum)] if enum is not None else []  # iteration skips aliases


def resolve(arch: str, name: str):
    """Return the weights enum member of ``arch`` called ``name`` (DeconvvizError listing the valid names)."""
    enum = weights_enum(arch)
    if enum is None:
        raise DeconvvizError(f"torchvision:{arch} has no pretrained weights in torchvision; give a weights file")
    if name == "DEFAULT":
        return enum.DEFAULT
    if name not in weight_names(arch):
        raise DeconvvizError(f"torchvision:{arch} has no weights {name!r}; valid: {', '.join(weight_names(arch))}")
    return enum[name]


def cache_path(weights) -> Path:
    """Return where torchvision keeps (or would keep) the file of ``weights``: hub dir/checkpoints/URL file name."""
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(weights.url).path)


def cached_weights(arch: str) -> list[str]:
    """Return the names of ``arch``'s weights whose file is in torchvision's cache (``DEFAULT`` first if it is)."""
    enum = weights_enum(arch)
    if enum is None:
        return []
    found = [member.name for member in enum if cache_path(member).is_file()]
    if cache_path(enum.DEFAULT).is_file():
        found.insert(0, "DEFAULT")
    return found


def how_to_get(arch: str, name: str) -> str:
    """Return the command that downloads ``arch``'s weights ``name`` into torchvision's cache."""
    return f"deconvviz layers --model torchvision:{arch} --weights {name} --download"


def fetch_state(weights, arch: str, name: str, download: bool = False) -> tuple[dict[str, torch.Tensor], Path]:
    """Return (state_dict, path) of ``weights`` from torchvision's cache, downloading it first if asked.

    Raises DeconvvizError when the file is missing (naming the path and how to get it) or cannot be read,
    and when a download fails (nothing is left in the cache then).
    """
    path = cache_path(weights)
    if not path.is_file():
        if not download:
            raise DeconvvizError(f"torchvision:{arch} weights {name} are not in torchvision's cache (looked for "
                                 f"{path}); download them with --download, e.g. `{how_to_get(arch, name)}`")
        _download(weights, path)
    state, _ = read_weights(path)
    return state, path


def _download(weights, path: Path) -> None:
    try:
        torch.hub.load_state_dict_from_url(weights.url, model_dir=str(path.parent), map_location="cpu",
                                           progress=True, check_hash=True, weights_only=True)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DeconvvizError(f"downloading {weights.url} failed ({reason}); nothing was written") from None
    except RuntimeError as exc:  # the hash check: torch.hub removed its .partial file and moved nothing
        raise DeconvvizError(f"downloading {weights.url} failed: {str(exc).splitlines()[0]}; nothing was "
                             f"written") from None
    if not path.is_file():
        raise DeconvvizError(f"downloading {weights.url} did not produce {path}")


def build(arch: str, weights, state: dict[str, torch.Tensor], path: Path) -> nn.Module:
    """Return torchvision's ``arch`` built for ``weights`` (its pretrained configuration) holding ``state``.

    torchvision's builder asks ``WeightsEnum.get_state_dict`` for the state dict; for this one build it
    is answered with ``state`` (already read safely) and never from the network.
    """
    from torchvision import models
    from torchvision.models import _api

    def answer(url, *args, **kwargs):
        if url != weights.url:
            raise DeconvvizError(f"torchvision asked for {url} while building {arch}; refusing to download it")
        return state

    with _BUILD_LOCK:
        original = _api.load_state_dict_from_url
        _api.load_state_dict_from_url = answer
        try:
            return models.get_model(arch, weights=weights)
        except RuntimeError as exc:  # load_state_dict: missing or unexpected keys, mismatched shapes
            detail = " ".join(str(exc).split())[:300]
            raise DeconvvizError(f"{path} does not fit torchvision's {arch} (delete it and use --download "
                                 f"to fetch it again): {detail}") from None
        finally:
            _api.load_state_dict_from_url = original


def preprocessing(weights) -> Preprocessing:
    """Return the Preprocessing of ``weights.transforms()``: resize the shorter side, centre crop, mean, std."""
    t = weights.transforms()
    crop = int(t.crop_size[0])
    resize = int(t.resize_size[0])
    return Preprocessing((crop, crop), "RGB", tuple(float(v) for v in t.mean), tuple(float(v) for v in t.std),
                         resize=resize, interpolation=t.interpolation.value)


def class_names(weights) -> tuple[str, ...]:
    """Return the class names in ``weights.meta``."""
    return tuple(weights.meta["categories"])
