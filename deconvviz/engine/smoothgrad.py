"""SmoothGrad (Smilkov et al. 2017): the mean of a method's attributions over noisy copies of the input.

The noise is Gaussian with standard deviation ``noise`` times the input's range (max - min; the paper's
10-20 %), drawn from a generator seeded with ``seed`` (the same noise for the same seed, so a sanity test
compares maps made with the same noise at every step), and averaged before the method's reduction over
colour channels (Captum's ``NoiseTunnel(nt_type="smoothgrad")``, whose noise is ``torch.normal(0, stdev)``
of the same shape: from the same seed, the same numbers).
"""

from __future__ import annotations

from typing import Callable

import torch

from ..errors import DeconvvizError

MAX_SAMPLES = 10_000


def noise_stdev(x: torch.Tensor, noise: float) -> float:
    """Return the noise's standard deviation: ``noise`` times the range of ``x``."""
    if not noise >= 0:
        raise DeconvvizError(f"SmoothGrad's noise is a fraction of the input's range >= 0, got {noise}")
    return float(noise) * float(x.max() - x.min())


def smoothgrad(raw: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, samples: int = 16, noise: float = 0.15,
               seed: int = 0, batch: int = 16) -> torch.Tensor:
    """Return the mean of ``raw(xs)`` (a batched method, (B, ...) per sample) over ``samples`` noisy copies
    of the one input ``x`` (1, C, H, W), run ``batch`` at a time; shape (1, ...)."""
    if not 1 <= samples <= MAX_SAMPLES:
        raise DeconvvizError(f"SmoothGrad's samples must be 1..{MAX_SAMPLES}, got {samples}")
    stdev = noise_stdev(x, noise)
    generator = torch.Generator(device=x.device).manual_seed(int(seed))
    # float32 noise whatever the input's type: the numbers Captum draws from the same seed
    std = torch.full((samples,) + tuple(x.shape[1:]), stdev, dtype=torch.float32, device=x.device)
    eps = (torch.normal(0.0, std, generator=generator) if stdev > 0 else torch.zeros_like(std)).to(x.dtype)
    total = None
    for start in range(0, samples, batch):
        part = raw(x.detach() + eps[start:start + batch]).sum(0, keepdim=True)
        total = part if total is None else total + part
    return total / samples
