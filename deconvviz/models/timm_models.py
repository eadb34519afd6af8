"""timm models by name (``timm:NAME``), with their pretrained weights read from the Hugging Face cache.

timm (an optional extra: ``pip install 'deconvviz[timm]'``) builds the network (``timm.create_model``); its
pretrained configuration for ``NAME`` (``resnet50.a1_in1k``: architecture, then the tag of the weights) says
where the weights live on the Hugging Face hub (``hf_hub_id``) and how the input is prepared (size,
interpolation, crop fraction, mean, std).

``--weights DEFAULT`` reads ``model.safetensors`` of that hub repository from the Hugging Face cache
(``$HF_HUB_CACHE``, else ``$HF_HOME/hub``, else ``~/.cache/huggingface/hub``, read when the weights are looked
up) with huggingface_hub's ``try_to_load_from_cache``, which follows ``refs/main`` to a snapshot and makes no
request. Only ``download=True`` fetches it, through ``hf_hub_download`` (its progress bar; it writes to an
``.incomplete`` blob and links the snapshot only when the file is complete).
"""

from __future__ import annotations

import difflib
import math
import os
from pathlib import Path

import torch
from torch import nn

from ..errors import DeconvvizError
from .preprocessing import Preprocessing
from .weights import read_weights

INSTALL = "pip install 'deconvviz[timm]'"
WEIGHTS_FILE = "model.safetensors"  # timm's hub repositories all hold their weights under this name


def require_timm():
    """Return the timm module, or raise DeconvvizError saying how to install it."""
    try:
        import timm
    except ImportError:
        raise DeconvvizError(f"timm:NAME models need the timm package, which is not installed; install it "
                             f"with `{INSTALL}`") from None
    return timm


def check_name(name: str) -> str:
    """Return ``name`` if timm knows it (an architecture, or architecture.tag of its pretrained weights).

    Raises DeconvvizError listing the closest timm names otherwise.
    """
    timm = require_timm()
    arch, _, tag = name.partition(".")
    known = timm.is_model(arch) and (not tag or name in timm.list_models(arch, pretrained=True))
    if known:
        return name
    names = sorted(set(timm.list_models()) | set(timm.list_models(pretrained=True)))
    close = difflib.get_close_matches(name, names, n=6, cutoff=0.6)
    hint = f"close matches: {', '.join(close)}" if close else "no close match"
    raise DeconvvizError(f"unknown timm model {name!r}; {hint} (python -c \"import timm; "
                         f"print(timm.list_models(pretrained=True))\" lists them all)")


def pretrained_cfg(name: str) -> dict:
    """Return timm's pretrained configuration of ``name`` as a dict (``{}`` when timm registers none)."""
    from timm.models import get_pretrained_cfg

    cfg = get_pretrained_cfg(name)
    return cfg.to_dict() if cfg is not None else {}


def preprocessing(cfg: dict) -> Preprocessing:
    """Return the Preprocessing of timm's evaluation transform for pretrained configuration ``cfg``.

    timm resizes to ``floor(size / crop_pct)`` (the shorter side for crop mode ``center``, both sides for
    ``squash``) with the configuration's interpolation, crops the centre ``size``, then normalises.
    Crop mode ``border`` (pad instead of crop; 6 of timm's weights) and non-square inputs are prepared as
    ``center`` would.
    """
    from timm.data import resolve_data_config

    data = resolve_data_config(pretrained_cfg=cfg)
    _, height, width = data["input_size"]
    mean = tuple(float(v) for v in data["mean"])
    std = tuple(float(v) for v in data["std"])
    if height != width:
        return Preprocessing((height, width), "RGB", mean, std)
    resize = math.floor(height / (data.get("crop_pct") or 0.875))
    return Preprocessing((height, width), "RGB", mean, std, resize=resize, interpolation=data["interpolation"],
                         squash=data.get("crop_mode") == "squash")


def class_names(cfg: dict, imagenet_1k: tuple[str, ...]) -> tuple[str, ...]:
    """Return the class names of the head in ``cfg``: ``imagenet_1k`` for ImageNet-1k, timm's own names for
    the other ImageNet subsets (the first name of each synset's description), else ``()``."""
    from timm.data import ImageNetInfo, infer_imagenet_subset

    if not cfg or cfg.get("label_offset"):
        return ()
    subset = infer_imagenet_subset(cfg)
    if subset == "imagenet-1k":
        return imagenet_1k
    if subset is None:
        return ()
    info = ImageNetInfo(subset)
    return tuple(info.index_to_description(i).split(",")[0] for i in range(info.num_classes()))


