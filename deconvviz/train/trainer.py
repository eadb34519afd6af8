"""The training loop: SGD on a registry architecture, with the paper's renormalisation, snapshots and resume."""

from __future__ import annotations

import math
import warnings
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ..data.datasets import DIGITS, ImageData, has_split, open_dataset
from ..errors import DeconvvizError
from ..models.history import snapshot_name
from ..models.registry import get_spec
from . import distributed
from .config import INITS, TrainConfig
from .evaluate import evaluate_net
from .inputs import Batches, augment, to_model_input
from .progress import Progress
from .renorm import renormalise_filters
from .snapshots import METRICS_FILE, RESUME_FILE, read_resume, write_metrics, write_resume, write_snapshot


class TrainingInterrupted(Exception):
    """Ctrl-C stopped training; the resume state and a snapshot were saved (``saved`` names them)."""

    def __init__(self, saved: list[Path]) -> None:
        super().__init__(", ".join(str(p) for p in saved))
        self.saved = saved


@dataclass
class TrainResult:
    """What a finished run produced: the per-epoch metrics rows, the final weights file, the snapshots."""

    rows: list[dict]
    final: Path | None
    snapshots: list[Path]
    seconds: float


def init_weights(net: nn.Module, kind: str) -> None:
    """Initialise ``net`` in place: "paper" N(0, 0.01) weights, "kaiming" He-normal, "pytorch" as built.

    "paper" and "kaiming" set biases to 0. The paper's N(0, 0.01) leaves zf-fmnist's loss flat at ln 10
    for at least 3 epochs (weights that small shrink the signal in every layer), hence "kaiming" by default.
    """
    if kind not in INITS:
        raise DeconvvizError(f"unknown --init {kind!r}; valid: {', '.join(INITS)}")
    if kind == "pytorch":
        return
    for module in net.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            if kind == "paper":
                nn.init.normal_(module.weight, 0.0, 1e-2)
            else:
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)


def final_name(model: str) -> str:
    """Return the file name of a run's final weights: the model name made file-safe, ``.safetensors``."""
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in model) + ".safetensors"


def train(config: TrainConfig, step_hook: Callable[[int, int], None] | None = None) -> TrainResult:
    """Train ``config.model`` as ``config`` says and return the TrainResult (rank 0 also writes the files).

    ``step_hook(epoch, step)`` is called after every optimiser step (tests use it to interrupt a run).
    Raises DeconvvizError for bad data or settings before training starts, or when a file cannot be
    written (the previous snapshot stays intact); TrainingInterrupted on Ctrl-C, after saving.
    """
    _check(config)
    ranks = distributed.start(config.device)
    try:
        return _Run(config, ranks, step_hook).run()
    finally:
        distributed.stop(ranks)


def _check(config: TrainConfig) -> None:
    for name, value, low in (("--epochs", config.epochs, 1), ("--batch-size", config.batch_size, 1)):
        if value < low:
            raise DeconvvizError(f"{name} must be at least {low}, got {value}")
    if not (config.lr > 0 and math.isfinite(config.lr)):
        raise DeconvvizError(f"--lr must be a positive number, got {config.lr}")
    if config.renorm is not None and not config.renorm > 0:
        raise DeconvvizError(f"--renorm RADIUS must be positive, got {config.renorm} (use --no-renorm for none)")
    if not 0 < config.val_fraction < 1:
        raise DeconvvizError(f"--val-fraction must be between 0 and 1, got {config.val_fraction}")
    if config.limit is not None and config.limit < 1:
        raise DeconvvizError(f"--limit must be at least 1, got {config.limit}")


@torch.no_grad()
def _outputs(net: nn.Module, prep) -> int:
    was_training = net.training
    net.eval()
    try:
        return net(torch.zeros(1, prep.channels, *prep.size)).shape[1]
    finally:
        net.train(was_training)


