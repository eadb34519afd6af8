"""How a model wants its input: size, colour mode, normalisation, and the way back to pixels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image


@dataclass(frozen=True)
class Preprocessing:
    """Input size (height, width), PIL colour mode ("RGB" or "L") and per-channel mean/std on [0, 1] pixels.

    ``resize`` (pretrained torchvision weights: e.g. 256 before a 224 crop, 342 before Inception's 299) makes
    :meth:`fit` do exactly what the weights' ``transforms()`` do: the shorter side resized to ``resize`` with
    ``interpolation``, then the centre crop of ``size``, by torchvision's own functions. ``squash`` (timm's
    crop mode of that name) resizes both sides to ``resize`` instead, not keeping the aspect ratio.
    """

    size: tuple[int, int]
    mode: str
    mean: tuple[float, ...]
    std: tuple[float, ...]
    resize: int | None = None
    interpolation: str = "bilinear"
    squash: bool = False

    @property
    def channels(self) -> int:
        """Return the number of input channels."""
        return len(self.mean)

    def fit(self, image: Image.Image) -> Image.Image:
        """Return the image in the model's colour mode and size.

        With ``resize`` set, torchvision's resize and centre crop (see the class). Otherwise an image already
        of the input size is left alone (never resampled); otherwise the shorter side is
        resized to the input size and the centre is cropped, as in the paper's evaluation.
        """
        image = image.convert(self.mode)
        height, width = self.size
        if self.resize is not None:
            from torchvision.transforms import InterpolationMode
            from torchvision.transforms import functional as TF

            size = [self.resize, self.resize] if self.squash else [self.resize]
            resized = TF.resize(image, size, interpolation=InterpolationMode(self.interpolation))
            return TF.center_crop(resized, [height, width])
        if image.size == (width, height):
            return image
        scale = max(width / image.width, height / image.height)
        resized = image.resize(
            (max(width, round(image.width * scale)), max(height, round(image.height * scale))),
            Image.BICUBIC,
        )
        left = (resized.width - width) // 2
        top = (resized.height - height) // 2
        return resized.crop((left, top, left + width, top + height))

    def __call__(self, image: Image.Image) -> torch.Tensor:
        """Return the normalised float32 tensor (1, C, H, W) for a PIL image."""
        pixels = np.asarray(self.fit(image), dtype=np.float32) / 255.0
        if pixels.ndim == 2:
            pixels = pixels[:, :, None]
        tensor = torch.from_numpy(pixels.transpose(2, 0, 1).copy())
        mean = torch.tensor(self.mean, dtype=torch.float32).view(-1, 1, 1)
        std = torch.tensor(self.std, dtype=torch.float32).view(-1, 1, 1)
        return ((tensor - mean) / std).unsqueeze(0)

    def to_pixels(self, x: torch.Tensor) -> np.ndarray:
        """Return a normalised input (1, C, H, W) or (C, H, W) as uint8 RGB pixels (H, W, 3)."""
        x = x.detach().to("cpu", torch.float32)
        if x.dim() == 4:
            x = x[0]
        mean = torch.tensor(self.mean).view(-1, 1, 1)
        std = torch.tensor(self.std).view(-1, 1, 1)
        pixels = (x * std + mean).clamp(0, 1).mul(255).round().to(torch.uint8).permute(1, 2, 0).numpy()
        if pixels.shape[2] == 1:
            pixels = np.repeat(pixels, 3, axis=2)
        return np.ascontiguousarray(pixels)

    def mean_pixel(self) -> torch.Tensor:
        """Return the data set's mean pixel in normalised units, shape (C, 1, 1): the paper's grey occluder."""
        return torch.zeros(self.channels, 1, 1)

    def as_dict(self) -> dict:
        """Return a JSON-friendly description (stored in snapshots and PNG metadata)."""
        d = {"size": list(self.size), "mode": self.mode, "mean": list(self.mean), "std": list(self.std)}
        if self.resize is not None:
            d.update(resize=self.resize, interpolation=self.interpolation)
        if self.squash:
            d["squash"] = True
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Preprocessing":
        """Return the Preprocessing described by :meth:`as_dict`'s output."""
        return cls(tuple(d["size"]), d["mode"], tuple(d["mean"]), tuple(d["std"]), d.get("resize"),
                   d.get("interpolation", "bilinear"), bool(d.get("squash", False)))


IMAGENET = Preprocessing((224, 224), "RGB", (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
