"""Torch device names as users type them (``--device``)."""

from __future__ import annotations

import torch

from .errors import DeconvvizError


def torch_device(name: str | torch.device, valid: str = "cpu, cuda, cuda:N") -> torch.device:
    """Return ``name`` ("cpu", "cuda", "cuda:1", ...) as a torch device this machine has; DeconvvizError, naming
    the ``valid`` ones, for a name torch does not know or a CUDA device that is not there."""
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise DeconvvizError(f"unknown device {name!r}; valid: {valid}") from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise DeconvvizError(f"device {name} asked for, but this machine has no usable CUDA GPU; use --device cpu")
        if device.index is not None and device.index >= count:
            raise DeconvvizError(f"device {name} asked for, but this machine has {count} CUDA GPU(s): "
                                 f"cuda:0..cuda:{count - 1}")
    return device
