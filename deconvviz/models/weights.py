"""Reading weight files safely, and checking that they fit a network.

Nothing here unpickles arbitrary objects: ``.safetensors`` files are read with safetensors, every other
file with ``torch.load(weights_only=True)``, which refuses pickles that would construct anything but
tensors and plain containers.
"""

from __future__ import annotations

import json
import pickle
import re
import zipfile
from pathlib import Path

import torch
from torch import nn

from ..errors import DeconvvizError

META_KEY = "deconvviz"  # safetensors metadata entry holding our JSON description


def read_weights(path: str | Path) -> tuple[dict[str, torch.Tensor], dict]:
    """Return ``(state_dict, meta)`` from a weights file; ``meta`` is our snapshot description or ``{}``."""
    path = Path(path)
    if not path.is_file():
        raise DeconvvizError(f"weights file not found: {path}")
    if path.suffix == ".safetensors":
        state, meta = _read_safetensors(path)
    else:
        state, meta = _read_torch(path), {}
    return _strip_prefix(state), meta


def _read_safetensors(path: Path) -> tuple[dict[str, torch.Tensor], dict]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file, safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            header = f.metadata() or {}
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise DeconvvizError(f"{path.name} is not a readable safetensors file ({exc})") from None
    try:
        meta = json.loads(header[META_KEY]) if META_KEY in header else {}
    except ValueError as exc:
        raise DeconvvizError(f"{path.name}: its {META_KEY!r} metadata is not JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise DeconvvizError(f"{path.name}: its {META_KEY!r} metadata is not a JSON object")
    return state, meta


def _read_torch(path: Path) -> dict[str, torch.Tensor]:
    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(exc))
        if found is None:  # not a pickle of anything: garbage, or another format
            raise DeconvvizError(f"{path.name} is not a readable PyTorch weights file (truncated or corrupt?)") from None
        raise DeconvvizError(
            f"refused to load {path.name}: it holds a Python object ({found.group(1)}), not only tensors, and "
            f"unpickling it could run code. deconvviz loads only tensors (safetensors or a plain state_dict)"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError) as exc:
        raise DeconvvizError(f"{path.name} is not a readable PyTorch weights file (truncated or corrupt?): {exc}") from None
    except Exception as exc:  # the unpickler meets arbitrary bytes with any error (KeyError for a text file)
        raise DeconvvizError(f"{path.name} is not a readable PyTorch weights file (truncated or corrupt?): "
                             f"{type(exc).__name__} {exc}") from None
    return _find_state_dict(obj, path)


def _find_state_dict(obj, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(obj, dict):
        for key in ("state_dict", "model_state_dict", "model"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
        tensors = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
        if tensors:
            return tensors
    raise DeconvvizError(f"{path.name} holds no state_dict (a dict of parameter names to tensors)")


def _strip_prefix(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    # DistributedDataParallel and torch.compile save parameters under a wrapper's prefix.
    for prefix in ("module.", "_orig_mod."):
        if state and all(k.startswith(prefix) for k in state):
            state = {k[len(prefix):]: v for k, v in state.items()}
    return state


def load_into(net: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Load ``state`` into ``net``, or raise DeconvvizError naming missing, unexpected and mismatched keys."""
    expected = net.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    mismatched = [
        f"{k} (file {tuple(state[k].shape)}, model {tuple(v.shape)})"
        for k, v in expected.items()
        if k in state and state[k].shape != v.shape
    ]
    if missing or unexpected or mismatched:
        parts = []
        for label, keys in (("missing keys", missing), ("unexpected keys", unexpected), ("mismatched shapes", mismatched)):
            if keys:
                shown = ", ".join(keys[:6]) + (f", ... ({len(keys)} in all)" if len(keys) > 6 else "")
                parts.append(f"{label}: {shown}")
        raise DeconvvizError(f"weights {source} do not fit this model; " + "; ".join(parts))
    net.load_state_dict({k: v.to(expected[k].dtype) for k, v in state.items()})


def write_safetensors(path: str | Path, state: dict[str, torch.Tensor], meta: dict | None = None) -> None:
    """Write tensors (and our JSON metadata) atomically: a temporary file in the same folder, then a rename."""
    from safetensors.torch import save_file

    from ..atomic import atomic_path

    tensors = {k: v.detach().contiguous().cpu() for k, v in state.items()}
    header = {META_KEY: json.dumps(meta)} if meta is not None else None
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=header)
