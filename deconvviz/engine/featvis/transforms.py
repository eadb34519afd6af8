"""Lucid's standard robustness transforms, drawn afresh for every image at every step, and the resampling
to the model's input size, composed into one differentiable affine resampling.

Lucid's ``standard_transforms``: pad 12 (constant 0.5), jitter 8, scale by one of 1 + (i - 5) / 50 for
i in 0..10, rotate by one of -10..10 degrees, jitter 4. Pads and jitters are crops, scale and rotation
act about the centre, so the whole chain maps each output pixel to a point of the original image by one
affine map; sampling outside the image reads the pad's grey. The chain's output (Lucid's image shrunk by
the jitters, magnified by the scale) is then resized to the model's input size, as the model sees it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

PAD_VALUE = 0.5


@dataclass(frozen=True)
class Robustness:
    """The transform set: ``pad`` pixels, ``jitter`` (first, last) in pixels, the ``scales`` and ``angles``
    (degrees) drawn from uniformly."""

    pad: int = 12
    jitter: tuple[int, int] = (8, 4)
    scales: tuple[float, ...] = tuple(1 + (i - 5) / 50 for i in range(11))
    angles: tuple[float, ...] = tuple(float(a) for a in range(-10, 11))

    def thetas(self, generators: list[torch.Generator], size: int) -> torch.Tensor:
        """Return (B, 2, 3) affine maps from output to input coordinates (``F.affine_grid``'s convention),
        one random draw of the chain per image from its own generator, for images of ``size`` pixels.

        One generator per image makes an image's transforms independent of the batch it is in."""
        first, last = self.jitter
        draws = torch.stack([torch.cat([torch.randint(0, first, (2,), generator=g),
                                        torch.randint(0, last, (2,), generator=g),
                                        torch.randint(len(self.scales), (1,), generator=g),
                                        torch.randint(len(self.angles), (1,), generator=g)])
                             for g in generators])
        o1 = draws[:, 0:2].float() - (first - 1) / 2
        o2 = draws[:, 2:4].float() - (last - 1) / 2
        s = torch.tensor(self.scales)[draws[:, 4]]
        a = torch.tensor(self.angles)[draws[:, 5]]
        return chain(size, self.pad, first, last, s, a * math.pi / 180, o1, o2)


IDENTITY = Robustness(pad=0, jitter=(1, 1), scales=(1.0,), angles=(0.0,))


def chain(size: int, pad: int, first: int, last: int, scale: torch.Tensor, angle: torch.Tensor,
          shift1: torch.Tensor, shift2: torch.Tensor) -> torch.Tensor:
    """Return (B, 2, 3) affine maps (normalised output -> input coordinates) of pad ``pad``, crop ``first - 1``
    at ``shift1`` (B, 2) (x, y) from the centre, scale ``scale`` (B,), rotate ``angle`` (B,) radians, crop
    ``last - 1`` at ``shift2`` (B, 2)."""
    window = (size + 2 * pad - (first - 1)) * scale - (last - 1)  # output side, in scaled pixels
    cos, sin = torch.cos(angle), torch.sin(angle)
    rot = torch.stack([torch.stack([cos, sin], -1), torch.stack([-sin, cos], -1)], -2)  # R(-angle)
    linear = rot * (window / (scale * size))[:, None, None]
    offset = (torch.einsum("bij,bj->bi", rot, shift2) / scale[:, None] + shift1) * (2 / size)
    return torch.cat([linear, offset[:, :, None]], 2)


def resample(images: torch.Tensor, thetas: torch.Tensor, out: tuple[int, int]) -> torch.Tensor:
    """Return ``images`` (B, C, S, S) in [0, 1] resampled by ``thetas`` (B, 2, 3) to ``out`` (height, width),
    bilinear, grey where the map reads outside the image. A smaller ``out`` is reached by sampling at the
    image's own size, then an antialiased resize, so the model does not see aliasing."""
    size = images.shape[-1]
    h, w = out
    sample = (max(h, size), max(w, size)) if min(h, w) < size else (h, w)
    grid = F.affine_grid(thetas.to(images), [images.shape[0], images.shape[1], *sample], align_corners=False)
    warped = F.grid_sample(images - PAD_VALUE, grid, mode="bilinear", padding_mode="zeros",
                           align_corners=False) + PAD_VALUE
    if sample != (h, w):
        warped = F.interpolate(warped, size=(h, w), mode="bilinear", antialias=True, align_corners=False)
    return warped
