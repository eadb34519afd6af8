"""The package list and the bundled files' mapping (everything else is in pyproject.toml).

The repository keeps the bundled model and data at the top level (``weights/``, ``resources/``); an
installed deconvviz carries them inside the package as ``deconvviz/_bundled/weights`` and
``deconvviz/_bundled/resources``, where :mod:`deconvviz.paths` looks first. The mapping is setuptools'
own ``package_dir``/``package_data``: one declaration serves the wheel, the sdist (which keeps the
top-level layout, so a wheel built from it maps the same files) and editable installs (which read the
checkout). It lives here and not in pyproject.toml because pyproject's ``packages.find`` cannot be
combined with extra mapped packages, and a hand-written package list would silently drop a new subpackage.
"""

from setuptools import find_packages, setup

# What the app and the CLI read at run time. The README's figures and screenshots (resources/figures,
# resources/screenshot*.png) are documentation: they stay in the sdist but not in the wheel.
BUNDLED = {
    "deconvviz._bundled.weights": ("weights", ["zf-fmnist/**/*", "zf-fmnist-norenorm/**/*"]),
    "deconvviz._bundled.resources": ("resources", [
        "photos/*", "clips/demo.mp4", "clips/LICENSES.md", "correspondence/*", "fashion-mnist-subset/*",
    ]),
}

setup(
    packages=find_packages(include=["deconvviz", "deconvviz.*"]) + list(BUNDLED),
    package_dir={name: folder for name, (folder, _) in BUNDLED.items()},
    package_data={name: patterns for name, (_, patterns) in BUNDLED.items()},
    include_package_data=False,  # only the patterns above: MANIFEST.in adds docs and tests to the sdist alone
)
