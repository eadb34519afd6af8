"""Nothing below deconvviz/gui imports Qt: every other module (the session and its compute core included)
imports with Qt made unimportable."""

import subprocess
import sys
from pathlib import Path

import deconvviz

PACKAGE = Path(deconvviz.__file__).parent


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
