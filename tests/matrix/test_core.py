"""The matrix through the app's backend core (Compute, no Qt): every input x every layer kind x the grid, the
deconvnet pane (each mode and selection), the live square, the occlusion map and the exports.

Inputs: an image file and a paused clip frame are held inputs (LoadImage / LoadFrame, then LayerMaps, Project,
Occlude, OcclusionMap, Export); a playing clip frame and a camera frame (the camera's stand-in: 40 x 30 frames
named "Test camera") are analysed one pass each (AnalyseFrame), which is the path ``deconvviz video`` takes too.
Each cell compares with a reading of the layer written by hand in ``kinds.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from deconvviz.figures.png import read_facts
from deconvviz.session import messages as m

from .conftest import CAMERA, frame_pixels, held
from .kinds import INPUTS, KINDS, raw_output, reference_maps

HELD = ("image", "paused")
LIVE = ("playing", "camera")
MODES = ("deconvnet", "guided", "backprop")
SELECTIONS = ("strongest", "position", "top-k", "whole map")
POSITION = (1, 2)
SQUARE = (4, 6, 8)  # top, left, size


def one(results, kind=None):
    """Return the one result, failing with its message when it is a Failed."""
    (r,) = results
    assert not isinstance(r, m.Failed), r.message
    assert kind is None or isinstance(r, kind), r
    return r


def live(compute, source: str, clip, layer=None, channel=None, mode="deconvnet", square=None):
    """Return the FrameAnalysed of frame 7 of ``source`` (playing clip or camera) and the model's input."""
    path = CAMERA if source == "camera" else str(clip)
    pixels = frame_pixels(path, 7)
    r = one(compute.handle(m.AnalyseFrame(9, path, 7, 0.7, pixels, layer, channel, mode, square)), m.FrameAnalysed)
    return r, compute.model.preprocess(Image.fromarray(pixels))


def strongest(kind: str, fmap: np.ndarray):
    """Return the (row, col) of a map's largest value (first in row-major order), or None for a unit."""
    if not KINDS[kind].spatial:
        return None
    return tuple(int(i) for i in np.unravel_index(np.argmax(fmap), fmap.shape))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("source", INPUTS)
def test_grid_shows_the_layers_maps(kind, source, clip):
    k, compute = KINDS[kind], held(kind, source, clip)
    if source in HELD:
        r, x = one(compute.handle(m.LayerMaps(5, k.layer)), m.MapsReady), compute.x
    else:
        frame, x = live(compute, source, clip, k.layer)
        r = frame.maps
    _, act = raw_output(compute.model.net, x, k.layer)
    assert r.maps.shape == k.shape  # e.g. 12 maps of 8 x 8 for Swin's (8, 8, 12), never 8 maps of 8 x 12
    np.testing.assert_allclose(r.maps, reference_maps(kind, act), rtol=1e-5, atol=1e-5)
    assert r.maxima.shape == (k.shape[0],)


def _projection_cases():
    for kind in KINDS:
        for source in INPUTS:
            for mode in MODES:
                for which in SELECTIONS:
                    # the image: every mode x selection; the paused frame (the same requests on another input):
                    # each mode and each selection once; a playing frame: what it projects, its strongest
                    if (source == "image" or (source == "paused" and (mode == "deconvnet" or which == "strongest"))
                            or (source in LIVE and which == "strongest")):
                        yield pytest.param(kind, source, mode, which, id=f"{kind}-{source}-{mode}-{which}")


