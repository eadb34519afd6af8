"""The analysis subcommands end to end on zf-fmnist (random weights) and tiny data."""

import csv
import json

import numpy as np
import pytest
import torch
from PIL import Image

from deconvviz.cli import main
from deconvviz.engine.topk import load_index
from deconvviz.figures.png import read_facts
from deconvviz.models.registry import get_spec
from deconvviz.models.weights import write_safetensors


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(0)
    data = root / "data"
    for c in ("bags", "shoes"):
        (data / c).mkdir(parents=True)
        for i in range(4):
            Image.fromarray(rng.integers(0, 256, (28, 28), dtype=np.uint8), "L").save(data / c / f"{i}.png")
    history = root / "history"
    torch.manual_seed(0)
    net = get_spec("zf-fmnist").build()
    for epoch in (1, 3):
        with torch.no_grad():
            for p in net.parameters():
                p.add_(0.05 * torch.randn_like(p))
        write_safetensors(history / f"epoch-{epoch}.safetensors", net.state_dict(),
                          {"architecture": "zf-fmnist", "epoch": epoch})
    return {"data": data, "history": history, "weights": history / "epoch-3.safetensors",
            "images": [data / "bags" / "0.png", data / "shoes" / "1.png"], "root": root}


def _model(files):
    return ["--model", "zf-fmnist", "--weights", str(files["weights"])]


def test_topk_writes_index_and_panels(files, tmp_path):
    out = tmp_path / "topk"
    argv = ["topk", *_model(files), "--data", str(files["data"]), "--layer", "features.6", "--channels", "1,4",
            "--k", "4", "--batch-size", "3", "--out", str(out)]
    assert main(argv) == 0
    index = load_index(out / "index.npz")
    assert index.n_images == 8 and list(index.channels) == [1, 4] and len(index.entries(4)) == 4
    assert sorted(p.name for p in out.iterdir()) == ["channel-0001.png", "channel-0004.png", "index.npz",
                                                     "overview.png"]
    assert read_facts(out / "overview.png")["command"].startswith("deconvviz topk")


@pytest.mark.parametrize("problem", ["empty data", "flat layer"])
def test_topk_bad_input_exits_2_and_writes_nothing(files, tmp_path, problem, capsys):
    data, layer = files["data"], "features.6"
    if problem == "empty data":
        data = tmp_path / "empty"
        data.mkdir()
    else:
        layer = "classifier.0"
    out = tmp_path / "out"
    assert main(["topk", *_model(files), "--data", str(data), "--layer", layer, "--out", str(out)]) == 2
    assert "error" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())


def test_evolution_has_one_column_per_epoch(files, tmp_path):
    out = tmp_path / "evo.png"
    argv = ["evolution", "--history", str(files["history"]), "--data", str(files["data"]), "--layer", "features.2",
            "--channels", "0-2", "--out", str(out)]
    assert main(argv) == 0
    assert read_facts(out)["epochs"] == "1,3"
    empty = tmp_path / "none"
    empty.mkdir()
    assert main(["evolution", "--history", str(empty), "--data", str(files["data"]), "--layer", "features.2",
                 "--channels", "0", "--out", str(tmp_path / "x.png")]) == 2


def test_invariance_writes_plot_and_csv_with_zero_at_identity(files, tmp_path):
    out, table = tmp_path / "inv.png", tmp_path / "inv.csv"
    argv = ["invariance", *_model(files), "--images", *map(str, files["images"]), "--transform", "rotate",
            "--range", "0,45,90", "--out", str(out), "--csv", str(table)]
    assert main(argv) == 0
    rows = list(csv.DictReader(table.open()))
    assert len(rows) == 6 and rows[0]["amount"] == "0"
    assert float(rows[0]["distance features.3"]) == 0 and float(rows[1]["distance classifier.4"]) > 0
    assert Image.open(out).size[0] > 900


def test_correspondence_validates_parts_and_writes_the_table(files, tmp_path, capsys):
    names = [p.name for p in files["images"]]
    parts = tmp_path / "parts.json"
    table = tmp_path / "corr.csv"
    parts.write_text(json.dumps({n: {"eye": [2, 2, 8, 8], "mouth": [15, 5, 20, 25]} for n in names}))
    argv = ["correspondence", *_model(files), "--images", *map(str, files["images"]), "--parts", str(parts),
            "--random", "2", "--csv", str(table), "--out", str(tmp_path / "parts.png")]
    assert main(argv) == 0
    rows = list(csv.DictReader(table.open()))
    assert [r["part"] for r in rows] == ["eye", "eye", "mouth", "mouth", "random (eye size)", "random (eye size)",
                                         "random (mouth size)", "random (mouth size)"]
    assert "mean feature sign change" in capsys.readouterr().out
    parts.write_text(json.dumps({n: {"eye": [2, 2, 8, 30]} for n in names}))
    table.unlink()
    assert main(argv) == 2
    assert "outside the 28x28 input" in capsys.readouterr().err and not table.exists()


def test_saliency_actmax_and_filters(files, tmp_path):
    image = str(files["images"][0])
    assert main(["saliency", *_model(files), "--image", image, "--target", "3", "--out", str(tmp_path / "s.png"),
                 "--npy", str(tmp_path / "s.npy")]) == 0
    assert np.load(tmp_path / "s.npy").shape == (28, 28)
    assert main(["actmax", *_model(files), "--layer", "features.6", "--channel", "2", "--steps", "3",
                 "--out", str(tmp_path / "a.png")]) == 0
    assert main(["actmax", *_model(files), "--steps", "3", "--out", str(tmp_path / "b.png")]) == 2
    assert main(["filters", *_model(files), "--compare", str(files["history"] / "epoch-1.safetensors"),
                 "--out", str(tmp_path / "f.png")]) == 0
    assert "epoch-1.safetensors" in read_facts(tmp_path / "f.png")["model 2"]


def test_topk_under_torchrun_equals_one_process(files, tmp_path):
    import os
    import socket
    import subprocess
    import sys

    from deconvviz.paths import PACKAGE

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = ["topk", *_model(files), "--data", str(files["data"]), "--layer", "features.2", "--k", "3",
            "--batch-size", "2", "--channels", "0-7"]
    assert main(args + ["--out", str(tmp_path / "one")]) == 0
    env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent), "OMP_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                          "--master_addr", "127.0.0.1", "--master_port", str(port), "-m", "deconvviz", *args,
                          "--out", str(tmp_path / "two")], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    one, two = load_index(tmp_path / "one" / "index.npz"), load_index(tmp_path / "two" / "index.npz")
    assert two.n_images == 8
    for name in ("values", "image", "row", "col"):
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name))
