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


def test_all_layers_writes_a_grid_per_layer_and_fills_the_apps_cache(tmp_path, monkeypatch, capsys):
    from deconvviz import load_model
    from deconvviz.session import featvis_cache as cache
    from deconvviz.session.featvis_tiles import FeatvisParams, featvis_job

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    net = tmp_path / "tinynet.py"
    net.write_text("import torch\nimport torch.nn as nn\n"
                   "PREPROCESSING = {'size': [16, 16], 'mode': 'L', 'mean': [0.5], 'std': [0.25]}\n"
                   "def build():\n    torch.manual_seed(0)\n"
                   "    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 12, 3),\n"
                   "                         nn.AdaptiveAvgPool2d(1), nn.Flatten())\n")
    model = f"{net}:build"
    out, npy = tmp_path / "grids", tmp_path / "arrays"
    assert main(["featvis", "--model", model, "--all-layers", "--channels", "0-9", "--steps", "3", "--size", "16",
                 "--out", str(out), "--npy", str(npy)]) == 0
    layers = ["0", "1", "2", "3", "4"]  # the two maps layers of 4 channels, then 12 channels up to the vector
    assert sorted(p.name for p in out.iterdir()) == [f"{n}.png" for n in layers]
    assert [np.load(npy / f"{n}.npy").shape[0] for n in layers] == [4, 4, 10, 10, 10]  # --channels within each
    assert "--layer 2 --channels 0-9" in read_facts(out / "2.png")["command"]
    assert len(list((tmp_path / "xdg" / "deconvviz" / "featvis").glob("*.npy"))) == 38
    assert "5 layers" in capsys.readouterr().out

    # the app's grid job for a layer finds the command's pictures: the same key, the same picture
    m = load_model(model)
    params = FeatvisParams(steps=3, size=16)
    key = cache.picture_key(cache.weights_hash(m.net), "2", 7, **params.key_params())
    from_cli = cache.load(key)
    assert from_cli is not None
    reports = []
    featvis_job("2", [7], params, tmp_path / "fresh", None)(m, lambda *a: reports.append(a), lambda: False)
    fresh = cache.load(key, tmp_path / "fresh")
    assert float((fresh - from_cli).abs().max()) <= 1e-6
    assert np.array_equal(np.load(npy / "2.npy")[7], from_cli.numpy())


def test_all_layers_bad_input_is_one_line(tmp_path, capsys):
    out = str(tmp_path / "x")
    assert main(["featvis", "--model", "zf-fmnist", "--all-layers", "--objective", "class", "--out", out]) == 2
    assert "--all-layers takes --objective channel" in capsys.readouterr().err
    assert main(["featvis", "--model", "zf-fmnist", "--layer", "features.12", "--out", out]) == 2
    assert "--channels is needed (or --all-layers)" in capsys.readouterr().err
