"""From stored uint8 images to the network's input: batches, crop-and-flip augmentation, normalisation."""

from __future__ import annotations

from typing import Iterator

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, DistributedSampler

from ..data.datasets import ImageData
from ..models.preprocessing import Preprocessing


def to_model_input(images: torch.Tensor, prep: Preprocessing) -> torch.Tensor:
    """Return uint8 images (N, C, H, W) as the model's normalised float32 input (N, prep.channels, *prep.size).

    Grey images are repeated to three channels for an RGB model (and RGB averaged for a grey one); images of
    another size are resized bilinearly.
    """
    x = images.float().div_(255.0)
    channels = prep.channels
    if x.shape[1] != channels:
        x = x.expand(-1, channels, -1, -1) if x.shape[1] == 1 else x.mean(dim=1, keepdim=True)
    if tuple(x.shape[2:]) != tuple(prep.size):
        x = F.interpolate(x, size=tuple(prep.size), mode="bilinear", align_corners=False, antialias=True)
    mean = torch.tensor(prep.mean, device=x.device).view(1, -1, 1, 1)
    std = torch.tensor(prep.std, device=x.device).view(1, -1, 1, 1)
    return (x - mean) / std


def augment(images: torch.Tensor, pad: int, flip: bool, generator: torch.Generator) -> torch.Tensor:
    """Return a random crop of each image after zero-padding ``pad`` pixels, mirrored left-right half the time.

    ``images`` is (N, C, H, W) of any dtype; the result has the same shape. ``generator`` lives on the
    images' device, so a seed fixes the crops and flips.
    """
    n, c, h, w = images.shape
    if pad > 0:
        padded = F.pad(images, (pad, pad, pad, pad))
        offsets = torch.randint(0, 2 * pad + 1, (2, n), device=images.device, generator=generator)
        rows = (offsets[0, :, None] + torch.arange(h, device=images.device))[:, :, None]  # (N, H, 1)
        cols = (offsets[1, :, None] + torch.arange(w, device=images.device))[:, None, :]  # (N, 1, W)
        batch = torch.arange(n, device=images.device)[:, None, None]
        images = padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)
    if flip:
        mirror = torch.rand(n, device=images.device, generator=generator) < 0.5
        images = torch.where(mirror[:, None, None, None], images.flip(3), images)
    return images.contiguous()


class Batches:
    """Mini-batches of one process's share of a data set, reshuffled each epoch from the seed.

    In-memory sets are moved to ``device`` once and batched by indexing; image folders are read by a
    DataLoader with ``workers`` processes.
    """

    def __init__(self, data: ImageData, batch_size: int, device: torch.device, rank: int = 0, world: int = 1,
                 seed: int = 0, shuffle: bool = True, workers: int = 2) -> None:
        self.data, self.batch_size, self.device, self.shuffle = data, batch_size, device, shuffle
        self.sampler = DistributedSampler(range(len(data)), num_replicas=world, rank=rank, shuffle=shuffle,
                                          seed=seed, drop_last=False) if shuffle else None
        self.shard = torch.arange(rank, len(data), world)  # evaluation: every image exactly once over all ranks
        if data.in_memory:
            self.images = data.images.to(device)
            self.labels = data.labels.to(device)
        else:
            self.workers = workers

    def __len__(self) -> int:
        n = len(self.sampler) if self.sampler is not None else len(self.shard)
        return -(-n // self.batch_size)

    def epoch(self, epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Yield ``(uint8 images (B, C, H, W), int64 labels (B,))`` on the device for ``epoch`` (1-based)."""
        if self.sampler is not None:
            self.sampler.set_epoch(epoch)
            order = torch.tensor(list(iter(self.sampler)), dtype=torch.int64)
        else:
            order = self.shard
        if self.data.in_memory:
            order = order.to(self.device)
            for start in range(0, len(order), self.batch_size):
                index = order[start:start + self.batch_size]
                yield self.images[index], self.labels[index]
            return
        loader = DataLoader(torch.utils.data.Subset(self.data.folder, order.tolist()), batch_size=self.batch_size,
                            num_workers=self.workers, pin_memory=self.device.type == "cuda",
                            persistent_workers=False)
        for images, labels in loader:
            yield images.to(self.device, non_blocking=True), labels.to(self.device, non_blocking=True)
