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


def bundled(path: str | Path) -> Path:
    """Return ``path`` where it exists; else the bundled file it names, so that the README's examples work
    from any folder with an installed deconvviz: a path under ``resources/`` or ``weights/`` (read from
    ``ROOT``), or a bundled photo by its name with or without its suffix (``coffee``, ``rocket.jpg``).
    Return ``path`` unchanged where neither exists (the caller's "not found" message then names it)."""
    path = Path(path)
    if path.exists() or path.is_absolute():
        return path
    candidates = [ROOT / path]
    if len(path.parts) == 1:
        candidates += [PHOTOS / path] + [PHOTOS / f"{path.name}{suffix}" for suffix in (".png", ".jpg")]
    return next((c for c in candidates if c.exists()), path)
