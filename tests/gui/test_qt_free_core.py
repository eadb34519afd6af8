"""Only the widgets need Qt: every other module (and the backend's synchronous core) imports without it."""

from __future__ import annotations

import subprocess
import sys

from deconvviz.paths import ROOT

QT_FREE = """
import importlib, pkgutil, sys
sys.modules['PySide6'] = None  # any Qt import now fails
import deconvviz
names = [m.name for m in pkgutil.walk_packages(deconvviz.__path__, 'deconvviz.')
         if not m.name.startswith('deconvviz.gui.') and m.name != 'deconvviz.__main__']
names += ['deconvviz.gui.compute', 'deconvviz.gui.messages', 'deconvviz.gui.occlusion_adapter']
for name in names:
    importlib.import_module(name)
print(len(names))
"""


def test_core_modules_import_without_qt():
    done = subprocess.run([sys.executable, "-c", QT_FREE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 10
