"""Opening image files the user names, safely: bounded size, correct orientation, clear messages."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import DeconvvizError
from ..paths import PHOTOS, bundled

# Pillow's decompression-bomb threshold (about 89 megapixels): beyond any photo a person inspects, far below
# what exhausts memory. Images declaring more are refused from their header, before any decoding.
MAX_PIXELS = Image.MAX_IMAGE_PIXELS


@dataclass(frozen=True, eq=False)
class Picture:
    """An input already read: its ``name`` for captions and tables, and its PIL ``image`` (RGB or L)."""

    name: str
    image: Image.Image


def as_picture(item: "str | Path | Picture") -> Picture:
    """Return ``item`` as a Picture: an image file read with :func:`load_image` (named by its file name), a
    Picture as it is (a video frame read elsewhere)."""
    return item if isinstance(item, Picture) else Picture(Path(item).name, load_image(item))


def load_image(path: str | Path) -> Image.Image:
    """Return the image at ``path`` as an RGB or L PIL image, upright per its EXIF orientation.

    A path that does not exist may name a bundled file (:func:`~deconvviz.paths.bundled`). Raises
    DeconvvizError for a missing file, a file that is not a readable image (truncated, corrupt,
    unknown format) or one that declares more than MAX_PIXELS pixels (a decompression bomb).
    """
    path = bundled(path)
    if path.is_dir():
        raise DeconvvizError(f"{path} is a folder, not an image (name an image file in it)")
    if not path.is_file():
        raise DeconvvizError(f"image not found: {path}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.load()
                image = ImageOps.exif_transpose(image)
                return _to_display_mode(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DeconvvizError(f"{path.name} is too large to open safely (a decompression bomb?): {exc}") from None
    except UnidentifiedImageError as exc:
        raise DeconvvizError(f"{path.name} is not an image deconvviz can read ({exc})") from None
    except (OSError, ValueError, SyntaxError, EOFError, TypeError, IndexError, MemoryError) as exc:
        raise DeconvvizError(f"{path.name} could not be read as an image (truncated or corrupt?): {exc}") from None


def _to_display_mode(image: Image.Image) -> Image.Image:
    if image.mode in ("RGB", "L"):
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16/32-bit greyscale: scale the full range to 8 bits rather than clipping at 255.
        import numpy as np

        pixels = np.asarray(image, dtype=np.float64)
        top = pixels.max() or 1.0
        return Image.fromarray((pixels / top * 255).round().astype("uint8"), "L")
    if image.mode in ("LA", "La"):
        return image.convert("L")
    return image.convert("RGB")


def sample_photos() -> list[Path]:
    """Return the bundled photos (see resources/photos/LICENSES.md)."""
    return sorted(p for p in PHOTOS.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))


def default_photo() -> Path:
    """Return the photo the app opens first."""
    return PHOTOS / "coffee.png"
