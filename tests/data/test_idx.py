"""IDX reading: round trips, and every kind of corruption gives a DeconvvizError naming the file."""

import gzip

import numpy as np
import pytest

from deconvviz.data.idx import encode_idx, parse_idx, read_idx, read_idx_pair, write_idx_gz
from deconvviz.errors import DeconvvizError


def test_round_trip_gz_and_plain(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx_gz(tmp_path / "a.gz", images)
    (tmp_path / "b").write_bytes(encode_idx(images))
    assert np.array_equal(read_idx(tmp_path / "a.gz"), images)
    assert np.array_equal(read_idx(tmp_path / "b"), images)
    assert encode_idx(images)[:4] == bytes([0, 0, 8, 3])


@pytest.mark.parametrize("raw, words", [
    (b"", "not an IDX file"),
    (b"\x08\x03\x00\x00" + bytes(20), "magic number"),
    (bytes([0, 0, 0x0D, 1]) + (3).to_bytes(4, "big") + bytes(12), "type 0x0d"),
    (bytes([0, 0, 8, 3]) + (2).to_bytes(4, "big"), "truncated inside its header"),
    (bytes([0, 0, 8, 1]) + (10).to_bytes(4, "big") + bytes(9), "holds 9 bytes"),
    (bytes([0, 0, 8, 1]) + (10).to_bytes(4, "big") + bytes(11), "holds 11 bytes"),
])
def test_corrupt_bytes(raw, words):
    with pytest.raises(DeconvvizError, match=words):
        parse_idx(raw, "x.idx")


def test_truncated_gzip_and_missing_file(tmp_path):
    data = gzip.compress(encode_idx(np.zeros((5, 28, 28), np.uint8)))
    (tmp_path / "t.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(DeconvvizError, match="t.gz is not a readable gzip file"):
        read_idx(tmp_path / "t.gz")
    (tmp_path / "plain.gz").write_bytes(encode_idx(np.zeros(3, np.uint8)))
    with pytest.raises(DeconvvizError, match="gzip"):
        read_idx(tmp_path / "plain.gz")
    with pytest.raises(DeconvvizError, match="not found"):
        read_idx(tmp_path / "none.gz")


def test_pair_checks_counts_and_shapes(tmp_path):
    write_idx_gz(tmp_path / "i.gz", np.zeros((4, 2, 2), np.uint8))
    write_idx_gz(tmp_path / "l.gz", np.zeros(3, np.uint8))
    write_idx_gz(tmp_path / "l2.gz", np.zeros((4, 1), np.uint8))
    with pytest.raises(DeconvvizError, match="4 images but l.gz holds 3 labels"):
        read_idx_pair(tmp_path / "i.gz", tmp_path / "l.gz")
    with pytest.raises(DeconvvizError, match="label files are 1-D"):
        read_idx_pair(tmp_path / "i.gz", tmp_path / "l2.gz")
    with pytest.raises(DeconvvizError, match="image files are N x H x W"):
        read_idx_pair(tmp_path / "l.gz", tmp_path / "l.gz")