@pytest.mark.parametrize("kind, source, mode, which", list(_projection_cases()))
def test_deconvnet_pane_projects(kind, source, mode, which, clip):
    k, compute = KINDS[kind], held(kind, source, clip)
    if source in LIVE:
        frame, x = live(compute, source, clip, k.layer, k.channel, mode)
        r = frame.projection
    else:
        x = compute.x
        request = m.Project(5, k.layer, k.channel, POSITION if which == "position" else None, mode,
                            whole_map=which == "whole map", top_k=2 if which == "top-k" else None)
        results = compute.handle(request)
        if which == "position" and not k.spatial:  # a unit has no (1, 2): one line, no picture
            (failed,) = results
            assert isinstance(failed, m.Failed)
            assert failed.message == ("position (1, 2) on layer 'classifier.0', whose 10 units have no maps: "
                                      "project the unit (strongest or whole map)")
            return
        r = one(results, m.ProjectionReady)
    _, act = raw_output(compute.model.net, x, k.layer)
    fmap = reference_maps(kind, act)[k.channel]
    expected = {"strongest": [strongest(kind, fmap)], "position": [POSITION], "whole map": [None],
                "top-k": None}[which]
    if not k.spatial:
        expected = [None]
    if expected is not None:
        assert list(r.positions) == expected
    else:  # the 2 strongest, strongest first
        values = [fmap[p] for p in r.positions]
        assert len(r.positions) == 2 and values == sorted(values, reverse=True) and values[0] == fmap.max()
    assert r.full.shape == (32, 32, 3) and r.full.dtype == np.uint8
    assert r.full.std() > 0 or np.allclose(r.values, 0)  # a picture, unless the activation itself is zero
    if k.spatial:
        np.testing.assert_allclose(r.feature_map, fmap, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("source", INPUTS)
def test_square_occludes_and_totals_the_channel(kind, source, clip):
    k, compute = KINDS[kind], held(kind, source, clip)
    top, left, size = SQUARE
    if source in HELD:
        x = compute.x
        r = one(compute.handle(m.Occlude(5, top, left, size, k.layer, k.channel)), m.Occluded)
    else:
        frame, x = live(compute, source, clip, k.layer, k.channel, square=SQUARE)
        r = frame.occluded
    occluded = x.clone()
    occluded[..., top:top + size, left:left + size] = compute.model.preprocessing.mean_pixel()
    logits, act = raw_output(compute.model.net, occluded, k.layer)
    np.testing.assert_allclose(r.probs, torch.softmax(logits, 1)[0].numpy(), atol=1e-5)
    assert r.map_total == pytest.approx(float(reference_maps(kind, act)[k.channel].sum()), rel=1e-4, abs=1e-4)


MODELS = {"conv": "CxHxW", "vit": "tokens", "swin": "channels-last"}  # the map takes the model's default layer


@pytest.mark.parametrize("factory", MODELS)
@pytest.mark.parametrize("source", HELD)
def test_occlusion_map(factory, source, clip):
    compute = held(MODELS[factory], source, clip)
    r = one(compute.handle(m.OcclusionMap(5, patch=8, stride=8, target=1)), m.MapReady)
    assert r.prob.shape == (4, 4)
    occluded = compute.x.clone()
    occluded[..., 8:16, 16:24] = 0.0  # the mean pixel, normalised
    logits, _ = raw_output(compute.model.net, occluded, "")
    assert r.prob[1, 2] == pytest.approx(float(torch.softmax(logits, 1)[0, 1]), abs=1e-5)


PANES = ("grid", "deconv", "occlusion")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("source", HELD)
@pytest.mark.parametrize("pane", PANES)
def test_export(kind, source, pane, clip, tmp_path):
    k, compute = KINDS[kind], held(kind, source, clip)
    spec = {"grid": m.LayerMaps(5, k.layer), "deconv": m.Project(5, k.layer, k.channel),
            "occlusion": m.Occlude(5, *SQUARE, k.layer, k.channel)}[pane]
    out = tmp_path / f"{pane}.png"
    one(compute.handle(m.Export(6, pane, str(out), spec, (("map", False),))), m.Exported)
    facts = read_facts(out)
    with Image.open(out) as png:
        width, height = png.size
    assert width >= 32 and height >= 32
    if source == "paused":
        assert facts["frame"] == "3" and facts["video"] == str(clip)
    if pane == "grid":
        assert facts["layer"] == k.layer and f" · {k.shape[0]} feature maps · " in facts["Title"]
    elif pane == "deconv":
        assert facts["layer"] == k.layer and facts["channel"] == str(k.channel)
    else:
        assert facts["occluder"] == "top=4 left=6 size=8"
    assert f"--model {k.model}" in facts["command"]
