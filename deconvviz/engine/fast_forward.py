"""A copy of a network for plain forward passes on the CPU, its weights in channels-last memory order.

Playback answers each frame with plain forward passes besides the one that keeps a layer for the panes: the
frame's probabilities on the frames without panes, and the frame with the square in place. On the CPU,
oneDNN's convolutions run faster on channels-last weights: EfficientNet-Lite0's forward pass took 20-22 ms
of CPU time against 29 ms (2 shared AVX-512 cores, one thread; bench/video.py measures the whole frame). The
answers agree to float32 rounding (4.8e-7 on the logits). The copy is never the live model: hooks,
incremental occlusion and the deconvnet's rules keep running on the model as loaded.
"""

from __future__ import annotations

import copy

import torch

MAX_PARAMETERS = 100_000_000
"""Networks larger than this are not copied (the copy would double their memory); they run as loaded."""


def fast_copy(net: torch.nn.Module, device: str | torch.device) -> torch.nn.Module:
    """Return a channels-last copy of ``net`` for plain forward passes on a CPU ``device``; ``net`` itself on
    another device, for a network over :data:`MAX_PARAMETERS` or one that cannot be copied."""
    if torch.device(device).type != "cpu" or sum(p.numel() for p in net.parameters()) > MAX_PARAMETERS:
        return net
    try:
        return copy.deepcopy(net).to(memory_format=torch.channels_last).eval()
    except Exception:  # a user's model that does not deep-copy runs as loaded
        return net
