"""Tiny random-weight models, one per layer kind, loaded as a user's ``tiny_models.py:factory`` would be.

32 x 32 RGB inputs, 5 classes, seeded weights; nothing downloads.
"""

from collections import OrderedDict

import torch
from torch import nn
from torchvision.models import VisionTransformer
from torchvision.models.swin_transformer import SwinTransformer

PREPROCESSING = {"size": [32, 32], "mode": "RGB", "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}


def conv():
    """A ZF-style net: conv, ReLU, max-pool (switches), conv, ReLU, then Linear 8 -> 10 -> 5."""
    torch.manual_seed(0)
    features = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2, 1),
                             nn.Conv2d(6, 8, 3, padding=1), nn.ReLU())
    classifier = nn.Sequential(nn.Linear(8, 10), nn.ReLU(), nn.Linear(10, 5))
    return nn.Sequential(OrderedDict(features=features, pool=nn.AdaptiveAvgPool2d(1), flatten=nn.Flatten(),
                                     classifier=classifier))


def vit():
    """A two-block ViT: 8 px patches, 1 class token + 4 x 4 patch tokens of 16 dims."""
    torch.manual_seed(0)
    return VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32,
                             num_classes=5)


def swin():
    """A two-stage Swin: 4 px patches, stage 1 outputs (8, 8, 12) channels-last."""
    torch.manual_seed(0)
    return SwinTransformer(patch_size=[4, 4], embed_dim=12, depths=[1, 1], num_heads=[2, 2], window_size=[4, 4],
                           num_classes=5)
