"""Command-option values and their text: parse "0,3,5-8" into integers, and write values back as text.

Each ``parse_*`` raises DeconvvizError on bad text (the CLI prints it as one line and exits 2); each
``format_*`` writes text that its parser reads back to the same value.
"""

from __future__ import annotations

from ..errors import DeconvvizError


def parse_int_list(text: str) -> tuple[int, ...]:
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
    return tuple(out)


def parse_float_list(text: str) -> tuple[float, ...]:
    """Return the numbers in "a,b,c" or, for "start:stop:count", count evenly spaced numbers."""
    try:
        if ":" in text:
            start, stop, count = text.split(":")
            n = int(count)
            if n < 2:
                raise ValueError
            a, b = float(start), float(stop)
            return tuple(a + (b - a) * i / (n - 1) for i in range(n))
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise DeconvvizError(f"expected numbers like 0,5,10 or START:STOP:COUNT (COUNT >= 2), got {text!r}") from None
    if not values:
        raise DeconvvizError(f"expected at least one number, got {text!r}")
    return values


def parse_position(text: str) -> tuple[int, int]:
    """Return (row, col) from "R,C"; raise DeconvvizError otherwise."""
    try:
        row, col = (int(v) for v in text.split(","))
    except ValueError:
        raise DeconvvizError(f"position must be ROW,COL (two integers), got {text!r}") from None
    return row, col


def format_float(value: float) -> str:
    """Return ``value`` as short text ("0.05", "0", "1e-05"), exact: repr when 6 digits would round it."""
    short = f"{value:g}"
    return short if float(short) == value else repr(float(value))


def format_floats(values) -> str:
    """Return numbers as "a,b,c" (what :func:`parse_float_list` reads back exactly)."""
    return ",".join(format_float(v) for v in values)


def format_ints(values) -> str:
    """Return integers as "a,b,c" (what :func:`parse_int_list` reads back)."""
    return ",".join(str(int(v)) for v in values)


def format_int_ranges(values) -> str:
    """Return integers as "0-31,40" (runs of consecutive ones as ranges; what :func:`parse_int_list` reads back)."""
    values = [int(v) for v in values]
    runs: list[list[int]] = []
    for v in values:
        if runs and v == runs[-1][1] + 1:
            runs[-1][1] = v
        else:
            runs.append([v, v])
    return ",".join(str(a) if a == b else f"{a}-{b}" if b > a + 1 else f"{a},{b}" for a, b in runs)


def format_position(position: tuple[int, int]) -> str:
    """Return (row, col) as "R,C"."""
    return f"{position[0]},{position[1]}"
