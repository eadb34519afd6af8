"""What can be inspected: model names, architectures, safe weight loading, preprocessing, class names."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from PIL import Image
from torch import nn

from ..devices import torch_device
from ..errors import DeconvvizError
from .layers import LayerRecord, record_calls
from .preprocessing import Preprocessing
from .registry import ModelSpec, get_spec, list_models, register_model
from .torchvision_weights import looks_like_enum_name
from .weights import load_into, read_weights

__all__ = ["LayerRecord", "LoadedModel", "ModelSpec", "Preprocessing", "get_spec", "list_models", "load_model", "register_model"]


@dataclass
class LoadedModel:
    """A network ready for inspection: in eval mode, with its preprocessing and class names.

    ``weights`` says where the parameters came from; ``meta`` is the training snapshot's description
    (architecture, epoch, metrics, ...) when the weights came from a deconvviz snapshot, else ``{}``.
    """

    name: str
    net: nn.Module
    preprocessing: Preprocessing
    class_names: list[str]
    weights: str
    meta: dict = field(default_factory=dict)
    _layers: list | None = field(default=None, repr=False)

    @property
    def trained(self) -> bool:
        """Return whether the parameters came from a weights file rather than random initialisation."""
        return self.weights != RANDOM

    @property
    def random_weights(self) -> bool:
        """Return whether the parameters are random (captions and the app say "random weights" then)."""
        return not self.trained

    @property
    def label(self) -> str:
        """Return the name for captions and titles: ``name``, with " (random weights)" when they are random."""
        return f"{self.name} (random weights)" if self.random_weights else self.name

    @property
    def device(self) -> torch.device:
        """Return the device the network's parameters live on."""
        return next(self.net.parameters()).device

    def preprocess(self, image: Image.Image) -> torch.Tensor:
        """Return the image as the model's normalised input tensor (1, C, H, W) on the model's device."""
        return self.preprocessing(image).to(self.device)

    def class_name(self, index: int) -> str:
        """Return the name of class ``index`` (``"class N"`` when the model has no names)."""
        return self.class_names[index] if index < len(self.class_names) else f"class {index}"

    def blank_input(self) -> torch.Tensor:
        """Return an all-mean input (1, C, H, W): zeros after normalisation."""
        h, w = self.preprocessing.size
        return torch.zeros(1, self.preprocessing.channels, h, w, device=self.device)

    def layers(self) -> list:
        """Return the layer tree's rows (:class:`~deconvviz.models.layers.LayerRecord`) in call order."""
        if self._layers is None:
            with torch.no_grad():
                self._layers = record_calls(self.net, self.blank_input())[1]
        return self._layers

    def to(self, device: str | torch.device) -> "LoadedModel":
        """Move the network to ``device`` and return self."""
        self.net.to(device)
        return self


RANDOM = "random initialisation"


def load_model(name: str, weights: str | Path | None = None, device: str | torch.device = "cpu",
               download: bool = False) -> LoadedModel:
    """Return the model registered as ``name`` with ``weights`` (a file) or its default weights, in eval mode.

    ``name`` may also be a deconvviz snapshot file (``.safetensors``), which names its own architecture.
    For ``torchvision:NAME``, ``weights`` may be a torchvision weights name (``DEFAULT``, ``IMAGENET1K_V1``,
    ...), read from torchvision's cache, or downloaded there first when ``download`` is True; for
    ``timm:NAME``, ``DEFAULT``: its pretrained weights in the Hugging Face cache (downloaded likewise).
    Raises DeconvvizError for an unknown name or a weights file that cannot be read or does not fit.
    """
    device = torch_device(device)
    meta: dict = {}
    state = None
    if weights is None and str(name).endswith(".safetensors") and Path(name).is_file():
        weights = name
    if weights is not None and looks_like_enum_name(str(weights)) and not Path(weights).exists():
        return _load_named(name, str(weights), device, download)
    if weights is not None:
        state, meta = read_weights(weights)
        if weights == name:
            if "architecture" not in meta:
                raise DeconvvizError(f"{name} is not a deconvviz snapshot; give --model NAME --weights {name}")
            name = meta["architecture"]
    spec = get_spec(name)
    prep = Preprocessing.from_dict(meta["preprocessing"]) if "preprocessing" in meta else spec.preprocessing
    class_names = list(meta.get("class_names") or spec.class_names)
    build_kwargs = {}
    if class_names and len(class_names) != len(spec.class_names):
        build_kwargs["num_classes"] = len(class_names)
    if prep.channels != spec.preprocessing.channels:
        build_kwargs["in_channels"] = prep.channels
    with torch.random.fork_rng(devices=[]):  # the caller's random state is left as it was
        torch.manual_seed(0)  # random weights are the same on every load, so a figure's command redraws it
        net = spec.build(**build_kwargs)
    source = RANDOM
    if state is None:
        default = spec.default_weights()
        if default is not None and not Path(default).is_file():
            raise DeconvvizError(f"{spec.name}: its bundled weights file is missing: {default} "
                                 f"(the installation is incomplete; reinstall deconvviz)")
        if default is not None:
            state, meta2 = read_weights(default)
            meta = meta or meta2
            source = spec.weights_note
    else:
        source = str(weights)
    if state is not None:
        load_into(net, state, source)
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    model = LoadedModel(spec.name, net, prep, class_names, source, meta).to(device)
    if spec.user_code:
        check_forward(model)
    return model


