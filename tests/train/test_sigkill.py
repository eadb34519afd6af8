"""A training run killed with SIGKILL at random moments (snapshot writes included) always resumes.

After every kill, each file the run folder holds must be intact (a kill mid-write may leave only an
orphaned temporary file, never a torn snapshot), and ``--resume`` must carry on from the last snapshot.
"""

import os
import random
import signal
import subprocess
import sys
import time

import pytest
import torch

import deconvviz
from deconvviz.train import list_snapshots

KILLS = 5


def _train(tiny_data, out, *extra):
    argv = [sys.executable, "-m", "deconvviz", "train", "--data", str(tiny_data), "--out", str(out),
            "--epochs", "12", "--batch-size", "16", "--snapshots", ",".join(str(e) for e in range(1, 13)),
            "--workers", "0", "--quiet", "--seed", "0", *extra]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _assert_intact(out):
    for path in out.rglob("*.safetensors"):
        deconvviz.load_model(str(path))  # raises on a torn file
    if (out / "resume.pt").exists():
        torch.load(out / "resume.pt", weights_only=True)


def test_sigkill_at_random_moments_always_resumes(tiny_data, tmp_path):
    out = tmp_path / "run"
    rng = random.Random(7)
    epochs_seen = []
    for _ in range(KILLS):
        process = _train(tiny_data, out, *(["--resume"] if (out / "resume.pt").exists() else []))
        # Start-up (importing torch) takes a few seconds; kill somewhere between start-up and a few epochs in.
        deadline = time.monotonic() + rng.uniform(3.0, 9.0)
        while time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        _assert_intact(out)
        epochs_seen.append([e for e, _ in list_snapshots(out)])
    finish = _train(tiny_data, out, *(["--resume"] if (out / "resume.pt").exists() else []))
    _, err = finish.communicate(timeout=240)
    assert finish.returncode == 0, err
    _assert_intact(out)
    assert [e for e, _ in list_snapshots(out)] == list(range(1, 13))
    # Progress was kept across kills: the history only ever grew.
    assert all(set(a) <= set(b) for a, b in zip(epochs_seen, epochs_seen[1:]))
