"""Augmentation and input conversion."""

import torch

from deconvviz.models.preprocessing import Preprocessing
from deconvviz.train.inputs import augment, to_model_input


def test_crops_are_shifted_copies_and_flips_mirror():
    x = torch.arange(2 * 1 * 5 * 5, dtype=torch.float32).view(2, 1, 5, 5) + 1
    g = torch.Generator().manual_seed(0)
    out = augment(x, pad=2, flip=False, generator=g)
    assert out.shape == x.shape
    for i in range(2):  # every crop is the padded image seen through a 5x5 window
        padded = torch.nn.functional.pad(x[i], (2, 2, 2, 2))
        windows = [padded[:, r:r + 5, c:c + 5] for r in range(5) for c in range(5)]
        assert any(torch.equal(out[i], w) for w in windows)
    flipped = augment(x, pad=0, flip=True, generator=torch.Generator().manual_seed(3))
    for i in range(2):
        assert torch.equal(flipped[i], x[i]) or torch.equal(flipped[i], x[i].flip(2))
    a = augment(x, 2, True, torch.Generator().manual_seed(5))
    b = augment(x, 2, True, torch.Generator().manual_seed(5))
    assert torch.equal(a, b)


def test_to_model_input_normalises_resizes_and_repeats_channels():
    grey = torch.full((1, 1, 4, 4), 255, dtype=torch.uint8)
    prep = Preprocessing((8, 8), "RGB", (0.5, 0.5, 0.5), (0.25, 0.25, 0.25))
    x = to_model_input(grey, prep)
    assert x.shape == (1, 3, 8, 8) and torch.allclose(x, torch.full_like(x, 2.0))
