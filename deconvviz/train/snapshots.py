"""What a run writes: weight snapshots (safetensors), the resume state, and the per-epoch metrics log.

Every file is written atomically (a temporary file beside it, then a rename), so a failed write leaves the
previous version intact.
"""

from __future__ import annotations

import csv
import io
import pickle
import zipfile
from pathlib import Path

import torch
from torch import nn

from ..atomic import atomic_path
from ..errors import DeconvvizError
from ..models.weights import write_safetensors

RESUME_FILE = "resume.pt"
METRICS_FILE = "metrics.csv"
METRIC_FIELDS = ("epoch", "train_loss", "train_top1", "val_loss", "val_top1", "val_top5", "lr", "seconds",
                 "images_per_s")


def write_snapshot(path: Path, net: nn.Module, meta: dict, dtype: torch.dtype = torch.float32) -> None:
    """Write ``net``'s parameters and buffers (as ``dtype``, floats only) with ``meta`` to ``path`` atomically."""
    state = {k: (v.to(dtype) if v.is_floating_point() else v) for k, v in net.state_dict().items()}
    write_safetensors(path, state, meta)


def write_resume(path: Path, state: dict) -> None:
    """Write the resume state (tensors and plain Python values only) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def read_resume(path: Path) -> dict:
    """Return the resume state saved by :func:`write_resume`; raise DeconvvizError when it cannot be read."""
    if not path.is_file():
        raise DeconvvizError(f"nothing to resume: {path} does not exist (start the run without --resume)")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError) as exc:
        raise DeconvvizError(f"{path} is not a readable resume file (truncated or corrupt?): {exc}") from None


def write_metrics(path: Path, rows: list[dict]) -> None:
    """Write the per-epoch metrics ``rows`` as CSV (columns METRIC_FIELDS) to ``path`` atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=METRIC_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _fmt(row.get(k)) for k in METRIC_FIELDS})
    with atomic_path(path) as tmp:
        tmp.write_text(buffer.getvalue(), encoding="utf-8")


def read_metrics(path: str | Path) -> list[dict]:
    """Return the rows of a metrics CSV as dicts of numbers (``epoch`` an int)."""
    with open(path, newline="", encoding="utf-8") as f:
        return [{k: (int(v) if k == "epoch" else float(v)) for k, v in row.items() if v not in ("", None)}
                for row in csv.DictReader(f)]


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
