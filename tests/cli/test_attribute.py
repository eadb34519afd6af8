"""``deconvviz attribute`` end to end on the bundled zf-fmnist and a sneaker."""

import numpy as np
import pytest
from PIL import Image

from deconvviz.cli import main
from deconvviz.figures.png import read_facts

IMAGE = "resources/correspondence/sneaker-0009.png"


@pytest.mark.parametrize("method", ["gradcam", "integrated-gradients", "smoothgrad"])
def test_attribute_writes_the_overlay_its_command_and_the_array(tmp_path, method, capsys):
    out, npy = tmp_path / "a.png", tmp_path / "a.npy"
    argv = ["attribute", "--model", "zf-fmnist", "--image", IMAGE, "--method", method, "--out", str(out),
            "--npy", str(npy)]
    assert main(argv) == 0
    assert method in capsys.readouterr().out
    picture = np.asarray(Image.open(out).convert("RGB"))
    assert picture.shape[1] > picture.shape[0]  # the input beside its overlay and colour bar
    array = np.load(npy)
    assert array.shape == (28, 28) and np.isfinite(array).all() and np.abs(array).max() > 0
    assert "deconvviz attribute" in read_facts(out)["command"]


def test_an_unknown_method_is_one_line_and_exit_2(tmp_path, capsys):
    argv = ["attribute", "--model", "zf-fmnist", "--image", IMAGE, "--method", "gradcam-plus", "--out",
            str(tmp_path / "a.png")]
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    assert not (tmp_path / "a.png").exists()


def test_a_map_that_is_zero_everywhere_says_so(tmp_path, capsys):
    # a model whose scores do not depend on the input, as torchvision's ViT on random weights (its head starts at 0)
    source = tmp_path / "flat.py"
    source.write_text(
        "import torch\n"
        "PREPROCESSING = {'size': [16, 16], 'mode': 'L', 'mean': [0.5], 'std': [0.5]}\n"
        "class Net(torch.nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__(); self.conv = torch.nn.Conv2d(1, 4, 3); self.head = torch.nn.Linear(4, 3)\n"
        "        torch.nn.init.zeros_(self.head.weight); torch.nn.init.zeros_(self.head.bias)\n"
        "    def forward(self, x):\n        return self.head(torch.relu(self.conv(x)).mean((2, 3)))\n"
        "def make():\n    return Net()\n")
    out, npy = tmp_path / "a.png", tmp_path / "a.npy"
    argv = ["attribute", "--model", f"{source}:make", "--image", IMAGE, "--method", "gradcam", "--out", str(out),
            "--npy", str(npy)]
    assert main(argv) == 0
    assert "the map is 0 everywhere" in capsys.readouterr().out
    assert not np.load(npy).any()
    assert read_facts(out)["Title"].endswith("the map is 0 everywhere")
