"""Work around PySide6 6.12 on CPython < 3.12: its bindings drop a reference to None (every void Qt call)
and to True/False (every ``Signal.emit``) without taking one, as if they were immortal, which they are
only from Python 3.12 on. Left alone, a session of a few thousand Qt calls aborts with
"Fatal Python error: none_dealloc" (or bool_dealloc). Giving the three singletons a reference count no
session can exhaust makes them as good as immortal, which is what the bindings assume.
"""

from __future__ import annotations

import ctypes
import platform
import sys

_PINNED = 1 << 40


def pin_singletons() -> bool:
    """Make None, True and False effectively immortal on CPython < 3.12; return whether anything was done."""
    if sys.version_info >= (3, 12) or platform.python_implementation() != "CPython":
        return False
    for obj in (None, True, False):
        count = ctypes.c_ssize_t.from_address(id(obj))  # ob_refcnt is a PyObject's first field
        if count.value < _PINNED:
            count.value += _PINNED
    return True
