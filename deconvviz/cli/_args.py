"""What the analysis subcommands share beyond their recipes: progress lines on stderr."""

from __future__ import annotations

import sys


def progress_printer(label: str):
    """Return a progress callback: on a terminal it redraws one line on stderr (``label done/total``);
    in a log it writes a line at every tenth of the way."""
    tty = sys.stderr.isatty()
    state = {"tenth": -1}

    def show(done: int, total: int) -> None:
        finished = bool(total) and done >= total
        if tty:
            print(f"\r{label} {done}/{total or '?'}", end="\n" if finished else "", file=sys.stderr, flush=True)
            return
        tenth = done * 10 // total if total else -1
        if finished or tenth > state["tenth"]:
            state["tenth"] = tenth
            print(f"{label} {done}/{total or '?'}", file=sys.stderr, flush=True)

    return show
