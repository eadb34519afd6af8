"""The image as Lucid parametrises it: a scaled Fourier spectrum per colour channel in a decorrelated colour
space, mapped to pixels in [0, 1] by a sigmoid (Olah, Mordvintsev & Schubert, "Feature Visualization",
Distill 2017; Lucid's ``fft_image`` and ``to_valid_rgb``).

Gradient ascent on pixels puts most of its change into high frequencies, which a network barely averages
away; dividing each Fourier coefficient by its frequency makes every frequency equally easy to change, so
the optimum found is dominated by the low frequencies natural images have. The colour transform does the same
for colour: steps are taken along the principal axes of ImageNet's colour covariance.
"""

from __future__ import annotations


import torch

# Lucid's square root of ImageNet's colour covariance (its SVD's U * sqrt(S)); columns scaled to norm <= 1.
COLOR_CORRELATION_SVD_SQRT = torch.tensor([[0.26, 0.09, 0.02],
                                           [0.27, 0.00, -0.05],
                                           [0.27, -0.09, 0.03]])
COLOR = COLOR_CORRELATION_SVD_SQRT / COLOR_CORRELATION_SVD_SQRT.norm(dim=0).max()
FFT_MAGIC = 4.0  # Lucid's fixed divisor of the inverse transform: keeps the initial image near grey
INIT_STD = 0.01  # Lucid's spread of the initial spectrum


def frequencies(height: int, width: int) -> torch.Tensor:
    """Return the (height, width // 2 + 1) radial frequencies (cycles per pixel) of ``torch.fft.rfft2``."""
    fy = torch.fft.fftfreq(height)[:, None]
    fx = torch.fft.rfftfreq(width)[None, :]
    return torch.sqrt(fx * fx + fy * fy)


def spectrum_scale(height: int, width: int, decay: float = 1.0) -> torch.Tensor:
    """Return the per-coefficient scale 1 / max(f, 1 / max(h, w)) ** decay (the constant term not infinite)."""
    f = frequencies(height, width).clamp(min=1.0 / max(height, width))
    return f.pow(-decay)


class FourierImage:
    """One image per generator in ``generators``, of ``channels`` x ``size`` x ``size``, parametrised as scaled
    spectra, each started from its own generator's draw (so an image does not depend on its batch).

    ``channels`` 3 is RGB through the decorrelated colour space; 1 is a grey image (no colour transform).
    ``param`` is the leaf tensor to optimise: (batch, channels, size, size // 2 + 1, 2), real and imaginary parts.
    """

    def __init__(self, generators: list[torch.Generator], size: int, channels: int = 3, decay: float = 1.0,
                 device: torch.device | str = "cpu"):
        self.size, self.channels = size, channels
        self.scale = spectrum_scale(size, size, decay).to(device)[..., None]
        shape = (1, channels, size, size // 2 + 1, 2)
        start = torch.cat([INIT_STD * torch.randn(shape, generator=g) for g in generators])
        self.param = start.to(device).requires_grad_(True)

    def decorrelated(self) -> torch.Tensor:
        """Return the image before the sigmoid, in the decorrelated space (batch, channels, size, size)."""
        spectrum = torch.view_as_complex((self.scale * self.param).contiguous())
        return torch.fft.irfft2(spectrum, s=(self.size, self.size), norm="ortho") / FFT_MAGIC

    def pixels(self) -> torch.Tensor:
        """Return the images (batch, channels, size, size) in [0, 1] (differentiable in ``param``)."""
        return torch.sigmoid(to_colour(self.decorrelated()))

    def set_pixels(self, pixels: torch.Tensor) -> None:
        """Set ``param`` so that :meth:`pixels` returns ``pixels`` (batch, channels, size, size) in (0, 1)."""
        logits = torch.logit(pixels.to(self.param).clamp(1e-4, 1 - 1e-4))
        spectrum = torch.fft.rfft2(from_colour(logits) * FFT_MAGIC, norm="ortho")
        with torch.no_grad():
            self.param.copy_(torch.view_as_real(spectrum) / self.scale)


def to_colour(t: torch.Tensor) -> torch.Tensor:
    """Return decorrelated channels (B, 3, H, W) as RGB logits; a 1-channel tensor is returned as it is."""
    if t.shape[1] != 3:
        return t
    return torch.einsum("ij,bjhw->bihw", COLOR.to(t), t)


def from_colour(t: torch.Tensor) -> torch.Tensor:
    """Return RGB logits (B, 3, H, W) in the decorrelated space (the inverse of :func:`to_colour`)."""
    if t.shape[1] != 3:
        return t
    return torch.einsum("ij,bjhw->bihw", torch.linalg.inv(COLOR).to(t), t)


def grey(rgb: torch.Tensor) -> torch.Tensor:
    """Return RGB images (B, 3, H, W) as grey (B, 1, H, W), by ITU-R BT.601 luma as PIL's "L" mode."""
    w = torch.tensor([0.299, 0.587, 0.114], dtype=rgb.dtype, device=rgb.device).view(1, 3, 1, 1)
    return (rgb * w).sum(1, keepdim=True)


__all__ = ["COLOR", "FourierImage", "frequencies", "grey", "spectrum_scale", "to_colour", "from_colour"]
