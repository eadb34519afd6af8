"""Where the paper's numbered layers are in any network: the first conv block (its "layer 1"), the last
conv block ("layer 5") and the penultimate layer ("layer 7"), found from the layer records of a probe."""

from __future__ import annotations

from torch import nn

from ..errors import DeconvvizError
from .probe import LayerRecord, split_call_name

_BLOCK_TAIL = ("ReLU", "ReLU6", "LeakyReLU", "ELU", "GELU", "SiLU", "Hardswish", "Hardtanh", "Sigmoid", "Tanh",
               "BatchNorm2d", "GroupNorm", "LayerNorm", "LocalResponseNorm", "MaxPool2d", "AvgPool2d")
_PASS_THROUGH = ("Dropout", "Dropout2d", "Flatten", "Identity")


def _leaves(net: nn.Module, records: list[LayerRecord]) -> list[LayerRecord]:
    """Return the records of modules without children, and of convolutions (some wrap a padding module)."""
    modules = dict(net.named_modules())
    return [r for r in records if "Conv" in r.type_name
            or not any(True for _ in modules[split_call_name(r.name)[0]].children())]


def first_block(net: nn.Module, records: list[LayerRecord]) -> str:
    """Return the last layer of the first convolution's block: the conv and its rectifier, pool and norm."""
    leaves = _leaves(net, records)
    for i, r in enumerate(leaves):
        if "Conv" in r.type_name:
            j = i
            while j + 1 < len(leaves) and leaves[j + 1].type_name in _BLOCK_TAIL and leaves[j + 1].spatial:
                j += 1
            return leaves[j].name
    raise DeconvvizError("the model has no convolution, so it has no first conv block")


def last_conv_block(net: nn.Module, records: list[LayerRecord]) -> str:
    """Return the last layer whose output is feature maps larger than 1x1 (the paper's layer 5)."""
    for r in reversed(_leaves(net, records)):
        if r.spatial and r.map_shape[1] * r.map_shape[2] > 1:
            return r.name
    raise DeconvvizError("the model has no layer with spatial feature maps")


def penultimate(net: nn.Module, records: list[LayerRecord]) -> str:
    """Return the layer feeding the classifier's last linear layer (the paper's layer 7), past dropout/flatten."""
    leaves = _leaves(net, records)
    last_linear = max((i for i, r in enumerate(leaves) if r.type_name == "Linear"), default=None)
    if last_linear is None or last_linear == 0:
        raise DeconvvizError("the model has no final linear layer, so no penultimate layer; name one with --layers")
    i = last_linear - 1
    while i > 0 and leaves[i].type_name in _PASS_THROUGH:
        i -= 1
    return leaves[i].name
