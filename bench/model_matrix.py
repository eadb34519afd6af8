"""Run every CLI subcommand that takes a model on the big torchvision architectures (random weights).

``python -m bench.model_matrix [--archs vit_b_16,swin_t] [--commands layers,maps] [--device cpu]``

Prints one line per (architecture, command): ok or the error, and the seconds it took. Not a benchmark
of speed; it is the check that ViT, Swin, MaxViT, ConvNeXt, RegNet, DenseNet, Inception v3 (299 px) and
GoogLeNet work with every command. The test suite runs a cheap subset (tests/cli/test_big_models.py).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

from deconvviz.cli import main

ROOT = Path(__file__).resolve().parent.parent
PHOTO = str(ROOT / "resources" / "photos" / "coffee.png")

# A layer in the middle of each network: its token, channels-last or (C, H, W) maps.
LAYERS = {
    "vit_b_16": "encoder.layers.encoder_layer_2",
    "swin_t": "features.3",
    "maxvit_t": "blocks.1",
    "convnext_tiny": "features.3.0.block.4",
    "regnet_y_400mf": "trunk_output.block2",
    "densenet121": "features.denseblock2",
    "inception_v3": "Mixed_5b",
    "googlenet": "inception3b",
}


def commands(arch: str, layer: str, work: Path) -> dict[str, list[str]]:
    """Return each subcommand's argv (model first) for ``arch`` at ``layer``, writing under ``work``."""
    model = ["--model", f"torchvision:{arch}"]
    photos = [str(p) for p in sorted((ROOT / "resources" / "photos").glob("*.png"))][:2]
    sneakers = sorted(str(p) for p in (ROOT / "resources" / "correspondence").glob("sneaker-*.png"))[:2]
    return {
        "layers": ["layers", *model],
        "maps": ["maps", *model, "--image", PHOTO, "--layer", layer, "--out", str(work / "maps.png")],
        "project": ["project", *model, "--image", PHOTO, "--layer", layer, "--channel", "3", "--out",
                    str(work / "p.png")],
        "project-position": ["project", *model, "--image", PHOTO, "--layer", layer, "--channel", "3", "--position",
                             "1,2", "--mode", "guided", "--out", str(work / "pp.png")],
        "project-top-k": ["project", *model, "--image", PHOTO, "--layer", layer, "--channel", "3", "--top-k", "2",
                          "--out", str(work / "pk.png")],
        "project-map": ["project", *model, "--image", PHOTO, "--layer", layer, "--channel", "3", "--map", "--out",
                        str(work / "pm.png")],
        "occlusion": ["occlusion", *model, "--image", PHOTO, "--layer", layer, "--patch", "75", "--stride", "75",
                      "--out", str(work / "o.png")],
        "saliency": ["saliency", *model, "--image", PHOTO, "--out", str(work / "s.png")],
        "actmax": ["actmax", *model, "--layer", layer, "--channel", "1", "--steps", "2", "--out", str(work / "a.png")],
        "filters": ["filters", *model, "--out", str(work / "f.png")],
        "topk": ["topk", *model, "--data", str(ROOT / "resources" / "photos"), "--layer", layer, "--channels", "0-3",
                 "--k", "2", "--limit", "2", "--batch-size", "2", "--out", str(work / "topk")],
        "invariance": ["invariance", *model, "--images", *photos, "--transform", "rotate", "--range", "0,90",
                       "--out", str(work / "i.png")],
        "correspondence": ["correspondence", *model, "--images", *sneakers, "--parts",
                           str(ROOT / "resources" / "correspondence" / "sneakers-parts.json"), "--random", "1",
                           "--out", str(work / "c.png")],
        "evaluate": ["evaluate", *model, "--data", str(work / "eval"), "--batch-size", "2"],
    }


def _eval_folder(work: Path) -> None:
    """Write a two-image folder of class folders (tench, goldfish) for ``evaluate``."""
    for name in ("tench", "goldfish"):
        (work / "eval" / "test" / name).mkdir(parents=True, exist_ok=True)
        Image.open(PHOTO).convert("RGB").save(work / "eval" / "test" / name / "a.png")


def run(archs, names, device="cpu") -> list[tuple[str, str, int, float, str]]:
    """Return (arch, command, exit code, seconds, last stderr line) for every combination."""
    rows = []
    for arch in archs:
        work = Path(tempfile.mkdtemp(prefix=f"matrix-{arch}-"))
        _eval_folder(work)
        try:
            for name, argv in commands(arch, LAYERS[arch], work).items():
                if names and name not in names:
                    continue
                if device != "cpu":
                    argv = [*argv, "--device", device]
                err, out = io.StringIO(), io.StringIO()
                start = time.perf_counter()
                with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
                    try:
                        code = main(argv)
                    except Exception as exc:  # noqa: BLE001 - a traceback is a failure to report, not to stop on
                        code, err = 99, io.StringIO(f"{type(exc).__name__}: {exc}")
                seconds = time.perf_counter() - start
                last = (err.getvalue().strip().splitlines() or [""])[-1][:160]
                rows.append((arch, name, code, seconds, last))
                print(f"{arch:<16} {name:<18} {'ok' if code == 0 else f'rc={code}':<6} {seconds:7.1f} s  "
                      f"{'' if code == 0 else last}", flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return rows


def cli() -> int:
    """Parse the arguments, run the matrix and return 1 if any combination failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", default=",".join(LAYERS))
    parser.add_argument("--commands", default="")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    rows = run(args.archs.split(","), [c for c in args.commands.split(",") if c], args.device)
    failed = [r for r in rows if r[2] != 0]
    print(f"{len(rows) - len(failed)}/{len(rows)} ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(cli())
