"""Receptive fields against the textbook recurrence on the paper's network."""

from deconvviz.engine.receptive_field import Box, receptive_field, receptive_fields
from deconvviz.models.zfnet import zfnet


def _analytic(layers, position):
    """Box from the recurrence start/jump/size over (kernel, stride, padding) layers, unclipped."""
    jump, start, size = 1, 0, 1
    for k, s, p in layers:
        start += ((k - 1) / 2 - p) * jump
        size += (k - 1) * jump
        jump *= s
    row, col = position
    centre_r, centre_c = start + row * jump, start + col * jump
    half = (size - 1) / 2
    return int(centre_r - half), int(centre_c - half), int(centre_r + half) + 1, int(centre_c + half) + 1


def _clip(box, limit=224):
    top, left, bottom, right = box
    return Box(max(top, 0), max(left, 0), min(bottom, limit), min(right, limit))


def test_matches_the_recurrence_on_zfnet():
    net = zfnet().eval()
    conv1, pool, conv2, conv3 = (7, 2, 1), (3, 2, 0), (5, 2, 0), (3, 1, 1)
    cases = {
        "features.0": [conv1],
        "features.2": [conv1, pool],
        "features.4": [conv1, pool, conv2],
        "features.8": [conv1, pool, conv2, pool, conv3],
    }
    for layer, geometry in cases.items():
        for position in [(0, 0), (3, 5), (6, 2)]:
            assert receptive_field(net, (1, 3, 224, 224), layer, position) == _clip(_analytic(geometry, position)), (layer, position)


def test_batched_positions_equal_single_ones():
    net = zfnet().eval()
    positions = [(0, 0), (12, 12), (5, 9)]
    many = receptive_fields(net, (1, 3, 224, 224), "features.12", positions)
    assert many == [receptive_field(net, (1, 3, 224, 224), "features.12", p) for p in positions]
    assert many[1].bottom == 224 and many[0].top == 0
