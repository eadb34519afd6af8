"""Where the bundled files (the trained model, photos, the demo clip, the Fashion-MNIST subset) live.

An installed deconvviz (a wheel) carries them inside the package, in ``deconvviz/_bundled/`` (setup.py maps
them there); a checkout, editable installs included, has them at the repository's top level. ``ROOT`` is
whichever of the two holds ``weights/`` and ``resources/``; file names shown relative to it
(``resources/photos/coffee.png``) read the same in both.
"""

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def bundle_root(package: Path = PACKAGE) -> Path:
    """Return the folder holding ``weights/`` and ``resources/``: ``package/_bundled`` when installed, else
    the checkout's top level (the package's parent)."""
    installed = package / "_bundled"
    return installed if installed.is_dir() else package.parent


ROOT = bundle_root()
RESOURCES = ROOT / "resources"
WEIGHTS = ROOT / "weights"
PHOTOS = RESOURCES / "photos"
