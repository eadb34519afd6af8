"""Writes are atomic: a failure (read-only folder, full disk, an error mid-write) leaves no file behind."""

import os

import numpy as np
import pytest

from deconvviz.atomic import atomic_path
from deconvviz.errors import DeconvvizError
from deconvviz.figures.png import Panel, save_panel


def test_success_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with atomic_path(target) as tmp:
        tmp.write_text("new")
        assert target.read_text() == "old"
    assert target.read_text() == "new"
    assert os.listdir(tmp_path) == ["out.txt"]
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)


def test_an_error_mid_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["out.txt"]


def test_read_only_folder_is_a_clear_message(tmp_path, monkeypatch):
    import errno
    import tempfile

    def denied(*args, **kwargs):  # what mkstemp raises in a read-only folder (tests may run as root)
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    with pytest.raises(DeconvvizError, match="cannot write .*x.png: Permission denied"):
        save_panel(Panel(np.zeros((4, 4, 3), np.uint8)), tmp_path / "x.png")
    assert os.listdir(tmp_path) == []


def test_a_file_in_place_of_the_folder_is_a_clear_message(tmp_path):
    (tmp_path / "taken").write_text("")
    with pytest.raises(DeconvvizError, match="cannot write"):
        save_panel(Panel(np.zeros((4, 4, 3), np.uint8)), tmp_path / "taken" / "x.png")


def test_full_disk_is_a_clear_message_and_leaves_nothing(tmp_path):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    # Writing to /dev/full fails with ENOSPC, as a full disk does; point the temporary file at it.
    target = tmp_path / "panel.png"
    with pytest.raises(DeconvvizError, match="No space left on device"):
        with atomic_path(target) as tmp:
            tmp.unlink()
            tmp.symlink_to("/dev/full")
            with open(tmp, "wb") as f:
                f.write(b"x" * 65536)
                f.flush()
    assert not target.exists() and os.listdir(tmp_path) == []
