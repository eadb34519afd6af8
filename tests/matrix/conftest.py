"""The matrix's shared pieces: a clip made here, and one Compute (the app's backend core) per model and input."""

from __future__ import annotations

import numpy as np
import pytest

from deconvviz.data.images import default_photo
from deconvviz.session import messages as m
from deconvviz.session.compute import Compute
from tests.clips import clip_frames, write_clip

from .kinds import KINDS

CAMERA = "Test camera"


@pytest.fixture(scope="session")
def clip(tmp_path_factory):
    """A 12-frame 64 x 48 clip at 10 frames/s (PyAV's encoder; nothing bundled)."""
    return write_clip(tmp_path_factory.mktemp("matrix-clip") / "clip.mp4", clip_frames(12), fps=10)


def frame_pixels(source: str, index: int) -> np.ndarray:
    """Return the RGB pixels a source delivers: the clip's 64 x 48 frames, the camera's 40 x 30 ones."""
    return clip_frames(index + 1, 40, 30)[-1] if source == CAMERA else clip_frames(index + 1)[-1]


_computes: dict = {}


def held(kind: str, source: str, clip) -> Compute:
    """Return a Compute on ``kind``'s model holding the input ``source`` (image file, paused clip frame, or a
    held frame of a playing clip / camera, as the app keeps it while frames play), built once per pair."""
    model = KINDS[kind].model
    key = (model, source)
    if key not in _computes:
        compute = Compute("cpu")
        (loaded,) = compute.handle(m.LoadModel(1, model))
        assert isinstance(loaded, m.ModelLoaded), getattr(loaded, "message", loaded)
        if source == "image":
            request = m.LoadImage(2, str(default_photo()))
        else:
            path = CAMERA if source == "camera" else str(clip)
            request = m.LoadFrame(2, path, 3, 0.3, frame_pixels(path, 3))
        (image,) = compute.handle(request)
        assert isinstance(image, m.ImageLoaded), getattr(image, "message", image)
        _computes[key] = compute
    return _computes[key]
