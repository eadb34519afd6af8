"""The headless trainer: ``deconvviz train`` / ``python -m deconvviz.train`` (one process or torchrun/DDP)."""

from .config import PAPER_SNAPSHOTS, TrainConfig
from .evaluate import evaluate_model
from ..models.history import list_snapshots
from .trainer import TrainingInterrupted, TrainResult, train

__all__ = ["PAPER_SNAPSHOTS", "TrainConfig", "TrainResult", "TrainingInterrupted", "evaluate_model",
           "list_snapshots", "train"]
