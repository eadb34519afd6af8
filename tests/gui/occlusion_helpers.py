"""What the occluder's probabilities must be, computed directly (shared by the GUI tests)."""

import numpy as np
import torch


def direct_probs(window) -> np.ndarray:
    """Return the class probabilities of the window's image with its current square filled by the mean pixel."""
    top, left = window.canvas.square
    size = window.canvas.size
    compute = window.backend.compute
    x = compute.x.clone()
    x[..., top:top + size, left:left + size] = 0.0  # the mean pixel is 0 after normalisation
    with torch.no_grad():
        return torch.softmax(compute.model.net(x), 1)[0].numpy()
