"""Numbers as text: CSV files (written atomically) and aligned tables for the terminal."""

from __future__ import annotations

import csv
from pathlib import Path

from .atomic import atomic_path


def write_csv(path: str | Path, header: list[str], rows: list[list]) -> Path:
    """Write ``header`` and ``rows`` as CSV at ``path`` atomically and return the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows([[_cell(v) for v in row] for row in rows])
    return path


def _cell(v) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def format_table(header: list[str], rows: list[list]) -> str:
    """Return the rows as an aligned plain-text table with a header line."""
    cells = [header] + [[_cell(v) if not isinstance(v, str) else v for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
