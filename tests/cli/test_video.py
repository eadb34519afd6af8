"""``deconvviz video``: one CSV row per analysed frame, equal to a direct per-frame computation."""

from __future__ import annotations

import csv

import pytest
import torch

from deconvviz.cli import main
from deconvviz.data.video import open_video
from deconvviz.figures.png import read_facts
from tests.clips import clip_frames, truncated_copy, write_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_clip(tmp_path_factory.mktemp("clip") / "clip.mkv", clip_frames())


@pytest.fixture(scope="module")
def direct(clip):
    """Each frame's (index, time, top class, label, p), computed on its own: preprocess, forward, softmax."""
    from deconvviz import load_model

    model = load_model("zf-fmnist")
    rows = []
    with open_video(clip) as video, torch.no_grad():
        for f in video.frames():
            p = torch.softmax(model.net(model.preprocess(f.image())), 1)[0]
            top = int(p.argmax())
            rows.append((f.index, f.time_s, top, model.class_name(top), float(p[top])))
    return rows


def _rows(path):
    with open(path, newline="") as f:
        reader = csv.reader(f)
        assert next(reader) == ["frame", "time_s", "class", "label", "p"]
        return [(int(a), float(b), int(c), d, float(e)) for a, b, c, d, e in reader]


def _same(got, want):
    assert [r[0] for r in got] == [r[0] for r in want]
    for g, w in zip(got, want):
        assert g[1] == pytest.approx(w[1], abs=1e-6) and g[2:4] == w[2:4] and g[4] == pytest.approx(w[4], abs=1e-6)


def test_every_frame_equals_the_direct_computation(clip, direct, tmp_path, capsys):
    out = tmp_path / "frames.csv"
    assert main(["video", "--model", "zf-fmnist", "--video", str(clip), "--csv", str(out)]) == 0
    got = _rows(out)
    assert len(got) == 32 and len({r[2] for r in direct}) > 1  # the clip changes class: a real check
    _same(got, direct)
    assert "wrote" in capsys.readouterr().out


def test_every_n_and_panels_as_pngs(clip, direct, tmp_path):
    out, panels = tmp_path / "frames.csv", tmp_path / "panels"
    argv = ["video", "--model", "zf-fmnist", "--video", str(clip), "--csv", str(out), "--every", "5",
            "--layer", "features.14", "--channel", "5", "--out", str(panels)]
    assert main(argv) == 0
    _same(_rows(out), direct[::5])
    pngs = sorted(panels.iterdir())
    assert [p.name for p in pngs] == [f"frame-{i:06d}.png" for i in range(0, 32, 5)]
    facts = read_facts(pngs[1])
    assert (facts["video"], facts["frame"], facts["channel"]) == (str(clip), "5", "5")
    assert float(facts["time_s"]) == pytest.approx(0.5) and facts["command"] == "deconvviz " + " ".join(argv)


def test_panels_as_a_video(clip, tmp_path):
    out = tmp_path / "panels.mp4"
    assert main(["video", "--model", "zf-fmnist", "--video", str(clip), "--csv", str(tmp_path / "f.csv"),
                 "--every", "4", "--layer", "features.7", "--out", str(out)]) == 0
    with open_video(out) as video:
        frames = list(video.frames())
    assert len(frames) == 8 and video.fps == pytest.approx(2.5)


@pytest.mark.parametrize("content", [bytes(range(256)) * 64, b"not a video at all\n" * 40])
def test_not_a_video_is_one_line_exit_2_and_no_csv(tmp_path, capsys, content):
    bad = tmp_path / "clip.mp4"
    bad.write_bytes(content)
    out = tmp_path / "frames.csv"
    assert main(["video", "--model", "zf-fmnist", "--video", str(bad), "--csv", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "clip.mp4" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]


def test_a_truncated_file_gives_the_decoded_frames_rows_then_a_warning(clip, direct, tmp_path, capsys):
    cut = truncated_copy(clip, tmp_path / "cut.mkv")
    out = tmp_path / "frames.csv"
    assert main(["video", "--model", "zf-fmnist", "--video", str(cut), "--csv", str(out)]) == 0
    got = _rows(out)
    assert 0 < len(got) < 32
    _same(got, [direct[row[0]] for row in got])  # rows of the frames that decoded, each by its index
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "cut.mkv" in warnings[0]


def test_a_bad_channel_writes_nothing(clip, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["video", "--model", "zf-fmnist", "--video", str(clip), "--csv", str(out / "f.csv"),
            "--layer", "features.14", "--channel", "9999", "--out", str(out / "panels.mp4")]
    assert main(argv) == 2
    assert "channel 9999 out of range" in capsys.readouterr().err
    assert not out.exists() or list(out.iterdir()) == []  # not even a temporary file
