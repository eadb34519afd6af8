"""Finding a run's snapshots, and the bundled histories."""

from deconvviz import load_model
from deconvviz.paths import WEIGHTS
from deconvviz.train import PAPER_SNAPSHOTS, list_snapshots
from deconvviz.train.renorm import filter_rms


def test_list_snapshots_sorted_by_epoch(tmp_path):
    (tmp_path / "history").mkdir()
    for name in ("epoch-010.safetensors", "epoch-002.safetensors", "interrupted.safetensors", "epoch-3.txt"):
        (tmp_path / "history" / name).write_bytes(b"")
    found = list_snapshots(tmp_path)
    assert [e for e, _ in found] == [2, 10]
    assert list_snapshots(tmp_path / "history") == found
    assert list_snapshots(tmp_path / "missing") == []


def test_bundled_histories_load():
    history = list_snapshots(WEIGHTS / "zf-fmnist")
    assert [e for e, _ in history] == [*PAPER_SNAPSHOTS, 70]
    first = load_model(str(history[0][1]))
    assert first.name == "zf-fmnist" and first.meta["epoch"] == 1 and first.meta["config"]["renorm"] == 0.1
    assert max(float(r.max()) for r in filter_rms(first.net).values()) <= 0.1 + 1e-3  # fp16 rounding
    plain = list_snapshots(WEIGHTS / "zf-fmnist-norenorm")
    assert [e for e, _ in plain] == [1, 2, 5, 10]
    loose = load_model(str(plain[0][1]))
    assert loose.meta["config"]["renorm"] is None
    assert float(filter_rms(loose.net)["features.0"].max()) > 0.2


def test_bundled_model_is_the_trained_one():
    model = load_model("zf-fmnist")
    assert model.trained and model.meta["epoch"] == 70 and model.meta["metrics"]["val_top1"] > 0.91
    assert model.class_names[9] == "Ankle boot"
    assert next(model.net.parameters()).dtype.is_floating_point