class _Run:
    def __init__(self, config: TrainConfig, ranks: distributed.Ranks, step_hook) -> None:
        self.config, self.ranks, self.step_hook = config, ranks, step_hook
        self.out = Path(config.out)
        self.spec = get_spec(config.model)
        self.prep = self.spec.preprocessing
        self.progress = Progress(config.epochs, quiet=config.quiet or not ranks.main)
        self.train_data, self.val_data = self._open_data()
        self.class_names = self.train_data.class_names
        # Crops happen on the images as stored (IDX images keep their size until to_model_input resizes them).
        stored = self.train_data.images.shape[2:] if self.train_data.in_memory else self.prep.size
        self.pad = config.crop_pad if config.crop_pad is not None else max(2, round(min(stored) / 10))
        self.flip = config.flip if config.flip is not None else self.class_names != DIGITS
        self.last_snapshot: Path | None = None
        self.snapshots: list[Path] = []
        self.rows: list[dict] = []

    def _open_data(self) -> tuple[ImageData, ImageData]:
        c = self.config
        data = open_dataset(c.data, "train", self.prep.size, self.prep.mode)
        if has_split(c.data, "test"):
            val = open_dataset(c.data, "test", self.prep.size, self.prep.mode)
        else:
            order = torch.randperm(len(data), generator=torch.Generator().manual_seed(c.seed))
            n_val = max(1, round(len(data) * c.val_fraction))
            if n_val >= len(data):
                raise DeconvvizError(f"{data.source} holds {len(data)} images, too few to hold some out for validation")
            data, val = data.subset(order[n_val:].sort().values), data.subset(order[:n_val].sort().values)
        if c.limit is not None:
            data = data.subset(range(min(c.limit, len(data))))
        if c.val_limit is not None:
            val = val.subset(range(min(c.val_limit, len(val))))
        if val.class_names != data.class_names:
            raise DeconvvizError(f"the training and validation splits of {data.source} name different classes")
        return data, val

    def _build(self) -> nn.Module:
        torch.manual_seed(self.config.seed)
        net = self.spec.build(num_classes=len(self.class_names), in_channels=self.prep.channels)
        init_weights(net, self.config.init)
        try:
            outputs = _outputs(net, self.prep)
        except RuntimeError as exc:  # a user's model that does not take this input
            raise DeconvvizError(f"{self.spec.name} does not run on its input size {tuple(self.prep.size)} x "
                                 f"{self.prep.channels} channels: {str(exc).splitlines()[0]}") from None
        if outputs != len(self.class_names):
            raise DeconvvizError(f"{self.spec.name} has {outputs} outputs but the data has {len(self.class_names)} "
                                 f"classes; give a model whose last layer fits the data")
        if self.config.renorm is not None:
            renormalise_filters(net, self.config.renorm)
        return net.to(self.ranks.device)

    def run(self) -> TrainResult:
        c, ranks = self.config, self.ranks
        net = self._build()
        optimizer = torch.optim.SGD(net.parameters(), lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay)
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=c.lr_factor,
                                                               patience=c.lr_patience, min_lr=c.min_lr)
        start = 0
        if c.resume:
            start = self._resume(net, optimizer, scheduler)
        model = net
        if ranks.distributed:
            # Layer 1's weight has one input channel, so its gradient's stride on that axis is arbitrary.
            warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")
            ids = [ranks.device.index] if ranks.device.type == "cuda" else None
            model = nn.parallel.DistributedDataParallel(net, device_ids=ids)
        batches = Batches(self.train_data, c.batch_size, ranks.device, ranks.rank, ranks.world, c.seed,
                          workers=c.workers)
        val_batches = Batches(self.val_data, max(c.batch_size, 512), ranks.device, ranks.rank, ranks.world,
                              shuffle=False, workers=c.workers)
        if ranks.main and start == 0:
            self.progress.line(
                f"training {self.spec.name} on {len(self.train_data):,} images ({self.train_data.source}), "
                f"validating on {len(self.val_data):,}; {ranks.world} process(es) on {ranks.device}; "
                f"renorm {c.renorm if c.renorm is not None else 'off'}, crops pad {self.pad}, "
                f"flips {'on' if self.flip else 'off'}")
        if ranks.main and start == 0:
            # Epoch 0 state, so that a run stopped in its first epoch can be resumed too.
            self._write(lambda: write_resume(self.out / RESUME_FILE, self._resume_state(net, optimizer, scheduler, 0)))
        began = time.perf_counter()
        completed = start
        for epoch in range(start + 1, c.epochs + 1):
            try:
                self._train_epoch(model, net, optimizer, scheduler, batches, val_batches, epoch)
            except KeyboardInterrupt:
                raise TrainingInterrupted(self._save_interrupted(net, completed)) from None
            completed = epoch
        final = None
        if ranks.main:
            final = self.out / final_name(self.spec.name)
            self._write(lambda: write_snapshot(final, net, self._meta(self.rows[-1]["epoch"] if self.rows else start)))
            self.progress.line(f"final weights: {final}")
        return TrainResult(self.rows, final, self.snapshots, time.perf_counter() - began)

    def _train_epoch(self, model, net, optimizer, scheduler, batches: Batches, val_batches: Batches, epoch: int) -> None:
        c, ranks = self.config, self.ranks
        seconds = time.perf_counter()
        train_loss, train_top1, images = self._epoch(model, net, optimizer, batches, epoch)
        train_seconds = time.perf_counter() - seconds
        val = evaluate_net(net, val_batches, self.prep, ranks)
        scheduler.step(val["loss"])
        row = {"epoch": epoch, "train_loss": train_loss, "train_top1": train_top1, "val_loss": val["loss"],
               "val_top1": val["top1"], "val_top5": val["top5"], "lr": optimizer.param_groups[0]["lr"],
               "seconds": time.perf_counter() - seconds, "images_per_s": images / train_seconds}
        self.rows.append(row)
        self.progress.line(
            f"epoch {epoch}/{c.epochs}: train loss {train_loss:.4f} top-1 {train_top1:.2%} | val loss "
            f"{val['loss']:.4f} top-1 {val['top1']:.2%} top-5 {val['top5']:.2%} | next lr {row['lr']:.3g} | "
            f"{row['seconds']:.1f} s ({row['images_per_s']:,.0f} images/s)")
        if ranks.main:
            self._save_epoch(net, optimizer, scheduler, epoch)
        distributed.barrier(ranks)

    def _epoch(self, model, net, optimizer, batches: Batches, epoch: int) -> tuple[float, float, int]:
        c, ranks = self.config, self.ranks
        # Seeds derived from (seed, epoch, rank): a resumed run sees the same crops, flips and dropout.
        torch.manual_seed(c.seed * 100_003 + epoch * 1009 + ranks.rank)
        generator = torch.Generator(device=ranks.device).manual_seed(c.seed * 7919 + epoch * 31 + ranks.rank)
        model.train()
        self.progress.start_epoch(epoch, len(batches))
        total = torch.zeros(3, dtype=torch.float64, device=ranks.device)  # loss sum, correct, images
        images_seen = 0
        for step, (images, labels) in enumerate(batches.epoch(epoch), 1):
            x = to_model_input(augment(images, self.pad, self.flip, generator), self.prep)
            logits = model(x)
            loss = F.cross_entropy(logits, labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if c.renorm is not None:
                renormalise_filters(net, c.renorm)
            with torch.no_grad():
                n = labels.numel()
                images_seen += n
                total[0] += loss.detach().double() * n
                total[1] += (logits.argmax(1) == labels).sum()
            if self.progress.wants_update():
                self.progress.step(step, total[0].item() / images_seen)
            if self.step_hook is not None:
                self.step_hook(epoch, step)
        if not torch.isfinite(total[0]):
            raise DeconvvizError(f"training diverged in epoch {epoch} (loss is not finite); lower --lr "
                                 f"or keep the filter renormalisation on")
        total[2] = images_seen
        loss_sum, correct, images = distributed.sum_across(ranks, total).tolist()
        return loss_sum / images, correct / images, int(images)

    def _meta(self, epoch: int, metrics: dict | None = None) -> dict:
        return {
            "architecture": self.spec.name,
            "epoch": epoch,
            "metrics": metrics if metrics is not None else (self.rows[-1] if self.rows else {}),
            "preprocessing": self.prep.as_dict(),
            "class_names": list(self.class_names),
            "config": self.config.recorded() | {"crop_pad": self.pad, "flip": self.flip, "world_size": self.ranks.world},
        }

    def _resume_state(self, net, optimizer, scheduler, epoch: int) -> dict:
        return {"model": net.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "epoch": epoch, "rows": self.rows, "config": self.config.recorded(),
                "last_snapshot": str(self.last_snapshot) if self.last_snapshot else ""}

    def _write(self, write) -> None:
        try:
            write()
        except DeconvvizError as exc:
            kept = f"the previous snapshot {self.last_snapshot} is intact" if self.last_snapshot else "no snapshot was written yet"
            raise DeconvvizError(f"{exc}; {kept}. Free some space or fix the folder's permissions, "
                                 f"then continue with --resume") from None

    def _save_epoch(self, net, optimizer, scheduler, epoch: int) -> None:
        c = self.config
        if epoch in c.snapshots or epoch == c.epochs:
            path = self.out / "history" / snapshot_name(epoch)
            dtype = torch.float16 if c.history_dtype == "float16" else torch.float32
            self._write(lambda: write_snapshot(path, net, self._meta(epoch), dtype))
            self.last_snapshot = path
            self.snapshots.append(path)
        self._write(lambda: write_metrics(self.out / METRICS_FILE, self.rows))
        self._write(lambda: write_resume(self.out / RESUME_FILE, self._resume_state(net, optimizer, scheduler, epoch)))

    def _save_interrupted(self, net, completed: int) -> list[Path]:
        # resume.pt stays at the last completed epoch, so --resume repeats the interrupted epoch and ends
        # with the very weights an uninterrupted run would have.
        if not self.ranks.main:
            return []
        snapshot = self.out / "interrupted.safetensors"
        self._write(lambda: write_snapshot(snapshot, net, self._meta(completed, {"interrupted_in_epoch": completed + 1})))
        self.progress.line(f"interrupted in epoch {completed + 1}: saved the current weights to {snapshot}; "
                           f"--resume continues from the end of epoch {completed} ({self.out / RESUME_FILE})")
        return [snapshot, self.out / RESUME_FILE]

    def _resume(self, net, optimizer, scheduler) -> int:
        state = read_resume(self.out / RESUME_FILE)
        recorded = self.config.recorded()
        changed = [k for k in ("model", "init", "batch_size", "seed")
                   if k in state.get("config", {}) and state["config"][k] != recorded[k]]
        if changed:
            raise DeconvvizError(f"cannot resume {self.out}: it was started with a different "
                                 f"{', '.join(changed)}; use the same settings or a new --out")
        net.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        self.rows = [r for r in state["rows"] if r["epoch"] <= state["epoch"]]
        self.last_snapshot = Path(state["last_snapshot"]) if state.get("last_snapshot") else None
        self.progress.line(f"resuming {self.out} after epoch {state['epoch']}")
        return int(state["epoch"])
