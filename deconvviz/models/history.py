"""A training run's history: the names of its per-epoch snapshots, and finding them.

Here, below both, because the trainer writes snapshots and the evolution analysis reads them.
"""

from __future__ import annotations

import re
from pathlib import Path

_SNAPSHOT = re.compile(r"^epoch-(\d+)\.safetensors$")


def snapshot_name(epoch: int) -> str:
    """Return the file name of the snapshot taken after ``epoch``."""
    return f"epoch-{epoch:03d}.safetensors"


def list_snapshots(run_dir: str | Path) -> list[tuple[int, Path]]:
    """Return ``[(epoch, path)]`` of a run's snapshots, sorted by epoch (``[]`` when there are none).

    ``run_dir`` is a run folder (its snapshots are in ``history/``) or the history folder itself.
    """
    run_dir = Path(run_dir)
    folder = run_dir / "history" if (run_dir / "history").is_dir() else run_dir
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _SNAPSHOT.match(p.name)) and p.is_file()]
    return sorted(found)
