"""The paper's network (Zeiler & Fergus 2014, Fig. 3) and the same design scaled to 28x28 greyscale."""

from __future__ import annotations

from torch import nn


def _contrast_norm() -> nn.LocalResponseNorm:
    # Krizhevsky et al.'s across-map normalisation, which the paper keeps in layers 1 and 2.
    return nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0)


def _pool() -> nn.MaxPool2d:
    # Overlapping 3x3/2 pooling; ceil_mode gives the paper's map sizes (110 -> 55, 26 -> 13, 13 -> 6).
    return nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)


class ZFNet(nn.Module):
    """Conv 96 7x7/2 -> pool -> norm -> conv 256 5x5/2 -> pool -> norm -> 3x conv 3x3 -> pool -> FC 4096-4096-C.

    ``widths`` and the first layers' kernel/stride/padding make the same design fit other inputs
    (see :func:`zf_fmnist`); the defaults are the paper's, for 224x224x3 input.
    """

    def __init__(
        self,
        num_classes: int = 1000,
        in_channels: int = 3,
        widths: tuple[int, int, int, int, int] = (96, 256, 384, 384, 256),
        conv1: tuple[int, int, int] = (7, 2, 1),
        conv2: tuple[int, int, int] = (5, 2, 0),
        pooled_size: int = 6,
        hidden: int = 4096,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        w1, w2, w3, w4, w5 = widths
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, w1, kernel_size=conv1[0], stride=conv1[1], padding=conv1[2]),
            nn.ReLU(inplace=True),
            _pool(),
            _contrast_norm(),
            nn.Conv2d(w1, w2, kernel_size=conv2[0], stride=conv2[1], padding=conv2[2]),
            nn.ReLU(inplace=True),
            _pool(),
            _contrast_norm(),
            nn.Conv2d(w2, w3, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(w3, w4, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(w4, w5, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            _pool(),
        )
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(
            nn.Linear(w5 * pooled_size * pooled_size, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.flatten(self.features(x)))


def zfnet(num_classes: int = 1000, in_channels: int = 3) -> ZFNet:
    """Return the paper's Fig. 3 network for 224x224 input, randomly initialised."""
    return ZFNet(num_classes=num_classes, in_channels=in_channels)


def zf_fmnist(num_classes: int = 10, in_channels: int = 1) -> ZFNet:
    """Return the ZF design scaled to 28x28 greyscale: 28 -> pool 14 -> 14 -> pool 7 -> 7 -> pool 3.

    The first layer keeps full resolution (5x5/1) because a 28-pixel image has no room for a 7x7/2 stem.
    """
    return ZFNet(
        num_classes=num_classes,
        in_channels=in_channels,
        widths=(32, 64, 128, 128, 64),
        conv1=(5, 1, 2),
        conv2=(3, 1, 1),
        pooled_size=3,
        hidden=512,
    )
