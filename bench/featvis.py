"""Feature visualisation against the plain pixel ascent, per channel, in one run (python -m bench.featvis).

For each (model, layer) and channel: the channel's mean activation reached by the picture as the model sees it
(resampled to the model's input size); robustness, the mean activation over 16 random transforms (rotation up to
10 degrees, scale 0.9-1.1, shift up to 8 px, border repeated outside) over the untransformed one; the high-frequency
share, the power with radius above a quarter of the image size in the centred 2-D spectrum of the grey image
(its mean removed), upscaled bilinearly to 224 px, over the total; and the strongest activation among the
bundled photos. Then the time per channel of a batch of --time-channels channels against the same batch by the
plain path (the whole batch in one pass, the model's own memory layout) and against one at a time (--time-steps
steps, alternating, medians), extrapolated to --steps. --time-only skips the per-channel table. --lucent also
times Lucent (``pip install torch-lucent``), the PyTorch port of Lucid, on the same channels in one batch of its
own ``render_vis`` (its standard transforms, 128 px upsampled to 224, the whole network, parameters frozen as
ours are), against ours, each at --time-steps and twice as many steps: the difference gives the time per step,
the rest the fixed cost, both extrapolated to --steps.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time

import torch
import torch.nn.functional as F

from deconvviz import feature_visualisation, load_image, load_model
from deconvviz.analyses.actmax import activation_maximisation
from deconvviz.engine.actmax import Target
from deconvviz.engine.featvis import grey, input_images
from deconvviz.engine.layers import capture, run_until
from deconvviz.engine.featvis import run as featvis_run
from deconvviz.paths import PHOTOS

from .cpu import cpu_line

CASES = (("efficientnet-lite0", "_blocks.10"), ("zf-fmnist", "features.12"))


def channel_means(model, layer, x):
    """Return (B, C) channel means of ``layer`` for inputs ``x``."""
    with torch.no_grad(), capture(model.net, layer) as box:
        out = run_until(model.net, x, box, layer)
    return box["layout"].maps(out).mean((2, 3))


def random_transforms(x, n, generator):
    """Return ``n`` random transforms of the input ``x`` (1, C, H, W), its border pixels repeated outside."""
    h = x.shape[-1]
    a = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(10)
    s = 0.9 + 0.2 * torch.rand(n, generator=generator)
    t = (torch.rand(n, 2, generator=generator) * 2 - 1) * 8 * 2 / h
    cos, sin = torch.cos(a) / s, torch.sin(a) / s
    theta = torch.stack([torch.stack([cos, -sin, t[:, 0]], 1), torch.stack([sin, cos, t[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, [n, *x.shape[1:]], align_corners=False)
    return F.grid_sample(x.expand(n, -1, -1, -1), grid, padding_mode="border", align_corners=False)


def hf_share(pixels):
    """Return the high-frequency power share of a picture (3, H, W) in [0, 1] (see the module's docstring)."""
    g = F.interpolate(grey(pixels[None]), size=(224, 224), mode="bilinear", align_corners=False)[0, 0]
    power = torch.fft.fftshift(torch.fft.fft2(g - g.mean())).abs() ** 2
    yy, xx = torch.meshgrid(torch.arange(224) - 112, torch.arange(224) - 112, indexing="ij")
    return float(power[(yy ** 2 + xx ** 2).sqrt() > 224 / 4].sum() / power.sum().clamp(min=1e-20))


def pixel_picture(model, x):
    """Return the model's input ``x`` (1, C, H, W) as a picture (3, H, W) in [0, 1]."""
    p = torch.from_numpy(model.preprocessing.to_pixels(x)).permute(2, 0, 1).float() / 255
    return p


def measure(model, layer, channel, picture, x, generator):
    """Return (activation, robustness, hf share) of one picture and its model input ``x``."""
    base = float(channel_means(model, layer, x)[0, channel])
    moved = float(channel_means(model, layer, random_transforms(x, 16, generator))[:, channel].mean())
    return base, moved / base if base > 0 else float("nan"), hf_share(picture)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=8, help="first N channels of each layer")
    parser.add_argument("--steps", type=int, default=256)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--time-channels", type=int, default=40)
    parser.add_argument("--time-steps", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--time-only", action="store_true", help="only the timing")
    parser.add_argument("--quality-only", action="store_true", help="only the per-channel table (its featvis run "
                                                                    "timed for real, all steps)")
    parser.add_argument("--lucent", action="store_true", help="also time Lucent on the same channels (torch-lucent)")
    parser.add_argument("--png", help="also write each model's pictures as a grid PNG (the model's name added to the file name)")
    parser.add_argument("--models", default=",".join(n for n, _ in CASES), help="of " + ",".join(n for n, _ in CASES))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"{cpu_line()}; torch threads {torch.get_num_threads()}; torch {torch.__version__}")
    for name, layer in CASES:
        if name not in args.models.split(","):
            continue
        model = load_model(name)
        if not args.time_only:
            quality(model, name, layer, args)
        if not args.quality_only:
            timing(model, name, layer, args)
        if args.lucent:
            against_lucent(model, name, layer, args)


