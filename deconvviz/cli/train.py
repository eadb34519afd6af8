"""``deconvviz train``: train a registry architecture on Fashion-MNIST/MNIST IDX files or an image folder."""

from __future__ import annotations

import sys


def add_parser(sub) -> None:
    from ..train.config import add_train_arguments

    parser = sub.add_parser(
        "train", help="train a model (SGD, filter renormalisation, snapshots; torchrun for several processes)",
        description="Train a registered architecture the way Zeiler & Fergus did: SGD with momentum, dropout, "
                    "filter RMS renormalisation, random crops and flips, learning rate lowered when validation "
                    "stalls. Writes history/epoch-NNN.safetensors snapshots, the final MODEL.safetensors, "
                    "metrics.csv and resume.pt to --out. Under torchrun --nproc_per_node=N it trains with "
                    "DistributedDataParallel.",
    )
    add_train_arguments(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    from ..train import TrainingInterrupted, train
    from ..train.config import config_from_args

    try:
        train(config_from_args(args))
    except TrainingInterrupted:
        return 130
    return 0
