"""Argument parsers shared by the analysis subcommands."""

from __future__ import annotations

import sys

from ..errors import DeconvvizError


def parse_int_list(text: str) -> list[int]:
    """Return the integers in "0,3,5-8" (ranges inclusive); raise DeconvvizError otherwise."""
    out: list[int] = []
    try:
        for part in filter(None, (p.strip() for p in text.split(","))):
            if "-" in part[1:]:
                lo, hi = part.split("-", 1) if not part.startswith("-") else (part, "")
                out.extend(range(int(lo), int(hi) + 1))
            else:
                out.append(int(part))
    except ValueError:
        raise DeconvvizError(f"expected integers like 0,3,5-8, got {text!r}") from None
    if not out:
        raise DeconvvizError(f"expected at least one integer, got {text!r}")
    return out


def parse_float_list(text: str) -> list[float]:
    """Return the numbers in "a,b,c" or, for "start:stop:count", count evenly spaced numbers."""
    try:
        if ":" in text:
            start, stop, count = text.split(":")
            n = int(count)
            if n < 2:
                raise ValueError
            a, b = float(start), float(stop)
            return [a + (b - a) * i / (n - 1) for i in range(n)]
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise DeconvvizError(f"expected numbers like 0,5,10 or START:STOP:COUNT (COUNT >= 2), got {text!r}") from None
    if not values:
        raise DeconvvizError(f"expected at least one number, got {text!r}")
    return values


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
