"""The sanity verdict (Adebayo et al. 2018, cascading randomisation) and the faithfulness areas (Petsiuk et
al. 2018) of every attribution method, on zf-fmnist and EfficientNet-Lite0, as a markdown table
(python -m bench.attribution_verdicts; docs/attribution.md shows its output).

Each run is the CLI's own (the recipe that ``deconvviz sanity`` / ``deconvviz faithfulness`` parse from the
printed command line, computed, drawn and written as the CLI does), so every PNG and CSV it writes to --out
can be made again by its command. Per model, --images images (the first of IMAGES; default all of them: on
zf-fmnist the first test image of each class in the bundled Fashion-MNIST subset, written to --out as PNGs that
the commands read; on EfficientNet-Lite0 the 4 bundled photos), the top class, seed 0,
every method at its default options (integrated gradients 32 steps from the black image, SmoothGrad of
saliency over 16 samples at noise 0.15, Grad-CAM's default layer). The table gives per method the mean over
the images of the mean Spearman rank correlation of |map| with the learnt network's over the steps (the
verdict's number; "fails" from 0.5, "passes" under 0.2) and of the same with every layer random, and the
mean deletion / insertion areas (lower / higher is better).

    PYTHONPATH=. python -m bench.attribution_verdicts [--images N] [--out DIR] [--models zf-fmnist ...]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

SUBSET = "subset:"  # an image of the bundled Fashion-MNIST test subset, by its index, written to --out as a PNG
IMAGES = {
    # the first image of each class in the bundled subset (T-shirt/top ... Ankle boot), in class order
    "zf-fmnist": [SUBSET + str(i) for i in (19, 2, 1, 13, 6, 8, 4, 9, 18, 0)],
    "efficientnet-lite0": ["resources/photos/coffee.png", "resources/photos/chelsea.png",
                           "resources/photos/rocket.jpg", "resources/photos/astronaut.png"],
}


def image_file(image: str, out: Path) -> str:
    """Return the path of ``image``: a bundled file as it is, a subset image written to ``out`` as a PNG (the
    commands then read that file)."""
    if not image.startswith(SUBSET):
        return image
    from PIL import Image

    from deconvviz.data.datasets import bundled_subset

    index = int(image[len(SUBSET):])
    data = bundled_subset()
    path = out / f"fmnist-test-{index:04d}-{data.class_names[int(data.labels[index])].replace('/', '-')}.png"
    Image.fromarray(data.images[index, 0].numpy(), "L").save(path)
    return str(path)


def run_cli(argv: list[str]):
    """Return (recipe, model, result) after doing what ``deconvviz`` does with ``argv``: compute, draw the PNG
    and write the CSV."""
    from deconvviz.analyses.faithfulness import faithfulness_rows
    from deconvviz.analyses.sanity import sanity_rows
    from deconvviz.cli import parse_recipe
    from deconvviz.figures.png import save_panel
    from deconvviz.tables import write_csv

    r = parse_recipe(argv)
    model = r.load_model()
    picture, frame = r.read_input()
    x = model.preprocess(picture.image)
    result = r.compute(model, x)
    rows = sanity_rows(result) if argv[0] == "sanity" else faithfulness_rows(result)
    save_panel(r.panel(model, x, result, frame, r.shell()), r.out)
    write_csv(r.csv, *rows)
    return r, model, result


def verdict_word(value: float) -> str:
    """Return the verdict of a mean similarity, by the thresholds of :mod:`deconvviz.analyses.sanity`."""
    from deconvviz.analyses.sanity import FAIL_AT, PASS_BELOW

    if not math.isfinite(value):
        return "cannot tell"
    return "fails" if value >= FAIL_AT else "partly" if value >= PASS_BELOW else "passes"


def main(argv=None) -> None:
    from deconvviz.analyses.sanity import summary_similarity
    from deconvviz.engine.methods import NAMES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(IMAGES), choices=list(IMAGES))
    parser.add_argument("--images", type=int, default=None,
                        help="images per model (default all: 10 of Fashion-MNIST, the 4 bundled photos)")
    parser.add_argument("--skip", type=int, default=0, help="leave out each model's first N images (a run in parts)")
    parser.add_argument("--out", default=None, help="folder for the PNGs and CSVs (default: a temporary one)")
    args = parser.parse_args(argv)
    out = Path(args.out or tempfile.mkdtemp(prefix="verdicts-"))
    out.mkdir(parents=True, exist_ok=True)
    methods = ",".join(NAMES)
    sanity: dict = {}
    faith: dict = {}
    commands = []
    for name in args.models:
        for image in IMAGES[name][args.skip:args.images]:
            image = image_file(image, out)
            stem = f"{name}-{Path(image).stem}"
            start = time.perf_counter()
            r, model, result = run_cli(["sanity", "--model", name, "--image", image, "--methods", methods,
                                        "--csv", str(out / f"sanity-{stem}.csv"), "--out",
                                        str(out / f"sanity-{stem}.png")])
            commands.append(r.shell())
            k = result.target.class_index
            for m in NAMES:
                mean, _ = summary_similarity(result, m)
                sanity.setdefault((name, m), []).append((mean, result.scores[m]["spearman"][-1]))
            middle = time.perf_counter()
            r, _, fresult = run_cli(["faithfulness", "--model", name, "--image", image, "--maps",
                                     "occlusion," + methods, "--csv", str(out / f"faithfulness-{stem}.csv"),
                                     "--out", str(out / f"faithfulness-{stem}.png")])
            commands.append(r.shell())
            for m, c in fresult.curves.items():
                faith.setdefault((name, m), []).append((c.deletion_auc, c.insertion_auc))
            print(f"{stem}: class {k} ({model.class_name(k)}), sanity {middle - start:.0f} s, faithfulness "
                  f"{time.perf_counter() - middle:.0f} s", file=sys.stderr, flush=True)

    def mean(values):
        finite = [v for v in values if math.isfinite(v)]
        return statistics.mean(finite) if finite else float("nan")

    models = args.models
    counts = ", ".join(f"{len(IMAGES[n][args.skip:args.images])} for {n}" for n in args.models)
    print(f"Sanity (cascading, seed 0, Spearman of |map|: mean over the steps / every layer random, verdict) and "
          f"faithfulness (deletion / insertion area), mean over the images ({counts})")
    print()
    print("| method | " + " | ".join(f"{m} sanity | {m} deletion / insertion" for m in models) + " |")
    print("|---|" + "---|---|" * len(models))
    for m in ("occlusion",) + NAMES + ("random",):
        cells = []
        for name in models:
            s = sanity.get((name, m))
            if s is None:
                cells.append("")
            else:
                a, b = mean([v[0] for v in s]), mean([v[1] for v in s])
                cells.append(f"{a:.2f} / {b:.2f}: {verdict_word(a)}")
            f = faith.get((name, m))
            cells.append(f"{mean([v[0] for v in f]):.2f} / {mean([v[1] for v in f]):.2f}" if f else "")
        print(f"| {m} | " + " | ".join(cells) + " |")
    print()
    print("Per image (sanity mean similarity; deletion / insertion):")
    for name in models:
        for m in NAMES:
            s = ", ".join(f"{v[0]:.2f}" for v in sanity[(name, m)])
            f = ", ".join(f"{d:.2f}/{i:.2f}" for d, i in faith[(name, m)])
            words = [verdict_word(v[0]) for v in sanity[(name, m)]]
            tally = ", ".join(f"{w} {words.count(w)}" for w in ("passes", "partly", "fails", "cannot tell")
                              if words.count(w))
            print(f"  {name} {m}: {s} ({tally}); {f}")
    print()
    print(f"PNGs and CSVs in {out}; the commands that make them:")
    for c in commands:
        print(f"  {c}")


if __name__ == "__main__":
    main()
