"""``deconvviz sanity`` and ``deconvviz faithfulness`` end to end on the bundled zf-fmnist and a sneaker."""

import csv

import pytest

from deconvviz.cli import main
from deconvviz.figures.png import read_facts

IMAGE = "resources/correspondence/sneaker-0009.png"


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_sanity_writes_the_csv_columns_and_the_panel(tmp_path):
    out, table = tmp_path / "s.png", tmp_path / "s.csv"
    argv = ["sanity", "--model", "zf-fmnist", "--image", IMAGE, "--methods", "guided,saliency", "--seed", "3",
            "--csv", str(table), "--out", str(out)]
    assert main(argv) == 0
    rows = _rows(table)
    assert rows[0][:4] == ["method", "randomised", "spearman", "ssim"]
    assert rows[0][4:] == ["spearman_signed", "hog", "step", "test"]
    body = rows[1:]
    assert [r[0] for r in body] == ["guided"] * 9 + ["saliency"] * 9  # 8 parametrised layers + "none"
    assert body[0][1] == "none" and body[9][1] == "none" and body[1][1] == "classifier.6" and body[8][1] == "features.0"
    assert all(float(v) == 1.0 for v in body[0][2:6])
    facts = read_facts(out)
    assert facts["command"].startswith("deconvviz sanity") and facts["test"] == "cascading"
    assert facts["verdicts"].splitlines()[0].startswith("guided: ")


def test_sanity_of_a_layer_channel_independently(tmp_path):
    table = tmp_path / "l.csv"
    argv = ["sanity", "--model", "zf-fmnist", "--image", IMAGE, "--layer", "features.8", "--channel", "5",
            "--methods", "deconvnet", "--test", "independent", "--csv", str(table), "--out", str(tmp_path / "l.png")]
    assert main(argv) == 0
    body = _rows(table)[1:]
    # the classifier and features.10/12 come after features.8: randomising them leaves its projection alone
    assert [float(r[2]) for r in body[1:6]] == [1.0] * 5
    assert all(float(r[2]) < 1.0 for r in body[6:])


@pytest.mark.parametrize("extra", [["--methods", "guided,gradcm"], ["--layer", "features.8"],
                                   ["--layer", "nope", "--channel", "0"], ["--class", "no-such-class"],
                                   ["--layer", "features.8", "--channel", "999"]])
def test_sanity_bad_input_exits_2_and_writes_nothing(tmp_path, extra, capsys):
    out, table = tmp_path / "s.png", tmp_path / "s.csv"
    argv = ["sanity", "--model", "zf-fmnist", "--image", IMAGE, *extra, "--csv", str(table), "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("deconvviz: error: ") and len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_a_layer_and_a_class_exclude_each_other(tmp_path):
    argv = ["sanity", "--model", "zf-fmnist", "--image", IMAGE, "--layer", "features.8", "--channel", "5",
            "--class", "3", "--csv", str(tmp_path / "s.csv"), "--out", str(tmp_path / "s.png")]
    with pytest.raises(SystemExit) as exc:  # argparse's usage error
        main(argv)
    assert exc.value.code == 2 and list(tmp_path.iterdir()) == []


def test_faithfulness_writes_curves_and_aucs(tmp_path):
    out, table = tmp_path / "f.png", tmp_path / "f.csv"
    argv = ["faithfulness", "--model", "zf-fmnist", "--image", IMAGE, "--steps", "4", "--random", "1",
            "--csv", str(table), "--out", str(out)]
    assert main(argv) == 0
    rows = _rows(table)
    assert rows[0] == ["map", "fraction", "deletion", "insertion", "deletion_auc", "insertion_auc"]
    assert [r[0] for r in rows[1:]] == ["occlusion"] * 5 + ["saliency"] * 5 + ["random"] * 5
    assert [float(r[1]) for r in rows[1:6]] == [0.0, 0.25, 0.5, 0.75, 1.0]
    # nothing deleted is the image itself; everything deleted is the grey image, whatever the order
    assert rows[1][2] == rows[6][2] == rows[11][2] and rows[5][2] == rows[10][2] == rows[15][2]
    assert "deletion AUC" in read_facts(out)["aucs"]


@pytest.mark.parametrize("extra", [["--maps", "occlusion,lime"], ["--steps", "0"], ["--target", "99"]])
def test_faithfulness_bad_input_exits_2_and_writes_nothing(tmp_path, extra):
    argv = ["faithfulness", "--model", "zf-fmnist", "--image", IMAGE, *extra, "--csv", str(tmp_path / "f.csv"),
            "--out", str(tmp_path / "f.png")]
    assert main(argv) == 2
    assert list(tmp_path.iterdir()) == []