def _load_named(name: str, weights: str, device, download: bool) -> LoadedModel:
    """Return torchvision model ``name`` with its pretrained weights ``weights`` from torchvision's cache."""
    from . import torchvision_weights as tvw

    spec = get_spec(name)
    if spec.timm_name:
        return _load_timm(spec, weights, device, download)
    if not spec.torchvision_arch:
        raise DeconvvizError(f"{spec.name} has no named weights ({weights} is a torchvision weights name, for "
                             f"torchvision:NAME models); give a weights file")
    arch = spec.torchvision_arch
    enum_member = tvw.resolve(arch, weights)
    state, path = tvw.fetch_state(enum_member, arch, weights, download)
    net = tvw.build(arch, enum_member, state, path)
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    source = f"torchvision {arch} {enum_member.name}" + (" (DEFAULT)" if weights == "DEFAULT" else "")
    meta = {"torchvision_weights": str(enum_member), "file": str(path)}
    return LoadedModel(spec.name, net, tvw.preprocessing(enum_member), list(tvw.class_names(enum_member)),
                       source, meta).to(device)


def _load_timm(spec: ModelSpec, weights: str, device, download: bool) -> LoadedModel:
    """Return timm model ``spec`` with its pretrained weights from the Hugging Face cache (``weights``: DEFAULT)."""
    from . import timm_models

    name = spec.timm_name
    if weights != "DEFAULT":
        raise DeconvvizError(f"timm models take --weights DEFAULT or a weights file, not {weights!r}; the tag "
                             f"after the dot picks timm's weights (e.g. timm:resnet50.a1_in1k)")
    state, path = timm_models.fetch_state(name, download)
    try:
        net = timm_models.build(name, state=state)
    except RuntimeError as exc:  # timm's strict load_state_dict: missing or unexpected keys, mismatched shapes
        detail = " ".join(str(exc).split())[:300]
        raise DeconvvizError(f"{path} does not fit timm's {name} (delete it and use --download to fetch it "
                             f"again): {detail}") from None
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    repo = timm_models.hub_file(name)[0]
    meta = {"timm_weights": repo, "file": str(path)}
    return LoadedModel(spec.name, net, spec.preprocessing, list(spec.class_names), f"timm {name} ({repo})",
                       meta).to(device)


def check_forward(model: LoadedModel) -> None:
    """Run ``model`` once on its blank input; raise DeconvvizError unless it returns class scores (1, N).

    The single place where a user's ``forward`` meets every command: an exception or a wrong output
    (a feature map, a tuple) becomes a one-line message here instead of a traceback, or nonsense
    probabilities, later in whichever command runs the model.
    """
    try:
        with torch.no_grad():
            out = model.net(model.blank_input())
    except Exception as exc:  # the user's code may raise anything
        raise DeconvvizError(f"{model.name}: model raised {type(exc).__name__}: {exc}") from None
    if not isinstance(out, torch.Tensor) or out.dim() != 2 or out.shape[0] != 1:
        got = f"shape {tuple(out.shape)}" if isinstance(out, torch.Tensor) else f"a {type(out).__name__}"
        raise DeconvvizError(f"{model.name}: forward returned {got}; deconvviz needs class scores "
                             f"of shape (1, classes)")
