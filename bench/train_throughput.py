"""Training throughput (images/s): deconvviz's trainer against a plain hand-written PyTorch loop.

Both train zf-fmnist on the same images in the same process, with the same per-step work (pad-and-crop,
flips, normalisation, SGD with momentum, filter renormalisation), alternating over several rounds; the
figures are medians over epochs (each run's first epoch, the warm-up, left out). With --ddp it also runs
the trainer under torchrun with 2 CPU processes (gloo) against 1 process.

    PYTHONPATH=. python bench/train_throughput.py [--device cpu|cuda] [--data DIR] [--images N] [--ddp]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deconvviz.data.datasets import bundled_subset, open_dataset  # noqa: E402
from deconvviz.data.idx import write_idx_gz  # noqa: E402
from deconvviz.models.registry import get_spec  # noqa: E402
from deconvviz.train import TrainConfig, train  # noqa: E402
from deconvviz.train.inputs import augment, to_model_input  # noqa: E402
from deconvviz.train.snapshots import read_metrics  # noqa: E402
from deconvviz.train.trainer import init_weights  # noqa: E402


def make_data(folder: Path, source: str | None, n: int) -> Path:
    """Write the first ``n`` training images (bundled subset when ``source`` is None) as an IDX train/test pair."""
    data = bundled_subset() if source is None else open_dataset(source, "train")
    n = min(n, len(data))
    x, y = data.images[:n, 0].numpy(), data.labels[:n].numpy().astype(np.uint8)
    for prefix in ("train", "t10k"):
        write_idx_gz(folder / f"{prefix}-images-idx3-ubyte.gz", x)
        write_idx_gz(folder / f"{prefix}-labels-idx1-ubyte.gz", y)
    return folder


def trainer_rates(data: Path, out: Path, epochs: int, device: str, batch: int) -> list[float]:
    """Return the trainer's per-epoch training images/s (epochs 2..E)."""
    config = TrainConfig(data=str(data), out=str(out), epochs=epochs, batch_size=batch, snapshots=(),
                         device=device, quiet=True, val_limit=batch)
    result = train(config)
    return [row["images_per_s"] for row in result.rows[1:]]


def plain_rates(data: Path, epochs: int, device: str, batch: int, seed: int = 0) -> list[float]:
    """Return a hand-written loop's per-epoch images/s (epochs 2..E) on the same model and images."""
    dev = torch.device(device)
    spec = get_spec("zf-fmnist")
    prep = spec.preprocessing
    d = open_dataset(data, "train")
    images, labels = d.images.to(dev), d.labels.to(dev)
    torch.manual_seed(seed)
    net = spec.build().to(dev)
    init_weights(net, "kaiming")
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    opt = torch.optim.SGD(net.parameters(), lr=1e-2, momentum=0.9)
    gen = torch.Generator(device=dev).manual_seed(seed)
    rates = []
    net.train()
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(len(images), device=dev)
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            x = to_model_input(augment(images[idx], 3, True, gen), prep)
            loss = F.cross_entropy(net(x), labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            with torch.no_grad():
                for conv in convs:
                    w = conv.weight
                    rms = w.pow(2).mean(dim=(1, 2, 3), keepdim=True).sqrt()
                    w.mul_((0.1 / rms).clamp(max=1.0))
        if dev.type == "cuda":
            torch.cuda.synchronize()
        rates.append(len(images) / (time.perf_counter() - start))
    return rates[1:]


def ddp_rate(data: Path, out: Path, epochs: int, batch: int, procs: int) -> float:
    """Return the median training images/s (all processes together) of the trainer under torchrun on CPU."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}",
           "-m", "deconvviz.train", "--data", str(data), "--out", str(out), "--epochs", str(epochs),
           "--batch-size", str(batch), "--snapshots", "999", "--device", "cpu", "--quiet", "--val-limit", "64"]
    env = {"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    subprocess.run(cmd, check=True, cwd=ROOT, env=env)
    return statistics.median(r["images_per_s"] for r in read_metrics(out / "metrics.csv")[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data", help="IDX folder to take images from (default: the bundled subset)")
    parser.add_argument("--images", type=int, default=1024)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--ddp", action="store_true", help="also 2-process DDP on CPU against 1 process")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = make_data(tmp / "data", args.data, args.images)
        ours, plain = [], []
        for r in range(args.rounds):
            ours += trainer_rates(data, tmp / f"run{r}", args.epochs, args.device, args.batch_size)
            plain += plain_rates(data, args.epochs, args.device, args.batch_size)
        mo, mp = statistics.median(ours), statistics.median(plain)
        name = torch.cuda.get_device_name() if args.device.startswith("cuda") else f"CPU, {torch.get_num_threads()} threads"
        print(f"device: {args.device} ({name}); {args.images} images, batch {args.batch_size}, "
              f"{args.rounds} rounds x {args.epochs - 1} timed epochs")
        print(f"trainer     {mo:10.0f} images/s (median of {len(ours)})")
        print(f"plain loop  {mp:10.0f} images/s (median of {len(plain)})")
        print(f"ratio trainer/plain: {mo / mp:.3f}")
        if args.ddp:
            one = ddp_rate(data, tmp / "ddp1", args.epochs, args.batch_size, 1)
            two = ddp_rate(data, tmp / "ddp2", args.epochs, args.batch_size, 2)
            print(f"torchrun 1 process  {one:8.0f} images/s (CPU, gloo, 1 thread each)")
            print(f"torchrun 2 processes {two:7.0f} images/s (global batch {2 * args.batch_size})")
            print(f"ratio 2 processes / 1 process: {two / one:.3f}")


if __name__ == "__main__":
    main()
