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


def test_a_field_table_gives_every_position_the_box_traced_alone():
    """FieldTable (one trace for the whole layer) against receptive_fields (one trace per position), on the
    bundled EfficientNet-Lite0's _blocks.4 (a 28x28 layer behind padded, strided depthwise convolutions)."""
    import torch

    from deconvviz.engine.receptive_field import FieldTable
    from deconvviz.models import load_model

    torch.manual_seed(0)
    net = load_model("efficientnet-lite0").net
    table = FieldTable(net, (1, 3, 224, 224), "_blocks.4")
    traced = []
    real = receptive_fields

    def counting(*args):
        traced.extend(args[3])
        return real(*args)

    import deconvviz.engine.receptive_field as rf

    rf.receptive_fields = counting
    try:
        positions = [(0, 0), (27, 27), (0, 27), (13, 5), (26, 1), (7, 19), (13, 19), (26, 5), (7, 1)]
        boxes = [table.box(p) for p in positions]
    finally:
        rf.receptive_fields = real
    assert table.separable
    assert boxes == receptive_fields(net, (1, 3, 224, 224), "_blocks.4", positions)
    assert (13, 19) not in traced and (26, 5) not in traced and (7, 1) not in traced  # rows and columns seen


def test_a_layer_that_mixes_rows_and_columns_is_traced_position_by_position():
    """Behind a transpose a position's rows depend on its column: the table sees that its product is wrong
    and traces each position asked for, so the boxes are still right."""
    import torch
    from torch import nn

    from deconvviz.engine.receptive_field import FieldTable

    class Transposed(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(1, 2, 3, padding=0)
            self.b = nn.Conv2d(2, 2, 5, stride=2, padding=0)

        def forward(self, x):
            return self.b(self.a(x[..., :, :20]).transpose(2, 3))

    net = Transposed().eval()
    table = FieldTable(net, (1, 1, 24, 24), "b")
    positions = [(0, 0), (3, 1), (1, 6), (3, 6), (0, 1)]
    assert [table.box(p) for p in positions] == receptive_fields(net, (1, 1, 24, 24), "b", positions)
    assert table.separable is False
