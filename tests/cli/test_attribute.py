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
