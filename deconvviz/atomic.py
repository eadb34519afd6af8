"""Writing files so that a failure never leaves a partial one behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from .errors import DeconvvizError


@contextlib.contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path beside ``path``; on success it is renamed over ``path``, on failure removed.

    Raises DeconvvizError (naming the file and the reason) when the folder cannot be written or the disk is full.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_name, 0o666 & ~umask)  # mkstemp's 0600 would make exports private to their writer
    except OSError as exc:
        raise DeconvvizError(f"cannot write {path}: {exc.strerror or exc}") from None
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DeconvvizError(f"cannot write {path}: {exc.strerror or exc}; nothing was written") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
