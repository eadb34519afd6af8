"""The trainer on a tiny real subset: it learns, renormalises, snapshots, resumes, and fails cleanly."""

import dataclasses
import errno

import numpy as np
import pytest
import torch
from PIL import Image

from deconvviz import load_model
from deconvviz.data.idx import write_idx_gz
from deconvviz.errors import DeconvvizError
from deconvviz.models.weights import read_weights
from deconvviz.train import TrainingInterrupted, list_snapshots, train
from deconvviz.train.renorm import filter_rms
from deconvviz.train.snapshots import read_metrics, read_resume


def _same_weights(a, b):
    sa, sb = read_weights(a)[0], read_weights(b)[0]
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_training_lowers_loss_keeps_filters_renormalised_and_snapshots_load(tiny_config, tmp_path):
    config = dataclasses.replace(tiny_config, epochs=5, snapshots=(1, 3), crop_pad=0, flip=False)
    result = train(config)
    losses = [r["val_loss"] for r in result.rows]  # eval-mode loss on training images
    assert losses[-1] < 2.15 and losses[-1] < losses[0] - 0.1, losses
    assert result.rows[-1]["val_top1"] > 0.3
    assert [e for e, _ in list_snapshots(config.out)] == [1, 3, 5]
    assert [r["epoch"] for r in read_metrics(tmp_path / "run" / "metrics.csv")] == [1, 2, 3, 4, 5]
    for path in [result.final] + [p for _, p in list_snapshots(config.out)]:
        model = load_model(str(path))
        assert model.name == "zf-fmnist" and model.class_names[0] == "T-shirt/top"
        assert model.preprocessing.size == (28, 28)
        assert max(float(r.max()) for r in filter_rms(model.net).values()) <= 0.1 + 1e-6
    meta = load_model(str(result.final)).meta
    assert meta["epoch"] == 5 and meta["metrics"]["epoch"] == 5 and meta["config"]["seed"] == 0
    assert meta["config"]["batch_size"] == 16 and "out" not in meta["config"]


def test_without_renorm_filters_keep_their_size(tiny_config):
    result = train(dataclasses.replace(tiny_config, epochs=1, renorm=None))
    assert float(filter_rms(load_model(str(result.final)).net)["features.0"].max()) > 0.2


class _Killed(Exception):
    pass


def _stop_at(epoch, step, exc):
    def hook(e, s):
        if (e, s) == (epoch, step):
            raise exc
    return hook


def test_killed_run_resumes_from_last_snapshot_to_the_same_weights(tiny_config, tmp_path):
    whole = train(dataclasses.replace(tiny_config, out=str(tmp_path / "whole")))
    with pytest.raises(_Killed):  # a crash or kill: nothing is saved on the way out
        train(tiny_config, step_hook=_stop_at(2, 3, _Killed()))
    assert read_resume(tmp_path / "run" / "resume.pt")["epoch"] == 1
    assert [e for e, _ in list_snapshots(tiny_config.out)] == [1]
    resumed = train(dataclasses.replace(tiny_config, resume=True))
    assert [r["epoch"] for r in resumed.rows] == [1, 2]
    assert _same_weights(whole.final, resumed.final)


def test_ctrl_c_saves_a_snapshot_and_resume_finishes(tiny_config):
    with pytest.raises(TrainingInterrupted) as caught:
        train(tiny_config, step_hook=_stop_at(1, 2, KeyboardInterrupt()))
    snapshot = caught.value.saved[0]
    assert snapshot.name == "interrupted.safetensors"
    assert load_model(str(snapshot)).meta["metrics"] == {"interrupted_in_epoch": 1}
    result = train(dataclasses.replace(tiny_config, resume=True))
    assert [r["epoch"] for r in result.rows] == [1, 2] and result.final.is_file()


def test_failed_write_keeps_the_previous_snapshot(tiny_config, monkeypatch):
    import safetensors.torch

    real, calls = safetensors.torch.save_file, []

    def full_disk(tensors, filename, metadata=None):
        calls.append(filename)
        if len(calls) == 2:  # the epoch-2 snapshot: half written, then the disk is full
            open(filename, "wb").write(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device")
        real(tensors, filename, metadata=metadata)

    monkeypatch.setattr(safetensors.torch, "save_file", full_disk)
    with pytest.raises(DeconvvizError, match=r"No space left on device.*previous snapshot .*epoch-001\.safetensors is intact"):
        train(tiny_config)
    history = list_snapshots(tiny_config.out)
    assert [e for e, _ in history] == [1]
    assert load_model(str(history[0][1])).meta["epoch"] == 1
    assert sorted(p.name for p in history[0][1].parent.iterdir()) == ["epoch-001.safetensors"]


def test_bad_data_and_settings_fail_before_training(tiny_config, tiny_data, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (bad / name).write_bytes((tiny_data / name).read_bytes())
    (bad / "train-images-idx3-ubyte.gz").write_bytes((tiny_data / "train-images-idx3-ubyte.gz").read_bytes()[:5000])
    with pytest.raises(DeconvvizError, match="train-images-idx3-ubyte.gz is not a readable gzip"):
        train(dataclasses.replace(tiny_config, data=str(bad)))
    write_idx_gz(bad / "train-images-idx3-ubyte.gz", np.zeros((127, 28, 28), np.uint8))
    with pytest.raises(DeconvvizError, match="127 images but train-labels-idx1-ubyte.gz holds 128 labels"):
        train(dataclasses.replace(tiny_config, data=str(bad)))
    with pytest.raises(DeconvvizError, match="--lr must be a positive"):
        train(dataclasses.replace(tiny_config, lr=0.0))
    assert not (tmp_path / "run").exists()
    train(dataclasses.replace(tiny_config, epochs=1))
    with pytest.raises(DeconvvizError, match="different seed"):
        train(dataclasses.replace(tiny_config, seed=1, resume=True))


def test_image_folder_training_holds_out_validation(tmp_path):
    from deconvviz.train import TrainConfig

    rng = np.random.default_rng(0)
    for c, name in enumerate(("dark", "light")):
        (tmp_path / "data" / name).mkdir(parents=True)
        for i in range(10):
            pixels = rng.integers(0, 100, (20, 20)).astype(np.uint8) + 150 * c
            Image.fromarray(pixels, "L").save(tmp_path / "data" / name / f"{i}.png")
    config = TrainConfig(data=str(tmp_path / "data"), out=str(tmp_path / "run"), epochs=1, batch_size=8,
                         device="cpu", quiet=True, workers=0, val_fraction=0.2)
    result = train(config)
    model = load_model(str(result.final))
    assert model.class_names == ["dark", "light"]
    assert model.net.classifier[-1].out_features == 2
    assert 0 < result.rows[0]["val_top1"] <= 1


def test_model_that_does_not_fit_the_classes(tiny_config, tmp_path):
    factory = tmp_path / "mine.py"
    factory.write_text("import torch\ndef net():\n    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 3))\n")
    with pytest.raises(DeconvvizError, match="does not run on its input size .224, 224. x 3 channels"):
        train(dataclasses.replace(tiny_config, model=f"{factory}:net"))
    factory.write_text(factory.read_text() + "PREPROCESSING = dict(size=[28, 28], mode='L', mean=[0.5], std=[0.5])\n")
    with pytest.raises(DeconvvizError, match="has 3 outputs but the data has 10 classes"):
        train(dataclasses.replace(tiny_config, model=f"{factory}:net"))