def plain(model, layer, channels, steps, size):
    """Run the earlier path: the whole batch in one pass through the model in its own memory layout."""
    saved = featvis_run.CPU_PASS
    featvis_run.CPU_PASS = 10 ** 9
    try:
        feature_visualisation(model, layer, channels, steps, size, fast=False)
    finally:
        featvis_run.CPU_PASS = saved


def quality(model, name, layer, args) -> None:
    """Print the per-channel table of featvis against pixel ascent."""
    chans = list(range(args.channels))
    photos = torch.cat([model.preprocess(load_image(p)) for p in sorted(PHOTOS.glob("*.*")) if p.suffix != ".md"])
    best_photo = channel_means(model, layer, photos).max(0).values
    load = os.getloadavg()[0]
    t = time.perf_counter()
    fv = feature_visualisation(model, layer, chans, args.steps, args.size)
    fv_time = time.perf_counter() - t
    load = f"load average {load:.2f} before, {os.getloadavg()[0]:.2f} after"
    if args.png:
        from deconvviz.figures.featvis import featvis_panel
        from deconvviz.figures.png import save_panel

        save_panel(featvis_panel(model, fv, "python -m bench.featvis"), args.png.replace(".png", f"-{name}.png"))
    g = torch.Generator().manual_seed(0)
    print(f"\n{name} {layer}: featvis {args.steps} steps {args.size} px ({fv_time:.1f} s for {len(chans)}, {load}), "
          f"pixel ascent 30 steps (the actmax defaults)")
    print("ch  photo_max | featvis: act  robust  hf    | pixel: act  robust  hf")
    rows = []
    for i, c in enumerate(chans):
        x = input_images(fv.images[i:i + 1], model.preprocessing)
        f = measure(model, layer, c, fv.images[i], x, g)
        asc = activation_maximisation(model, Target(layer, c), l1=0.1)
        p = measure(model, layer, c, pixel_picture(model, asc.image), asc.image, g)
        rows.append((f, p, float(best_photo[c])))
        print(f"{c:3d} {float(best_photo[c]):9.3f} | {f[0]:9.3f} {f[1]:6.2f} {f[2]:6.3f} | "
              f"{p[0]:9.3f} {p[1]:6.2f} {p[2]:6.3f}")
    ok_r = sum(r[0][1] >= 0.8 for r in rows)
    ok_h = sum(r[0][2] <= 0.1 for r in rows)
    ok_a = sum(r[0][0] >= r[2] for r in rows)
    print(f"featvis minimums: robustness {min(r[0][1] for r in rows):.3f}, hf max {max(r[0][2] for r in rows):.3f}, "
          f"activation - strongest photo {min(r[0][0] - r[2] for r in rows):.3f}")
    print(f"featvis: robustness >= 0.8 on {ok_r}/{len(rows)}, hf <= 0.1 on {ok_h}/{len(rows)}, "
          f">= strongest photo on {ok_a}/{len(rows)}; median robustness featvis "
          f"{statistics.median(r[0][1] for r in rows):.2f} vs pixel {statistics.median(r[1][1] for r in rows):.2f}, "
          f"median hf {statistics.median(r[0][2] for r in rows):.3f} vs {statistics.median(r[1][2] for r in rows):.3f}")


