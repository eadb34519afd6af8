"""``deconvviz featvis`` and ``deconvviz actmax --method``: the grid PNG, its command, the .npy, bad input."""

import numpy as np
from PIL import Image

from deconvviz.cli import main, parse_recipe
from deconvviz.figures.png import read_facts


def test_featvis_writes_a_grid_that_carries_its_command(tmp_path):
    out, npy = tmp_path / "g.png", tmp_path / "g.npy"
    argv = ["featvis", "--model", "zf-fmnist", "--layer", "features.12", "--channels", "0-2,5", "--steps", "4",
            "--size", "24", "--diversity", "2", "--out", str(out), "--npy", str(npy)]
    assert main(argv) == 0
    images = np.load(npy)
    assert images.shape == (8, 3, 24, 24) and 0 <= images.min() and images.max() <= 1
    facts = read_facts(out)
    assert "--channels 0-2,5" in facts["command"]
    assert parse_recipe(facts["command"].split()[1:]) == parse_recipe(argv)  # the command round-trips
    assert Image.open(out).size[0] > 2 * 24


def test_actmax_methods(tmp_path):
    base = ["actmax", "--model", "zf-fmnist", "--layer", "features.12", "--channel", "1", "--steps", "3"]
    assert main(base + ["--out", str(tmp_path / "f.png")]) == 0
    assert "--method featvis" in read_facts(tmp_path / "f.png")["command"]
    assert main(base + ["--method", "pixel", "--out", str(tmp_path / "p.png")]) == 0
    assert "--method pixel" in read_facts(tmp_path / "p.png")["command"]


def test_bad_featvis_input_is_one_line(tmp_path, capsys):
    out = str(tmp_path / "x.png")
    assert main(["featvis", "--model", "zf-fmnist", "--layer", "features.12", "--channels", "99", "--steps", "1",
                 "--out", out]) == 2
    err = capsys.readouterr().err
    assert "channel 99 out of range" in err and len(err.strip().splitlines()) == 1
    assert main(["featvis", "--model", "zf-fmnist", "--channels", "0", "--out", out]) == 2
    assert "needs --layer" in capsys.readouterr().err
