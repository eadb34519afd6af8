"""The same command under torchrun: 2 CPU processes (gloo) train with DistributedDataParallel."""

import os
import subprocess
import sys

from deconvviz import load_model
from deconvviz.paths import PACKAGE
from deconvviz.train import list_snapshots
from deconvviz.train.snapshots import read_metrics


def test_two_process_ddp_on_cpu(tiny_data, tmp_path):
    out = tmp_path / "ddp"
    env = dict(os.environ, PYTHONPATH=str(PACKAGE.parent), OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "deconvviz.train", "--data", str(tiny_data), "--out", str(out), "--epochs", "2",
           "--batch-size", "16", "--device", "cpu", "--snapshots", "1"]
    done = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2 process(es) on cpu" in done.stderr
    assert done.stderr.count("epoch 2/2:") == 1  # only rank 0 prints
    rows = read_metrics(out / "metrics.csv")
    assert [r["epoch"] for r in rows] == [1, 2]
    assert [e for e, _ in list_snapshots(out)] == [1, 2]
    model = load_model(str(out / "zf-fmnist.safetensors"))
    assert model.meta["config"]["world_size"] == 2 and model.meta["epoch"] == 2
    assert sorted(p.name for p in out.iterdir()) == ["history", "metrics.csv", "resume.pt", "zf-fmnist.safetensors"]