def timing(model, name, layer, args) -> None:
    """Print the time per channel: batched, batched by the plain path, one at a time."""
    batched, old, single = [], [], []
    n = args.time_channels
    feature_visualisation(model, layer, [0], 1, args.size)  # warm-up
    for _ in range(3):
        t = time.perf_counter()
        feature_visualisation(model, layer, list(range(n)), args.time_steps, args.size)
        batched.append((time.perf_counter() - t) / n)
        t = time.perf_counter()
        plain(model, layer, list(range(n)), args.time_steps, args.size)
        old.append((time.perf_counter() - t) / n)
        t = time.perf_counter()
        for c in range(2):
            feature_visualisation(model, layer, [c], args.time_steps, args.size)
        single.append((time.perf_counter() - t) / 2)
    b, o, s = statistics.median(batched), statistics.median(old), statistics.median(single)
    scale = args.steps / args.time_steps
    print(f"\n{name} {layer}: time per channel ({args.time_steps} steps, {args.size} px, median of 3): batched "
          f"{b:.3f} s, plain batched path {o:.3f} s (x{o / b:.2f}), one at a time {s:.3f} s (x{s / b:.2f}); "
          f"a {n}-channel layer at {args.steps} steps: ~{b * n * scale:.0f} s batched, ~{o * n * scale:.0f} s plain "
          f"(extrapolated from {args.time_steps} steps)")


def against_lucent(model, name, layer, args) -> None:
    """Print a whole layer's time by Lucent's ``render_vis`` and by ours, extrapolated from two step counts."""
    try:
        from lucent.optvis import objectives, param, render
    except ImportError as exc:
        print(f"\n{name} {layer}: Lucent not timed ({exc}); pip install torch-lucent")
        return
    if model.preprocessing.channels != 3:
        print(f"\n{name} {layer}: Lucent not timed (its images are RGB, the model takes "
              f"{model.preprocessing.channels} channel)")
        return
    n, short = args.time_channels, args.time_steps
    net = model.net

    def lucent(steps):
        objective = sum(objectives.channel(layer.replace(".", "_"), c, batch=c) for c in range(n))
        t = time.perf_counter()
        render.render_vis(net, objective, lambda: param.image(args.size, batch=n), thresholds=(steps,),
                          show_image=False, progress=False)
        return time.perf_counter() - t

    def ours(steps):
        t = time.perf_counter()
        feature_visualisation(model, layer, list(range(n)), steps, args.size)
        return time.perf_counter() - t

    # as ours: no parameter gradients (a Lucent user's model would compute them), eval mode; both restored after
    with featvis_run.frozen(net):
        results = {}
        for who, run in (("Lucent", lucent), ("deconvviz", ours)):
            a, b = run(short), run(2 * short)
            step = (b - a) / short
            results[who] = (a - step * short) + step * args.steps
            print(f"\n{name} {layer}, {n} channels in one batch, {args.size} px: {who} {a:.1f} s for {short} steps, "
                  f"{b:.1f} s for {2 * short}: {step:.3f} s a step, ~{results[who]:.0f} s for {args.steps}")
    print(f"a {n}-channel layer at {args.steps} steps: Lucent / deconvviz = "
          f"{results['Lucent'] / results['deconvviz']:.2f}")


if __name__ == "__main__":
    main()
