"""glibc's malloc told to serve large blocks from its heap for the length of a feature visualisation.

By default glibc maps every block above its mmap threshold (at most 32 MiB) afresh from the kernel and unmaps
it when freed, so each step's large activations (8 x 96 x 112 x 112 floats, 38.5 MiB, on efficientnet-lite0 at
224 px) fault in every page again: measured on 2 cores, allocating, filling and clamping such a tensor took 45 ms
against 2.7 ms from a kept heap. Inside :func:`kept_heap` the threshold is 1 GiB and freed memory is not
trimmed, so the blocks are reused; on leaving, the thresholds are set where glibc's own adjustment ends after
freeing large blocks (32 MiB, trim at twice that) and the free memory is given back to the system
(``malloc_trim``). Elsewhere than glibc it does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import threading

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
KEPT_MMAP, KEPT_TRIM = 1 << 30, (1 << 31) - 1
AFTER_MMAP, AFTER_TRIM = 32 << 20, 64 << 20  # glibc's DEFAULT_MMAP_THRESHOLD_MAX, and its trim rule (x 2)

_lock = threading.Lock()
_depth = 0


def _libc():
    """Return glibc (with ``mallopt`` and ``malloc_trim``), or None elsewhere."""
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return lib if hasattr(lib, "mallopt") and hasattr(lib, "malloc_trim") else None
    except OSError:
        return None


_LIBC = _libc()


@contextlib.contextmanager
def kept_heap():
    """Run the block with large blocks served from a kept heap (see the module docstring). Nested or
    concurrent blocks share one setting; the last to leave gives the memory back. Yields whether it applies."""
    global _depth
    if _LIBC is None:
        yield False
        return
    with _lock:
        _depth += 1
        if _depth == 1:
            _LIBC.mallopt(M_MMAP_THRESHOLD, KEPT_MMAP)
            _LIBC.mallopt(M_TRIM_THRESHOLD, KEPT_TRIM)
    try:
        yield True
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _LIBC.mallopt(M_MMAP_THRESHOLD, AFTER_MMAP)
                _LIBC.mallopt(M_TRIM_THRESHOLD, AFTER_TRIM)
                _LIBC.malloc_trim(0)
