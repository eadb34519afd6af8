"""Video frame sources: a file decoded with PyAV, frames in memory, and the atomic video writer."""

from __future__ import annotations

import numpy as np
import pytest

from deconvviz.data.video import Frame, MemoryFrames, open_video
from deconvviz.data.video_writer import video_writer
from deconvviz.errors import DeconvvizError
from tests.clips import clip_frames, rotate_mp4, truncated_copy, write_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    frames = clip_frames()
    return write_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", frames), frames


def test_a_file_gives_every_frame_with_its_index_and_time(clip):
    path, originals = clip
    with open_video(path) as video:
        assert (video.fps, video.frame_count, video.width, video.height) == (10.0, 32, 64, 48)
        assert video.duration_s == pytest.approx(3.2)
        frames = list(video.frames())
        assert video.warnings == []
    assert [f.index for f in frames] == list(range(32))
    assert [f.time_s for f in frames] == pytest.approx([i / 10 for i in range(32)])
    for f, original in zip(frames, originals):
        assert f.pixels.shape == (48, 64, 3) and f.pixels.dtype == np.uint8 and not f.pixels.flags.writeable
        # lossy H.264 and 4:2:0 chroma: close to what was encoded, and each frame closest to its own original
        errors = [np.abs(f.pixels.astype(int) - o).mean() for o in originals]
        assert errors[f.index] < 6 and int(np.argmin(errors)) == f.index


def test_seek_gives_the_frame_shown_at_that_time(clip):
    path, _ = clip
    with open_video(path) as video:
        frames = list(video.frames())
        for t, i in [(0.0, 0), (1.04, 10), (1.09, 10), (2.5, 25), (3.1, 31), (99.0, 31)]:
            f = video.seek(t)
            assert f.index == i and f.time_s == pytest.approx(i / 10)
            assert np.array_equal(f.pixels, frames[i].pixels)
        assert [g.index for g in video.frames(start=30)] == [30, 31]


@pytest.mark.parametrize("t", [0.0, 1.09, 2.5, 3.1])
def test_playing_on_from_a_seek_gives_the_same_frames_as_decoding_in_order(clip, t):
    path, originals = clip
    with open_video(path) as video:
        frames = list(video.frames())
        after = list(video.frames_from(t))
    first = int(t * 10 + 1e-9)
    assert [f.index for f in after] == list(range(first, 32))
    assert all(np.array_equal(a.pixels, frames[a.index].pixels) and a.time_s == pytest.approx(frames[a.index].time_s)
               for a in after)
    memory = MemoryFrames("m", originals, fps=10)
    assert [f.index for f in memory.frames_from(t)] == list(range(first, 32))


@pytest.mark.parametrize("content", [np.random.default_rng(0).bytes(20000), b"this is not a video\n" * 50])
def test_a_file_that_is_not_a_video_is_one_error_naming_it(tmp_path, content):
    bad = tmp_path / "holiday.mp4"
    bad.write_bytes(content)
    with pytest.raises(DeconvvizError, match="holiday.mp4"):
        open_video(bad)
    with pytest.raises(DeconvvizError, match="not found"):
        open_video(tmp_path / "missing.mp4")


@pytest.mark.parametrize("name,options,size,says", [
    ("cut.mkv", None, (64, 48), "truncated?"),  # clusters simply end: shorter than the declared duration
    ("cut.mp4", {"movflags": "+faststart"}, (160, 120), "could not be decoded"),  # the index points past the end
])
def test_a_truncated_file_gives_the_frames_that_decode_then_a_warning(tmp_path, name, options, size, says):
    frames = clip_frames(60, *size)
    whole = write_clip(tmp_path / ("whole" + name[-4:]), frames, container_options=options)
    cut = truncated_copy(whole, tmp_path / name)
    with open_video(cut) as video:
        got = list(video.frames())
        assert 0 < len(got) < 60
        assert len(video.warnings) == 1 and name in video.warnings[0] and says in video.warnings[0]
    with open_video(whole) as video:
        reference = list(video.frames())
        assert video.warnings == []
    # each frame keeps its index in the file (x264's threads vary the bytes: a cut may lose a B-frame,
    # leaving a gap) and is that frame of the whole file
    indices = [f.index for f in got]
    assert indices == sorted(set(indices)) and indices[0] == 0 and indices[-1] < 60
    assert len(got) >= indices[-1]  # at most one frame lost in the cut
    for f in got:
        assert np.array_equal(f.pixels, reference[f.index].pixels) and f.time_s == pytest.approx(f.index / 10)


def test_portrait_frames_keep_their_shape(tmp_path):
    frames = [np.ascontiguousarray(f.transpose(1, 0, 2)) for f in clip_frames(8)]  # 48 wide, 64 high
    with open_video(write_clip(tmp_path / "portrait.mp4", frames)) as video:
        assert [f.pixels.shape for f in video.frames()] == [(64, 48, 3)] * 8


def test_a_rotated_track_is_turned_upright(tmp_path):
    frames = clip_frames(4)
    for f in frames:
        f[:12, :16] = 255  # a white block in the stored picture's top-left corner
    stored = write_clip(tmp_path / "stored.mp4", frames)
    with open_video(rotate_mp4(stored, tmp_path / "phone.mp4")) as video:
        assert (video.width, video.height) == (48, 64)
        got = list(video.frames())
    with open_video(stored) as video:
        plain = list(video.frames())
    for g, p in zip(got, plain):  # displayed: turned a quarter clockwise, the block now top-right
        assert np.array_equal(g.pixels, np.rot90(p.pixels, -1))
        assert g.pixels[:16, -12:].min() > 200 and g.pixels[:16, :12].min() < 200


def test_memory_frames_serve_a_sequence_and_a_one_pass_stream():
    frames = clip_frames(5)
    source = MemoryFrames("mem", frames, fps=5)
    assert (source.frame_count, source.duration_s) == (5, 1.0)
    assert [(f.index, f.time_s) for f in source.frames(start=3)] == [(3, 0.6), (4, 0.8)]
    assert source.seek(0.45).index == 2 and source.seek(9).index == 4
    stream = MemoryFrames("camera", iter(frames), fps=5)
    assert stream.frame_count is None
    assert [f.index for f in stream.frames(start=1)] == [1, 2, 3, 4]
    with pytest.raises(DeconvvizError, match="cannot seek"):
        stream.seek(0)
    with pytest.raises(DeconvvizError, match=r"RGB uint8"):
        list(MemoryFrames("grey", [np.zeros((4, 4), np.uint8)]).frames())
    assert isinstance(next(source.frames()), Frame)
    assert frames[0].flags.writeable  # the frames are read-only views; the caller's arrays are untouched


def test_the_writer_round_trips_and_leaves_nothing_after_an_error(tmp_path):
    frames = clip_frames(6, width=63, height=47)  # odd sizes: padded to even for yuv420p
    out = tmp_path / "panels.mp4"
    with video_writer(out, fps=6) as write:
        for f in frames:
            write(f)
    with open_video(out) as video:
        got = list(video.frames())
    assert len(got) == 6 and got[0].pixels.shape == (48, 64, 3)
    assert np.abs(got[2].pixels[:47, :63].astype(int) - frames[2]).mean() < 8
    failed = tmp_path / "failed.mp4"
    with pytest.raises(RuntimeError):
        with video_writer(failed, fps=6) as write:
            write(frames[0])
            raise RuntimeError("interrupted")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["panels.mp4"]
    with pytest.raises(DeconvvizError, match="use one of"):
        with video_writer(tmp_path / "x.gif", fps=6):
            pass
