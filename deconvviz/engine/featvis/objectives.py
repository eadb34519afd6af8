"""What a feature visualisation maximises, per image of the batch: a channel's mean, one neuron, a class logit
(each possibly negated), and Lucid's diversity term across the images that share a target."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ...errors import DeconvvizError

CHANNEL, NEURON, CLASS = "channel", "neuron", "class"
KINDS = (CHANNEL, NEURON, CLASS)


@dataclass(frozen=True)
class Objective:
    """``kind`` (channel, neuron or class); ``negative`` minimises instead; ``position`` (row, col) of the
    neuron (default: the map's centre)."""

    kind: str = CHANNEL
    negative: bool = False
    position: tuple[int, int] | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise DeconvvizError(f"objective must be one of {', '.join(KINDS)}, got {self.kind!r}")

    def describe(self) -> str:
        """Return e.g. "channel mean", "-neuron (3, 4)"."""
        text = {CHANNEL: "channel mean", NEURON: "neuron", CLASS: "class logit"}[self.kind]
        if self.kind == NEURON and self.position is not None:
            text += f" {self.position}"
        return ("-" if self.negative else "") + text

    def values(self, maps: torch.Tensor | None, logits: torch.Tensor | None, targets: torch.Tensor) -> torch.Tensor:
        """Return (B,) values, image i's of target ``targets[i]``: from ``maps`` (B, C, H, W) for a channel or
        neuron, from ``logits`` (B, K) for a class; negated when ``negative``."""
        rows = torch.arange(targets.shape[0], device=targets.device)
        if self.kind == CLASS:
            value = logits[rows, targets]
        else:
            picked = maps[rows, targets]  # (B, H, W)
            if self.kind == CHANNEL:
                value = picked.mean((1, 2))
            else:
                r, c = self.neuron(maps.shape[-2:])
                value = picked[:, r, c]
        return -value if self.negative else value

    def neuron(self, hw: tuple[int, int]) -> tuple[int, int]:
        """Return the neuron's (row, col) in maps of ``hw`` (DeconvvizError when it lies outside)."""
        h, w = int(hw[0]), int(hw[1])
        r, c = self.position if self.position is not None else (h // 2, w // 2)
        if not (0 <= r < h and 0 <= c < w):
            raise DeconvvizError(f"position {r},{c} outside the {h}x{w} maps")
        return r, c


def diversity(maps: torch.Tensor, groups: int) -> torch.Tensor:
    """Return (B,) per image the mean cosine similarity of its Gram matrix (C x C over positions) to those of
    the other images of its group (``maps`` (B, C, H, W), images of a group consecutive, ``groups`` images each);
    0 for groups of one. Lucid's ``diversity``: subtracted, it pushes a target's images apart in style."""
    b = maps.shape[0]
    if groups <= 1:
        return maps.new_zeros(b)
    flat = maps.flatten(2)  # (B, C, HW)
    grams = torch.bmm(flat, flat.transpose(1, 2)).flatten(1)
    grams = grams / grams.norm(dim=1, keepdim=True).clamp(min=1e-10)
    g = grams.view(b // groups, groups, -1)
    sims = torch.bmm(g, g.transpose(1, 2))  # (G, K, K)
    off = sims.sum(2) - sims.diagonal(dim1=1, dim2=2)
    return (off / (groups - 1)).flatten()
