"""Top-1 / top-5 accuracy and mean loss of a network on a labelled image set."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..data.datasets import ImageData
from ..errors import DeconvvizError
from ..models.preprocessing import Preprocessing
from . import distributed
from .inputs import Batches, to_model_input


@torch.no_grad()
def evaluate_net(net: nn.Module, batches: Batches, prep: Preprocessing,
                 ranks: distributed.Ranks | None = None) -> dict:
    """Return ``{"loss", "top1", "top5", "images"}`` of ``net`` over every image in ``batches`` (summed over ranks).

    The network is put in eval mode and back in the mode it was in.
    """
    was_training = net.training
    net.eval()
    device = next(net.parameters()).device
    total = torch.zeros(4, dtype=torch.float64, device=device)  # loss sum, top-1, top-5, images
    try:
        for images, labels in batches.epoch(0):
            logits = net(to_model_input(images, prep))
            if logits.shape[1] <= int(labels.max()):
                raise DeconvvizError(f"the data has label {int(labels.max())} but the model has only "
                                     f"{logits.shape[1]} outputs")
            top = logits.topk(min(5, logits.shape[1]), dim=1).indices
            hits = top == labels[:, None]
            total += torch.stack([F.cross_entropy(logits, labels, reduction="sum").double(),
                                  hits[:, 0].sum().double(), hits.any(1).sum().double(),
                                  torch.tensor(float(len(labels)), dtype=torch.float64, device=device)])
    finally:
        net.train(was_training)
    if ranks is not None:
        total = distributed.sum_across(ranks, total)
    loss, top1, top5, n = total.tolist()
    n = max(n, 1.0)
    return {"loss": loss / n, "top1": top1 / n, "top5": top5 / n, "images": int(n)}


def evaluate_model(model, data: ImageData, batch_size: int = 512, workers: int = 2) -> dict:
    """Return ``{"loss", "top1", "top5", "images"}`` of a LoadedModel on ``data``."""
    batches = Batches(data, batch_size, model.device, shuffle=False, workers=workers)
    return evaluate_net(model.net, batches, model.preprocessing)
