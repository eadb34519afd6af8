"""``deconvviz occlusion`` writes the Fig. 7 panel and the p(target) map; bad input exits 2, writing nothing."""

import numpy as np
from PIL import Image

from deconvviz.cli import main
from deconvviz.figures.png import read_facts

PHOTO = "resources/photos/chelsea.png"


def test_writes_png_and_npy(tmp_path, capsys):
    out, npy = tmp_path / "occ.png", tmp_path / "occ.npy"
    argv = ["occlusion", "--model", "zf-fmnist", "--image", PHOTO, "--patch", "6", "--stride", "2",
            "--target", "Bag", "--out", str(out), "--npy", str(npy)]
    assert main(argv) == 0
    prob = np.load(npy)
    assert prob.shape == ((28 - 6) // 2 + 1,) * 2 and prob.dtype == np.float32
    assert ((prob >= 0) & (prob <= 1)).all()
    facts = read_facts(out)
    assert facts["target"] == "8" and facts["layer"] == "features.13"
    assert facts["command"].startswith("deconvviz occlusion --model zf-fmnist")
    with Image.open(out) as image:
        assert image.width == 5 * 224 + 4 * 8
    assert "p(Bag)" in capsys.readouterr().out


def test_defaults_at_28_px(tmp_path):
    npy = tmp_path / "p.npy"
    assert main(["occlusion", "--model", "zf-fmnist", "--image", PHOTO, "--out", str(tmp_path / "p.png"),
                 "--npy", str(npy)]) == 0
    assert np.load(npy).shape == (12, 12)  # patch 6, stride 2


def test_bad_input_exits_2(tmp_path, capsys):
    out = tmp_path / "bad.png"
    for extra, message in [(["--patch", "40"], "patch"), (["--layer", "classifier.6"], "no spatial"),
                           (["--target", "Giraffe"], "unknown target"), (["--fill", "3"], "fill")]:
        argv = ["occlusion", "--model", "zf-fmnist", "--image", PHOTO, "--out", str(out)] + extra
        assert main(argv) == 2
        assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_approximate_says_so_in_facts_and_command(tmp_path, capsys):
    out, npy = tmp_path / "a.png", tmp_path / "a.npy"
    argv = ["occlusion", "--model", "zf-fmnist", "--image", PHOTO, "--out", str(out), "--npy", str(npy),
            "--approximate", "--coarse", "3", "--drill", "0.5"]
    assert main(argv) == 0
    facts = read_facts(out)
    assert facts["approximate"] == "field 1, coarse 3, drill 0.5"
    assert (facts["field"], facts["coarse"], facts["drill"]) == ("1", "3", "0.5")
    assert 0 < float(facts["computed_fraction"]) < 1
    assert facts["command"].endswith("--approximate --coarse 3 --drill 0.5")
    assert "approximate: field 1, coarse 3" in capsys.readouterr().out
    assert np.load(npy).shape == (12, 12)
    exact = tmp_path / "e.png"
    assert main(["occlusion", "--model", "zf-fmnist", "--image", PHOTO, "--out", str(exact)]) == 0
    assert "approximate" not in read_facts(exact)


def test_knob_without_approximate_exits_2(tmp_path, capsys):
    for extra, message in [(["--field", "0.5"], "--field needs --approximate"),
                           (["--approximate", "--field", "2"], "field"),
                           (["--approximate", "--coarse", "0"], "coarse")]:
        argv = ["occlusion", "--model", "zf-fmnist", "--image", PHOTO, "--out", str(tmp_path / "x.png")] + extra
        assert main(argv) == 2
        assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
