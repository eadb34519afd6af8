"""The big torchvision architectures (random weights) through the CLI: one command each by default.

Each architecture runs ``maps`` at a layer in its middle (tokens for ViT, channels-last for Swin and
ConvNeXt, 299-px input for Inception v3): loading, the probe, the layer's layout and a PNG. The full matrix
of every model command on every architecture takes about 20 minutes on two CPU cores: set
DECONVVIZ_FULL_MATRIX=1 to run it here, or run ``python -m bench.model_matrix``.
"""

import os

import pytest
from PIL import Image

from bench.model_matrix import LAYERS, commands
from deconvviz.cli import main

FULL = os.environ.get("DECONVVIZ_FULL_MATRIX") == "1"
NAMES = ("layers", "maps", "project", "project-position", "project-top-k", "project-map", "occlusion", "saliency",
         "actmax", "filters", "topk", "invariance", "correspondence", "evaluate") if FULL else ("maps",)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("arch", list(LAYERS))
def test_command_runs_on_big_architecture(arch, name, tmp_path, capsys):
    for cls in ("tench", "goldfish"):  # the evaluate command's two-image test split
        (tmp_path / "eval" / "test" / cls).mkdir(parents=True)
        Image.new("RGB", (64, 64), (120, 90, 60)).save(tmp_path / "eval" / "test" / cls / "a.png")
    argv = commands(arch, LAYERS[arch], tmp_path)[name]
    assert main(argv) == 0, capsys.readouterr().err
    if name == "maps":
        out = Image.open(tmp_path / "maps.png")
        assert out.width > 100 and out.height > 100
