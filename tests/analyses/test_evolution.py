import pytest
import torch
from torch import nn

from deconvviz.analyses.evolution import history_snapshots
from deconvviz.errors import DeconvvizError
from deconvviz.models.weights import write_safetensors


def test_snapshots_are_ordered_by_epoch_from_meta_or_name(tmp_path):
    state = nn.Linear(2, 2).state_dict()
    write_safetensors(tmp_path / "epoch-10.safetensors", state, {"architecture": "zf-fmnist", "epoch": 10})
    write_safetensors(tmp_path / "epoch-2.safetensors", state, {"architecture": "zf-fmnist", "epoch": 2})
    write_safetensors(tmp_path / "snap-7.safetensors", state, {"architecture": "zf-fmnist"})
    assert [e for e, _ in history_snapshots(tmp_path)] == [2, 7, 10]


def test_empty_or_missing_history_is_refused(tmp_path):
    with pytest.raises(DeconvvizError, match="no .safetensors"):
        history_snapshots(tmp_path)
    with pytest.raises(DeconvvizError, match="not found"):
        history_snapshots(tmp_path / "nope")
    torch.save({}, tmp_path / "x.pt")
    with pytest.raises(DeconvvizError):
        history_snapshots(tmp_path)
