"""The package's layering, over every import (at module level or inside a function, absolute or relative):

- imports run downhill through LAYERS, so ``gui/`` never imports ``cli/`` and the engine never imports a figure;
- nothing outside deconvviz/gui imports Qt: every other module (the session and its compute core included)
  imports with Qt made unimportable.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import deconvviz

PACKAGE = Path(deconvviz.__file__).parent

# Top to bottom. A module may import its own top-level package and any package in a lower layer; nothing in
# its own layer, nothing above. "__main__" is every __main__.py (entry points that run the CLI); "deconvviz" is
# the package's own __init__, the public Python API, which re-exports from the layers below it (and must not
# import the app: `import deconvviz` stays Qt-free). The CLI sits above the app because with no subcommand it
# opens the app; the app never runs CLI code. api.py wraps engine functions for a LoadedModel, as analyses do.
LAYERS = [
    ("__main__",),
    ("cli",),
    ("gui", "deconvviz"),
    ("session",),
    ("figures",),
    ("analyses", "train", "api"),
    ("engine",),
    ("data",),
    ("models",),
    ("npy", "tables", "devices"),
    ("atomic",),
    ("errors", "paths"),
]
RANK = {name: i for i, names in enumerate(LAYERS) for name in names}


def module_name(path: Path) -> str:
    """Return the dotted module name of a file under the package (``deconvviz.gui`` for gui/__init__.py)."""
    parts = ("deconvviz",) + path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(module: str, is_package: bool, source: str):
    """Yield (line, dotted name) of every import in ``source``, relative ones resolved against ``module``."""
    here = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = here[:len(here) - node.level + 1] if node.level else []
            if node.module:
                yield node.lineno, ".".join(base + node.module.split("."))
            else:  # from . import x: x may be a module
                for alias in node.names:
                    yield node.lineno, ".".join(base + [alias.name])


def layer_of(module: str) -> str:
    """Return the LAYERS name of a deconvviz module: its top-level package, "__main__", or "deconvviz"."""
    parts = module.split(".")
    if parts[-1] == "__main__":
        return "__main__"
    return parts[1] if len(parts) > 1 else "deconvviz"


def uphill(module: str, is_package: bool, source: str) -> list[str]:
    """Return one line per import in ``source`` (the text of ``module``) that breaks the layer order."""
    src = layer_of(module)
    bad = []
    for line, name in imported(module, is_package, source):
        if name.split(".")[0] != "deconvviz":
            continue
        dst = layer_of(name)
        if dst == src:
            continue
        if src not in RANK or dst not in RANK:
            bad.append(f"{module}:{line} imports {name}: put {src if src not in RANK else dst!r} in LAYERS")
        elif RANK[dst] <= RANK[src]:
            bad.append(f"{module}:{line} imports {name}: {src} may not import {dst} "
                       f"({'same layer' if RANK[dst] == RANK[src] else 'uphill'})")
    return bad


def test_every_import_runs_downhill():
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        bad += uphill(module_name(path), path.name == "__init__.py", path.read_text(encoding="utf-8"))
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("module, is_package, source", [
    ("deconvviz.gui.analyses.base", False, "def f():\n    from ...cli import main\n"),  # inside a function
    ("deconvviz.models", True, "from .registry import get_spec\nfrom ..engine.probe import probe\n"),
    ("deconvviz.analyses.evolution", False, "import deconvviz.train.history\n"),
    ("deconvviz.engine.deconv", False, "from .. import figures\n"),
    ("deconvviz.analyses.topk", False, "from ..train import train\n"),  # sideways, same layer
    ("deconvviz.errors", False, "from deconvviz import load_model\n"),  # the public API from below
    ("deconvviz.engine.deconv", False, "from ..plugins import x\n"),  # a package LAYERS does not place
])
def test_an_uphill_import_is_caught(module, is_package, source):
    assert len(uphill(module, is_package, source)) == 1


def test_downhill_and_own_package_imports_pass():
    assert uphill("deconvviz.session.compute", False, "from .recipes import MapsRecipe\nfrom . import messages\n"
                  "from ..figures.png import tile\nimport deconvviz.errors\n") == []
    assert uphill("deconvviz.cli", True, "def f():\n    from ..gui.app import run_app\n") == []


def test_core_imports_without_qt():
    modules = sorted(
        "deconvviz." + ".".join(p.relative_to(PACKAGE).with_suffix("").parts)
        for p in PACKAGE.rglob("*.py")
        if "gui" not in p.relative_to(PACKAGE).parts and p.name != "__main__.py"  # __main__ would run a command
    )
    modules = [m.removesuffix(".__init__") for m in modules]
    script = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('PySide6', 'PyQt5', 'PyQt6', 'pyqtgraph', 'shiboken6'):\n"
        "            raise ImportError('Qt is not allowed below deconvviz.gui: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import importlib\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          cwd=PACKAGE.parent)
    assert done.returncode == 0, done.stderr[-2000:]
