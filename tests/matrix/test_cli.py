"""The matrix through the CLI (in-process ``main``): an image file, a paused clip frame (``--frame``) and a whole
clip (``deconvviz video``) x every layer kind x the commands that take a layer. Every run either writes its
files (exit 0) or, where the combination is not meaningful, exits 2 with one line naming why."""

from __future__ import annotations

import csv

import pytest
from PIL import Image

from deconvviz.cli import main
from deconvviz.data.images import default_photo
from deconvviz.figures.png import read_facts

from .kinds import KINDS

PHOTO = str(default_photo())
FASHION = "resources/fashion-mnist-subset"


def inputs(source, clip):
    """Return the input options for ``source``: the photo, or the clip's frame 3."""
    return ["--image", PHOTO] if source == "image" else ["--image", str(clip), "--frame", "3"]


def one_line(capsys, *needles):
    """Assert stderr is one error line containing each of ``needles``; return it."""
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("deconvviz: error: "), err
    for needle in needles:
        assert needle in err, err
    return err


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("source", ["image", "paused"])
def test_maps(kind, source, clip, tmp_path):
    k, out = KINDS[kind], tmp_path / "maps.png"
    assert main(["maps", "--model", k.model, *inputs(source, clip), "--layer", k.layer, "--out", str(out)]) == 0
    facts = read_facts(out)
    assert facts["layer"] == k.layer and f" · {k.shape[0]} feature maps" in facts["Title"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("source", ["image", "paused"])
def test_project(kind, source, clip, tmp_path):
    k, out = KINDS[kind], tmp_path / "project.png"
    argv = ["project", "--model", k.model, *inputs(source, clip), "--layer", k.layer, "--channel", str(k.channel),
            "--out", str(out)]
    assert main(argv) == 0
    facts = read_facts(out)
    assert facts["layer"] == k.layer and facts["channel"] == str(k.channel)
    with Image.open(out) as png:
        assert png.size[0] >= 32 and png.size[1] >= 32


def test_project_a_position_of_a_unit_is_one_line(capsys, tmp_path):
    k, out = KINDS["1-D"], tmp_path / "project.png"
    argv = ["project", "--model", k.model, "--image", PHOTO, "--layer", k.layer, "--channel", "5",
            "--position", "1,2", "--out", str(out)]
    assert main(argv) == 2 and not out.exists()
    one_line(capsys, "position (1, 2) on layer 'classifier.0', whose 10 units have no maps")


@pytest.mark.parametrize("kind", KINDS)
def test_occlusion_with_a_layer(kind, capsys, tmp_path):
    k, out = KINDS[kind], tmp_path / "occlusion.png"
    argv = ["occlusion", "--model", k.model, "--image", PHOTO, "--patch", "8", "--stride", "8", "--layer", k.layer,
            "--out", str(out)]
    if not k.spatial:
        assert main(argv) == 2 and not out.exists()
        one_line(capsys, "layer 'classifier.0' has no spatial feature maps")
        return
    assert main(argv) == 0
    assert read_facts(out)["layer"] == k.layer


@pytest.mark.parametrize("kind", KINDS)
def test_topk(kind, capsys, tmp_path):
    k, out = KINDS[kind], tmp_path / "topk"
    argv = ["topk", "--model", k.model, "--data", FASHION, "--layer", k.layer, "--channels", f"{k.channel}",
            "--k", "2", "--limit", "6", "--out", str(out)]
    if not k.spatial:
        assert main(argv) == 2
        one_line(capsys, "layer 'classifier.0' has no spatial maps", "the top-k index needs a layer with maps")
        return
    assert main(argv) == 0
    pngs = sorted(out.rglob("*.png"))
    assert pngs and read_facts(pngs[0])["layer"] == k.layer


@pytest.mark.parametrize("kind", KINDS)
def test_actmax(kind, tmp_path):
    k, out = KINDS[kind], tmp_path / "actmax.png"
    argv = ["actmax", "--model", k.model, "--layer", k.layer, "--channel", str(k.channel), "--steps", "3",
            "--out", str(out)]
    assert main(argv) == 0
    facts = read_facts(out)
    assert k.layer in facts["Title"] and f"channel {k.channel}" in facts["Title"]


@pytest.mark.parametrize("kind", KINDS)
def test_sanity(kind, tmp_path):
    k, out, table = KINDS[kind], tmp_path / "sanity.png", tmp_path / "sanity.csv"
    argv = ["sanity", "--model", k.model, "--image", PHOTO, "--layer", k.layer, "--channel", str(k.channel),
            "--methods", "deconvnet,saliency", "--test", "independent", "--csv", str(table), "--out", str(out)]
    assert main(argv) == 0
    with open(table) as f:
        rows = list(csv.DictReader(f))
    assert rows and {r["method"] for r in rows} == {"deconvnet", "saliency"}
    assert out.exists()


@pytest.mark.parametrize("kind", KINDS)
def test_invariance(kind, tmp_path):
    k, out = KINDS[kind], tmp_path / "invariance.png"
    argv = ["invariance", "--model", k.model, "--images", PHOTO, "--transform", "translate", "--range", "0,4",
            "--layers", k.layer, "--out", str(out)]
    assert main(argv) == 0
    assert k.layer in read_facts(out)["layers"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("channel", [False, True], ids=["maps", "projection"])
def test_video(kind, channel, clip, tmp_path):
    k, table, out = KINDS[kind], tmp_path / "v.csv", tmp_path / "panels"
    argv = ["video", "--model", k.model, "--video", str(clip), "--csv", str(table), "--every", "4",
            "--layer", k.layer, "--out", str(out)] + (["--channel", str(k.channel)] if channel else [])
    assert main(argv) == 0
    with open(table) as f:
        assert [r["frame"] for r in csv.DictReader(f)] == ["0", "4", "8"]
    pngs = sorted(out.glob("frame-*.png"))
    assert [p.name for p in pngs] == ["frame-000000.png", "frame-000004.png", "frame-000008.png"]
    facts = read_facts(pngs[1])
    assert facts["layer"] == k.layer and facts["channel"] == (str(k.channel) if channel else "")
