"""Weights are read without running code, and files that do not fit say exactly why."""

import os
import pickle

import pytest
import torch

import deconvviz
from deconvviz.errors import DeconvvizError
from deconvviz.models.weights import read_weights, write_safetensors
from deconvviz.models.zfnet import zf_fmnist


class _Payload:
    """Unpickling this object would create a file: the proof that a loader ran the file's code."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_a_pickle_carrying_code_is_refused_without_running_it(tmp_path):
    target = tmp_path / "pwned"
    evil = tmp_path / "evil.pth"
    torch.save({"state_dict": {"w": torch.zeros(1)}, "payload": _Payload(str(target))}, evil)
    with pytest.raises(DeconvvizError, match="refused to load evil.pth: it holds a Python object \\(io.open\\).*could run code"):
        deconvviz.load_model("zf-fmnist", weights=evil)
    assert not target.exists()
    raw = tmp_path / "evil.pkl"
    raw.write_bytes(pickle.dumps(_Payload(str(target))))
    with pytest.raises(DeconvvizError):
        read_weights(raw)
    assert not target.exists()


def test_truncated_and_random_files_give_clear_errors(tmp_path):
    good = tmp_path / "good.pth"
    torch.save(zf_fmnist().state_dict(), good)
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(good.read_bytes()[: os.path.getsize(good) // 2])
    noise = tmp_path / "noise.safetensors"
    noise.write_bytes(os.urandom(4096))
    text = tmp_path / "text.pth"
    text.write_bytes(b"not a state dict")  # not a zip: read as a legacy pickle, and not one
    for path in (truncated, noise):
        with pytest.raises(DeconvvizError, match=path.name):
            deconvviz.load_model("zf-fmnist", weights=path)
    with pytest.raises(DeconvvizError, match="^text.pth is not a readable PyTorch weights file"):
        deconvviz.load_model("zf-fmnist", weights=text)
    # other bytes meet the unpickler with other errors (a KeyError for "hello\n", an IndexError, ...)
    for i, junk in enumerate((b"hello\n", b"h\x00\x00\x00", b"\x80\x02q\x00h\x01", b"", bytes(range(7, 256, 3)))):
        other = tmp_path / f"junk-{i}.pth"
        other.write_bytes(junk)
        with pytest.raises(DeconvvizError, match=f"^junk-{i}.pth is not a readable PyTorch weights file"):
            deconvviz.load_model("zf-fmnist", weights=other)
    with pytest.raises(DeconvvizError, match="weights file not found"):
        deconvviz.load_model("zf-fmnist", weights=tmp_path / "absent.pth")


def test_a_file_that_does_not_fit_names_keys_and_shapes(tmp_path):
    state = zf_fmnist().state_dict()
    state.pop("features.0.bias")
    state["extra.weight"] = torch.zeros(3)
    state["classifier.6.weight"] = torch.zeros(5, 512)
    path = tmp_path / "other.safetensors"
    write_safetensors(path, state)
    with pytest.raises(DeconvvizError) as err:
        deconvviz.load_model("zf-fmnist", weights=path)
    message = str(err.value)
    assert "missing keys: features.0.bias" in message
    assert "unexpected keys: extra.weight" in message
    assert "classifier.6.weight (file (5, 512), model (10, 512))" in message


def test_state_dicts_from_torchvision_ddp_and_snapshots_load(tmp_path):
    net = zf_fmnist()
    ddp = tmp_path / "ddp.pt"
    torch.save({"model": {f"module.{k}": v for k, v in net.state_dict().items()}}, ddp)
    m = deconvviz.load_model("zf-fmnist", weights=ddp)
    assert torch.equal(m.net.features[0].weight, net.features[0].weight)
    snapshot = tmp_path / "epoch-003.safetensors"
    meta = {"architecture": "zf-fmnist", "epoch": 3, "class_names": list("abcdefghij")}
    write_safetensors(snapshot, net.state_dict(), meta)
    m = deconvviz.load_model(str(snapshot))
    assert m.name == "zf-fmnist" and m.meta["epoch"] == 3 and m.class_names[0] == "a"


@pytest.mark.parametrize("meta", ["{not json", "[1, 2]"])
def test_a_snapshot_whose_description_is_not_a_json_object_is_one_message(tmp_path, meta):
    from safetensors.torch import save_file

    path = tmp_path / "odd.safetensors"
    save_file(zf_fmnist().state_dict(), str(path), metadata={"deconvviz": meta})
    with pytest.raises(DeconvvizError, match="^odd.safetensors: its 'deconvviz' metadata is not"):
        read_weights(path)
