"""Where the repository's bundled files live."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESOURCES = ROOT / "resources"
WEIGHTS = ROOT / "weights"
PHOTOS = RESOURCES / "photos"
