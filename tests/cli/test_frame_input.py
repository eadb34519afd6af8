"""``--image VIDEO --frame N``: every command taking a picture reads frame N of a video (zf-fmnist, a clip made here)."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from PIL import Image

from deconvviz.analyses.actmax import class_saliency
from deconvviz.cli import main
from deconvviz.data.video import open_video, read_frame
from deconvviz.figures.png import read_facts
from deconvviz.models import load_model
from tests.clips import clip_frames, write_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", clip_frames(24), fps=10)


@pytest.fixture(scope="module")
def decoded(clip):
    with open_video(clip) as video:
        return list(video.frames())


def test_read_frame_is_the_frame_of_that_index_in_order(clip, decoded):
    for index in (0, 1, 9, 17, 23):  # the first, one past a keyframe's start, and the last
        got = read_frame(clip, index)
        assert (got.index, got.time_s) == (index, decoded[index].time_s)
        assert np.array_equal(got.pixels, decoded[index].pixels)


@pytest.mark.parametrize("index", [24, 1000, -1])
def test_a_frame_the_video_lacks_is_one_line_naming_the_range(clip, tmp_path, capsys, index):
    out = tmp_path / "s.png"
    assert main(["saliency", "--model", "zf-fmnist", "--image", str(clip), f"--frame={index}", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"deconvviz: error: clip.mp4 has no frame {index} (its frames: 0 to 23)"
    assert not out.exists()


def test_saliency_of_a_frame_is_the_saliency_of_its_pixels_and_names_it(clip, decoded, tmp_path):
    out = tmp_path / "s.png"
    assert main(["saliency", "--model", "zf-fmnist", "--image", str(clip), "--frame", "9", "--out", str(out),
                 "--npy", str(tmp_path / "s.npy")]) == 0
    model = load_model("zf-fmnist")
    x = model.preprocess(decoded[9].image())
    assert np.allclose(np.load(tmp_path / "s.npy"), class_saliency(model, x, None).map.numpy())
    facts = read_facts(out)
    assert (facts["video"], facts["frame"], float(facts["time_s"])) == (str(clip), "9", pytest.approx(0.9))
    assert facts["image"] == "clip.mp4 frame 9 at 0.90 s" and facts["Title"].endswith(" · clip.mp4 frame 9 at 0.90 s")
    assert f"--image {clip} --frame 9 --out {out}" in facts["command"]


def test_invariance_reads_the_first_of_its_images_as_a_frame(clip, tmp_path):
    from deconvviz.data.images import sample_photos

    photo = str(sample_photos()[0])
    out, table = tmp_path / "i.png", tmp_path / "i.csv"
    assert main(["invariance", "--model", "zf-fmnist", "--images", str(clip), photo, "--frame", "4",
                 "--range=-2,0,2", "--out", str(out), "--csv", str(table)]) == 0
    rows = list(csv.DictReader(table.open()))
    assert [r["image"] for r in rows[:3]] == ["clip.mp4 frame 4 at 0.40 s"] * 3 and rows[3]["image"] != rows[0]["image"]
    model = load_model("zf-fmnist")
    with torch.no_grad():
        p = torch.softmax(model.net(model.preprocess(read_frame(clip, 4).image())), 1)[0]
    assert float(rows[1]["p(true class)"]) == pytest.approx(float(p.max()), abs=1e-4)  # untransformed
    with Image.open(out) as image:
        image.verify()