def build(name: str, num_classes: int | None = None, in_channels: int | None = None,
          state: dict[str, torch.Tensor] | None = None) -> nn.Module:
    """Return timm's ``name`` (randomly initialised, or holding the pretrained ``state`` through timm's own
    loader: its checkpoint filter, strict keys). Nothing is downloaded: ``state`` is already read."""
    timm = require_timm()
    kwargs = {}
    if num_classes is not None:
        kwargs["num_classes"] = num_classes
    if in_channels is not None:
        kwargs["in_chans"] = in_channels
    if state is None:
        return timm.create_model(name, pretrained=False, **kwargs)
    return timm.create_model(name, pretrained=True, pretrained_cfg_overlay={"state_dict": state}, **kwargs)


def hub_cache() -> Path:
    """Return the Hugging Face hub cache folder the environment names now (HF_HUB_CACHE, HF_HOME, default)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME") or "~/.cache", "huggingface")
    return Path(home).expanduser() / "hub"


def hub_file(name: str) -> tuple[str, str | None, str]:
    """Return (repository, revision, file name) of ``name``'s pretrained weights on the Hugging Face hub.

    Raises DeconvvizError when timm has none there, or only a file that is not safetensors.
    """
    cfg = pretrained_cfg(name)
    hub_id = cfg.get("hf_hub_id")
    if not hub_id:
        where = f" (timm would fetch {cfg['url']})" if cfg.get("url") else ""
        raise DeconvvizError(f"timm:{name} has no pretrained weights on the Hugging Face hub{where}; deconvviz "
                             f"reads timm weights from the Hugging Face cache only: give a weights file")
    filename = cfg.get("hf_hub_filename") or WEIGHTS_FILE
    if not filename.endswith(".safetensors"):
        raise DeconvvizError(f"timm:{name}'s weights are {filename}, not safetensors; deconvviz reads timm "
                             f"weights as safetensors only: give a weights file")
    repo, _, revision = hub_id.partition("@")
    return repo, revision or None, filename


def repo_folder(repo: str) -> Path:
    """Return the cache folder of hub repository ``repo`` (``models--org--name``)."""
    return hub_cache() / f"models--{repo.replace('/', '--')}"


def cached_file(name: str) -> Path | None:
    """Return the cached weights file of ``name`` (no network), or None when it is not in the cache."""
    from huggingface_hub import try_to_load_from_cache

    repo, revision, filename = hub_file(name)
    found = try_to_load_from_cache(repo, filename, cache_dir=str(hub_cache()), revision=revision)
    return Path(found) if isinstance(found, str) and Path(found).is_file() else None


def has_cached_weights(name: str) -> bool:
    """Return whether ``name``'s pretrained weights are in the Hugging Face cache (False if it has none)."""
    try:
        return cached_file(name) is not None
    except DeconvvizError:
        return False


def how_to_get(name: str) -> str:
    """Return the command that downloads ``name``'s weights into the Hugging Face cache."""
    return f"deconvviz layers --model timm:{name} --weights DEFAULT --download"


def fetch_state(name: str, download: bool = False) -> tuple[dict[str, torch.Tensor], Path]:
    """Return (state_dict, path) of ``name``'s pretrained weights from the Hugging Face cache, downloading
    them first if asked. Raises DeconvvizError when the file is missing (naming where it was looked for and
    how to get it), cannot be read, or the download fails."""
    path = cached_file(name)
    if path is None:
        repo, revision, filename = hub_file(name)
        if not download:
            raise DeconvvizError(
                f"timm:{name} weights are not in the Hugging Face cache (looked for "
                f"{repo_folder(repo) / 'snapshots' / (revision or '<refs/main>') / filename}); download them "
                f"with --download, e.g. `{how_to_get(name)}`")
        path = _download(repo, revision, filename)
    state, _ = read_weights(path)
    return state, path


def _download(repo: str, revision: str | None, filename: str) -> Path:
    from huggingface_hub import hf_hub_download

    try:
        path = hf_hub_download(repo, filename, revision=revision, cache_dir=str(hub_cache()), library_name="timm")
    except Exception as exc:  # huggingface_hub's HTTP, offline and not-found errors have no common base
        detail = " ".join(str(exc).split())[:300]
        raise DeconvvizError(f"downloading {filename} of {repo} from the Hugging Face hub failed "
                             f"({type(exc).__name__}: {detail})") from None
    return Path(path)
