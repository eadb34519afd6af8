"""A training run's settings (the paper's defaults), and the command-line arguments that set them."""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass, field

# The epochs at which the paper shows feature evolution (Fig. 4).
PAPER_SNAPSHOTS = (1, 2, 5, 10, 20, 30, 40, 64)
INITS = ("kaiming", "paper", "pytorch")


@dataclass
class TrainConfig:
    """Everything that decides a run; stored in every snapshot.

    ``data`` None means Fashion-MNIST where the Debian package dataset-fashion-mnist puts it. ``flip`` and
    ``crop_pad`` None mean: decided by the data (no flips for digits; pad = a tenth of the image side, at
    least 2 pixels). ``limit`` trains on the first N images only (tiny runs, tests).
    """

    model: str = "zf-fmnist"
    data: str | None = None
    out: str = "runs/zf-fmnist"
    epochs: int = 70
    batch_size: int = 128
    lr: float = 1e-2
    momentum: float = 0.9
    weight_decay: float = 0.0
    init: str = "kaiming"
    renorm: float | None = 0.1
    crop_pad: int | None = None
    flip: bool | None = None
    lr_factor: float = 0.1
    lr_patience: int = 3
    min_lr: float = 1e-5
    val_fraction: float = 0.1
    snapshots: tuple[int, ...] = field(default=PAPER_SNAPSHOTS)
    history_dtype: str = "float32"
    seed: int = 0
    device: str = "auto"
    workers: int = 2
    limit: int | None = None
    val_limit: int | None = None
    resume: bool = False
    quiet: bool = False

    def recorded(self) -> dict:
        """Return the settings that shaped the weights, JSON-friendly (no output folder, no display options)."""
        d = asdict(self)
        for key in ("out", "resume", "quiet", "workers", "device"):
            d.pop(key)
        d["snapshots"] = list(self.snapshots)
        return d


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the trainer's options to ``parser`` (shared by ``deconvviz train`` and ``python -m deconvviz.train``)."""
    d = TrainConfig()
    a = parser.add_argument
    a("--model", default=d.model, help=f"registered architecture to train (default {d.model})")
    a("--data", help="IDX folder (Fashion-MNIST/MNIST layout) or image folder with one sub-folder per class "
                     "(default: Fashion-MNIST from the Debian package dataset-fashion-mnist)")
    a("--out", help="run folder for snapshots, metrics.csv and resume.pt (default runs/MODEL)")
    a("--epochs", type=int, default=d.epochs, help=f"epochs to train (default {d.epochs}, as in the paper)")
    a("--batch-size", type=int, default=d.batch_size, help=f"mini-batch per process (default {d.batch_size})")
    a("--lr", type=float, default=d.lr, help=f"initial learning rate (default {d.lr})")
    a("--momentum", type=float, default=d.momentum, help=f"SGD momentum (default {d.momentum})")
    a("--weight-decay", type=float, default=d.weight_decay, help="L2 weight decay (default 0)")
    a("--init", choices=INITS, default=d.init,
      help="kaiming: He-normal weights, biases 0 (default); paper: N(0, 0.01), biases 0 (does not train "
           "zf-fmnist in a few epochs); pytorch: PyTorch's own default")
    a("--renorm", type=float, default=d.renorm, metavar="RADIUS",
      help="after every step scale conv filters with RMS above RADIUS down to it (default 0.1)")
    a("--no-renorm", dest="renorm", action="store_const", const=None, help="no filter renormalisation")
    a("--crop-pad", type=int, help="random crops: zero-pad this many pixels, crop back (default: side/10, >= 2)")
    a("--flip", dest="flip", action="store_true", default=None, help="random horizontal flips")
    a("--no-flip", dest="flip", action="store_false", help="no flips (the default for digits)")
    a("--lr-factor", type=float, default=d.lr_factor, help="multiply the learning rate by this when validation "
                                                            "loss stalls (default 0.1)")
    a("--lr-patience", type=int, default=d.lr_patience, help="epochs without improvement before that (default 3)")
    a("--val-fraction", type=float, default=d.val_fraction,
      help="held-out share of the training images when the data has no test/val split (default 0.1)")
    a("--snapshots", type=_epochs, default=d.snapshots, metavar="E,E,...",
      help="epochs to snapshot (default 1,2,5,10,20,30,40,64; the last epoch always)")
    a("--history-dtype", choices=("float32", "float16"), default=d.history_dtype,
      help="precision of the per-epoch snapshots (the final weights are always float32)")
    a("--seed", type=int, default=d.seed, help="seed for initialisation, shuffling, crops, flips, dropout")
    a("--device", default=d.device, help="auto (CUDA if available), cpu, cuda, cuda:N")
    a("--workers", type=int, default=d.workers, help="data-loading processes for image folders (default 2)")
    a("--limit", type=int, help="train on the first N training images only")
    a("--val-limit", type=int, help="validate on the first N validation images only")
    a("--resume", action="store_true", help="continue the run in --out from its resume.pt")
    a("--quiet", action="store_true", help="print nothing but errors")


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Return the TrainConfig that parsed arguments describe."""
    names = TrainConfig.__dataclass_fields__
    values = {k: v for k, v in vars(args).items() if k in names and v is not None or k in ("renorm", "flip")}
    if args.out is None:
        values["out"] = "runs/" + "".join(c if c.isalnum() or c in "-_." else "-" for c in args.model)
    return TrainConfig(**{k: v for k, v in values.items() if k in names})


def _epochs(text: str) -> tuple[int, ...]:
    try:
        epochs = tuple(sorted({int(v) for v in text.split(",") if v.strip()}))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected epochs like 1,2,5,10, got {text!r}") from None
    if any(e < 1 for e in epochs):
        raise argparse.ArgumentTypeError("snapshot epochs start at 1")
    return epochs
