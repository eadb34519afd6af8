"""The headless commands, run as a user would: output, files written, and exit code 2 on bad input."""

import subprocess
import sys

import numpy as np
import pytest

from deconvviz.cli import main
from deconvviz.figures.png import read_facts

PHOTO = "resources/photos/coffee.png"


def test_layers_prints_the_tree(capsys):
    assert main(["layers", "--model", "zf-fmnist"]) == 0
    out = capsys.readouterr().out
    assert "features.2" in out and "MaxPool2d" in out and "32x14x14" in out


def test_project_writes_png_and_npy(tmp_path, capsys):
    out, npy = tmp_path / "p.png", tmp_path / "p.npy"
    argv = ["project", "--model", "zf-fmnist", "--image", PHOTO, "--layer", "features.6", "--channel", "3",
            "--out", str(out), "--npy", str(npy)]
    assert main(argv) == 0
    array = np.load(npy)
    assert array.shape == (1, 28, 28) and array.dtype == np.float32 and np.abs(array).sum() > 0
    facts = read_facts(out)
    assert facts["layer"] == "features.6" and facts["channel"] == "3"
    assert facts["command"].startswith("deconvviz project --model zf-fmnist")
    assert main(argv[:-4] + ["--top-k", "4", "--out", str(tmp_path / "k.png")]) == 0
    assert main(argv[:-4] + ["--map", "--mode", "guided", "--out", str(tmp_path / "m.png")]) == 0


@pytest.mark.parametrize("args, message", [
    (["--layer", "features.99", "--channel", "0"], "unknown layer 'features.99'"),
    (["--layer", "features.6", "--channel", "64"], "channel 64 out of range for layer 'features.6': valid 0..63"),
    (["--layer", "features.6", "--channel", "0", "--position", "30,1"], "position (30, 1) outside"),
    (["--layer", "features.6", "--channel", "0", "--position", "a,b"], "position must be ROW,COL"),
    (["--layer", "features.6", "--channel", "0", "--top-k", "0"], "top_k must be between 1 and 64"),
])
def test_bad_input_is_one_line_and_exit_code_2(tmp_path, capsys, args, message):
    out = tmp_path / "never.png"
    code = main(["project", "--model", "zf-fmnist", "--image", PHOTO, "--out", str(out)] + args)
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_not_an_image_and_unknown_model(tmp_path, capsys):
    fake = tmp_path / "notes.png"
    fake.write_text("not a picture")
    assert main(["project", "--model", "zf-fmnist", "--image", str(fake), "--layer", "features.0",
                 "--channel", "0", "--out", str(tmp_path / "x.png")]) == 2
    assert "notes.png is not an image deconvviz can read" in capsys.readouterr().err
    assert main(["layers", "--model", "resnet-9000"]) == 2
    assert "unknown model 'resnet-9000'" in capsys.readouterr().err


def test_console_entry_point_runs_as_a_module():
    done = subprocess.run([sys.executable, "-m", "deconvviz", "layers", "--model", "nope"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.startswith("deconvviz: error: unknown model 'nope'")


def test_the_deconvviz_program_holds_its_heap_and_importing_deconvviz_does_not():
    script = ("import sys, deconvviz.cli as cli, deconvviz.engine.heap as heap\n"
              "sys.argv = ['deconvviz', 'layers', '--model', 'zf-fmnist']\n"
              "print('before', heap.held()); code = cli.entry(); print('after', heap.held(), code)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "before False" and lines[-1] == f"after {heap_applies()} 0"
    assert "features.0" in out.stdout  # the command itself ran


def heap_applies() -> bool:
    from deconvviz.engine import heap

    return heap._LIBC is not None
