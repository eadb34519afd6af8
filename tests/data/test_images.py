"""Opening images: every format and mode a user may bring, and hostile bytes, give an image or a clear error."""

import io
import struct
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from deconvviz.data.images import MAX_PIXELS, load_image
from deconvviz.errors import DeconvvizError

PHOTO = "resources/photos/chelsea.png"


def _save(tmp_path, image: Image.Image, name: str, **kwargs):
    path = tmp_path / name
    image.save(path, **kwargs)
    return path


@pytest.mark.parametrize("mode, fmt, name", [
    ("RGB", "PNG", "a.png"), ("RGB", "JPEG", "a.jpg"), ("RGB", "BMP", "a.bmp"), ("RGB", "TIFF", "a.tif"),
    ("P", "GIF", "a.gif"), ("P", "PNG", "p.png"), ("CMYK", "JPEG", "cmyk.jpg"), ("LA", "PNG", "la.png"),
    ("RGBA", "PNG", "rgba.png"), ("L", "PNG", "l.png"), ("I;16", "PNG", "16.png"), ("1", "PNG", "bw.png"),
])
def test_every_mode_opens_as_rgb_or_grey(tmp_path, mode, fmt, name):
    source = Image.open(PHOTO).convert("RGB").resize((64, 48))
    image = source.convert("I;16") if mode == "I;16" else source.convert(mode)
    loaded = load_image(_save(tmp_path, image, name, format=fmt))
    assert loaded.mode in ("RGB", "L") and loaded.size == (64, 48)
    if mode == "I;16":
        assert np.asarray(loaded).max() == 255  # the 16-bit range is scaled, not clipped


def test_exif_orientation_is_applied(tmp_path):
    image = Image.new("RGB", (60, 20), "red")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    loaded = load_image(_save(tmp_path, image, "rotated.jpg", format="JPEG", exif=exif.tobytes()))
    assert loaded.size == (20, 60)


def test_decompression_bomb_is_refused_without_decoding(tmp_path):
    # A valid PNG header that declares 30000 x 30000 pixels, with a tiny body.
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 100))
                     + chunk(b"IEND", b""))
    assert 30000 * 30000 > MAX_PIXELS
    with pytest.raises(DeconvvizError, match="bomb.png is too large to open safely"):
        load_image(bomb)
    # Above the warning threshold but below Pillow's hard limit: refused too.
    header = struct.pack(">IIBBBBB", 12000, 12000, 8, 2, 0, 0, 0)
    bomb.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 100))
                     + chunk(b"IEND", b""))
    with pytest.raises(DeconvvizError, match="bomb.png is too large to open safely"):
        load_image(bomb)


def test_missing_and_truncated_files(tmp_path):
    with pytest.raises(DeconvvizError, match="image not found"):
        load_image(tmp_path / "absent.png")
    with pytest.raises(DeconvvizError, match="is a folder, not an image"):
        load_image(tmp_path)
    data = open(PHOTO, "rb").read()
    cut = tmp_path / "cut.png"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(DeconvvizError, match="cut.png"):
        load_image(cut)


def _valid_image_bytes() -> list[bytes]:
    out = []
    source = Image.open(PHOTO).convert("RGB").resize((32, 24))
    for fmt, mode in (("PNG", "RGB"), ("JPEG", "RGB"), ("BMP", "RGB"), ("GIF", "P"), ("TIFF", "RGB"), ("PNG", "LA")):
        buf = io.BytesIO()
        source.convert(mode).save(buf, format=fmt)
        out.append(buf.getvalue())
    return out


VALID = _valid_image_bytes()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    which=st.integers(0, len(VALID) - 1),
    cut=st.floats(0.0, 1.0),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 255)), max_size=8),
)
def test_fuzzed_files_give_an_image_or_a_clear_error(tmp_path, which, cut, flips):
    data = bytearray(VALID[which][: max(1, int(len(VALID[which]) * cut))] if cut < 0.98 else VALID[which])
    for where, value in flips:
        data[int(where * (len(data) - 1))] = value
    path = tmp_path / "fuzz.img"
    path.write_bytes(bytes(data))
    try:
        image = load_image(path)
    except DeconvvizError as exc:
        assert "fuzz.img" in str(exc)
    else:
        assert image.mode in ("RGB", "L") and image.width * image.height <= MAX_PIXELS


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=2048))
def test_random_bytes(tmp_path, data):
    path = tmp_path / "random.png"
    path.write_bytes(data)
    try:
        load_image(path)
    except DeconvvizError:
        pass
