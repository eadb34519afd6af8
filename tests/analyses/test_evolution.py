import pytest
import torch
from torch import nn

from deconvviz.analyses.evolution import history_snapshots
from deconvviz.errors import DeconvvizError
from deconvviz.models.weights import write_safetensors


def test_snapshots_are_ordered_by_epoch(tmp_path):
    state = nn.Linear(2, 2).state_dict()
    for epoch in (10, 2, 7):
        write_safetensors(tmp_path / f"epoch-{epoch:03d}.safetensors", state, {"architecture": "zf-fmnist", "epoch": epoch})
    assert [e for e, _ in history_snapshots(tmp_path)] == [2, 7, 10]


def test_empty_or_missing_history_is_refused(tmp_path):
    with pytest.raises(DeconvvizError, match="holds no training snapshots"):
        history_snapshots(tmp_path)
    with pytest.raises(DeconvvizError, match="holds no training snapshots"):
        history_snapshots(tmp_path / "nope")
    torch.save({}, tmp_path / "x.pt")
    with pytest.raises(DeconvvizError):
        history_snapshots(tmp_path)
