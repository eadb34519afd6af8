"""Occlusion cost, as ratios measured in the same run (python -m bench.occlusion).

- Full map (224 px, 32 px square, stride 8: 625 positions) with deconvviz's exact incremental inference and its
  approximate map (``approximate=True``, the defaults), against Captum's ``Occlusion`` (the best of
  perturbations_per_eval 1, 2, 4, 8, 16, 64; small batches win on a CPU, where larger ones pass the C
  allocator's 32 MiB reuse limit), a naive loop of one full forward pass per position, and deconvviz's own
  batches run in full. Each map's SSIM against the exact one (scikit-image, data range of the exact map) and
  whether its most sensitive position is within one stride of the exact one's are printed.
- Live: a drag of 200 consecutive positions 1-4 px apart, one update each (``OcclusionSession.occlude``, exact
  and approximate), against one full forward pass per update: updates/s, median and p95 latency.
Candidates run in turn within each repeat (so load drifts hit all alike); times are medians over --repeats.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from deconvviz import load_model
from deconvviz.engine.occlusion import LIVE_FIELD, Approximation, OcclusionSession, occlusion_map

PATCH, STRIDE = 32, 8


def _timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def naive_map(net, x, target, patch, stride):
    """Return p(target) per position from one full forward pass (batch 1) per position."""
    height, width = x.shape[2:]
    ny, nx = (height - patch) // stride + 1, (width - patch) // stride + 1
    prob = np.empty((ny, nx), np.float32)
    with torch.no_grad():
        for i in range(ny):
            for j in range(nx):
                xo = x.clone()
                xo[:, :, i * stride:i * stride + patch, j * stride:j * stride + patch] = 0
                prob[i, j] = net(xo).softmax(1)[0, target]
    return prob


def captum_map(net, x, target, patch, stride, per_eval):
    """Return Captum's Occlusion attribution of p(target) (C, H, W): base minus occluded, averaged per pixel."""
    from captum.attr import Occlusion

    channels = x.shape[1]
    occlusion = Occlusion(lambda inp: net(inp).softmax(1))
    with torch.no_grad():
        return occlusion.attribute(x, sliding_window_shapes=(channels, patch, patch), strides=(channels, stride, stride),
                                   target=target, baselines=0.0, perturbations_per_eval=per_eval)[0]


def as_captum(prob, base_prob, shape, patch, stride):
    """Return our per-position map in Captum's form: per pixel, the mean of (base - occluded) over covering squares."""
    channels, height, width = shape
    total = np.zeros((height, width))
    count = np.zeros((height, width))
    for i in range(prob.shape[0]):
        for j in range(prob.shape[1]):
            total[i * stride:i * stride + patch, j * stride:j * stride + patch] += base_prob - prob[i, j]
            count[i * stride:i * stride + patch, j * stride:j * stride + patch] += 1
    return np.broadcast_to(total / np.maximum(count, 1), (channels, height, width))


def quality(exact_prob, prob, stride):
    """Return (SSIM of ``prob`` against the exact map, data range of the exact map; whether the most
    sensitive position (lowest p) is within one stride of the exact one's)."""
    from skimage.metrics import structural_similarity

    prob = np.asarray(prob, np.float64)
    ssim = structural_similarity(exact_prob.astype(np.float64), prob,
                                 data_range=float(exact_prob.max() - exact_prob.min()))
    e = np.array(np.unravel_index(exact_prob.argmin(), exact_prob.shape))
    a = np.array(np.unravel_index(prob.argmin(), prob.shape))
    return float(ssim), bool(np.abs(e - a).max() <= 1)


def bench_map(name, device, repeats, per_evals, naive, photo=None, approx=None):
    model = load_model(name, device=device)
    torch.manual_seed(0)
    x = torch.randn(1, 3, 224, 224, device=device) if not model.trained else _photo(model, photo)
    net = model.net
    with torch.no_grad():
        base = net(x).softmax(1)[0]
    target = int(base.argmax())
    approx = approx or Approximation()
    candidates = {
        "deconvviz": lambda: occlusion_map(net, x, PATCH, STRIDE, target=target),
        "approximate": lambda: occlusion_map(net, x, PATCH, STRIDE, target=target, approximate=approx),
        # The same batches with every position run in full: what the incremental inference itself buys.
        "batched full": lambda: occlusion_map(net, x, PATCH, STRIDE, target=target, incremental=False),
    }
    try:
        import captum  # noqa: F401

        for k in per_evals:
            candidates[f"captum ppe={k}"] = (lambda k=k: captum_map(net, x, target, PATCH, STRIDE, k))
    except ImportError:
        print("  captum is not installed: Captum's Occlusion skipped")
    if naive:
        candidates["naive loop"] = lambda: naive_map(net, x, target, PATCH, STRIDE)
    times = {n: [] for n in candidates}
    values = {}
    for _ in range(repeats):
        for cname, fn in candidates.items():
            t, values[cname] = _timed(fn)
            _sync(device)
            times[cname].append(t)
    med = {n: statistics.median(v) for n, v in times.items()}
    ours = values["deconvviz"]
    print(f"{name} ({'trained' if model.trained else 'random weights'}, {photo or 'default photo'}), "
          f"{ours.prob.size} positions, {ours.method} inference, device {device}; approximate: {approx.describe()}, "
          f"{values['approximate'].computed.mean():.0%} of positions computed:")
    for cname in candidates:
        value = values[cname]
        grid = value.prob if hasattr(value, "prob") else value if isinstance(value, np.ndarray) else None
        note = ""
        if grid is not None:
            ssim, near = quality(ours.prob, grid, STRIDE)
            note = f"  SSIM {ssim:.3f}, most sensitive position {'within' if near else 'NOT within'} one stride"
        elif cname.startswith("captum"):  # a per-pixel attribution: compared with the exact map in that form
            from skimage.metrics import structural_similarity

            expect = as_captum(ours.prob, float(base[target]), x.shape[1:], PATCH, STRIDE)[0]
            got = value.float().cpu().numpy()[0].astype(np.float64)
            ssim = structural_similarity(expect, got, data_range=float(expect.max() - expect.min()))
            e = np.array(np.unravel_index(expect.argmax(), expect.shape))
            a = np.array(np.unravel_index(got.argmax(), got.shape))
            note = (f"  SSIM {ssim:.3f} (per pixel), most sensitive pixel "
                    f"{'within' if np.abs(e - a).max() <= STRIDE else 'NOT within'} one stride")
        print(f"  {cname:16s} median {med[cname]:8.2f} s  ({med[cname] / med['deconvviz']:5.1f}x deconvviz's time)"
              f"{note}")
    captums = [n for n in candidates if n.startswith("captum")]
    if captums:
        best = min(captums, key=med.get)
        expect = as_captum(ours.prob, float(base[target]), x.shape[1:], PATCH, STRIDE)
        diff = float(np.abs(values[best].float().cpu().numpy() - expect).max())
        print(f"  deconvviz is {med[best] / med['deconvviz']:.1f}x faster than Captum's best ({best}); "
              f"max |attribution difference| {diff:.2e}")
        print(f"  approximate is {med[best] / med['approximate']:.1f}x faster than Captum's best, "
              f"{med['deconvviz'] / med['approximate']:.1f}x faster than exact")
    diff = float(np.abs(values["batched full"].prob - ours.prob).max())
    print(f"  deconvviz is {med['batched full'] / med['deconvviz']:.1f}x faster than batched full inference; "
          f"max |p difference| {diff:.2e}")
    if naive:
        diff = float(np.abs(values["naive loop"] - ours.prob).max())
        print(f"  deconvviz is {med['naive loop'] / med['deconvviz']:.1f}x faster than the naive loop; "
              f"max |p difference| {diff:.2e}")
    return med


def _photo(model, path=None):
    from deconvviz import load_image
    from deconvviz.data.images import default_photo

    return model.preprocess(load_image(path or default_photo()))


def _sync(device):
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def drag(height, width, size, steps, seed=0):
    """Return ``steps`` (top, left) positions of a square dragged 1-4 px at a time, bouncing off the edges."""
    rng = np.random.default_rng(seed)
    top, left = (height - size) // 2, (width - size) // 2
    dy, dx = 1, 1
    out = []
    for _ in range(steps):
        top += dy * int(rng.integers(1, 5))
        left += dx * int(rng.integers(1, 5))
        if not 0 <= top <= height - size:
            dy, top = -dy, min(max(top, 0), height - size)
        if not 0 <= left <= width - size:
            dx, left = -dx, min(max(left, 0), width - size)
        out.append((top, left))
    return out


def bench_live(name, device, repeats, steps=200):
    model = load_model(name, device=device)
    x = _photo(model)
    height, width = x.shape[2:]
    size = 32 if height >= 112 else 6
    t_setup, session = _timed(lambda: OcclusionSession(model.net, x))
    path = drag(height, width, size, steps)

    def ours(approximate=False):
        lat = []
        for top, left in path:
            t, _ = _timed(lambda: session.occlude(top, left, size, approximate=approximate))
            _sync(device)
            lat.append(t)
        return lat

    def full():
        lat = []
        with torch.no_grad():
            for top, left in path:
                def once():
                    xo = x.clone()
                    xo[:, :, top:top + size, left:left + size] = 0
                    return model.net(xo).softmax(1)[0].cpu()
                t, _ = _timed(once)
                lat.append(t)
        return lat

    ours()  # warm-up
    lat = {"deconvviz": [], "approximate": [], "full forward": []}
    for _ in range(repeats):
        lat["deconvviz"] += ours()
        lat["approximate"] += ours(True)
        lat["full forward"] += full()
    err = max(float(np.abs(session.occlude(t, l, size, approximate=True)[0] - session.occlude(t, l, size)[0]).max())
              for t, l in path[::10])
    print(f"live drag on {name}, {steps} positions, {size} px square, device {device} "
          f"(session set-up {t_setup * 1000:.0f} ms, {session.method} inference):")
    for cname, values in lat.items():
        v = np.array(values) * 1000
        print(f"  {cname:14s} {1000 / v.mean():6.1f} updates/s, median {np.median(v):6.1f} ms, "
              f"p95 {np.percentile(v, 95):6.1f} ms")
    ratio = np.median(lat["full forward"]) / np.median(lat["deconvviz"])
    print(f"  median latency: deconvviz {ratio:.1f}x faster than a full forward pass per update")
    print(f"  approximate (field {LIVE_FIELD}): max |p difference| from exact {err:.3f} over every 10th position")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="efficientnet-lite0,alexnet,vgg16", help="full-map models")
    parser.add_argument("--live-models", default="efficientnet-lite0,zf-fmnist", help="live-drag models")
    parser.add_argument("--repeats", type=int, default=2, help="repeats per candidate (medians are quoted)")
    parser.add_argument("--ppe", default="1,2,4,8,16,64", help="Captum perturbations_per_eval values to try (its best is quoted)")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive loop")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--skip", choices=["map", "live"], help="skip one of the two benchmarks")
    parser.add_argument("--photos", default="", help="comma-separated photos for the map (default: the bundled coffee)")
    parser.add_argument("--field", type=float, default=Approximation.field, help="approximate map's field")
    parser.add_argument("--coarse", type=int, default=Approximation.coarse, help="approximate map's coarse")
    parser.add_argument("--drill", type=float, default=Approximation.drill, help="approximate map's drill")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device.startswith("cuda"):
        # Exactness is judged in float32: TF32 convolutions would round every candidate to about 1e-3.
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
        print(f"GPU: {torch.cuda.get_device_name(args.device)} (TF32 off)")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    per_evals = [int(v) for v in args.ppe.split(",") if v]
    if args.skip != "map":
        approx = Approximation(args.field, args.coarse, args.drill)
        for name in filter(None, args.models.split(",")):
            for photo in args.photos.split(",") if args.photos else [None]:
                bench_map(name, args.device, args.repeats, per_evals, not args.no_naive, photo, approx)
    if args.skip != "live":
        for name in filter(None, args.live_models.split(",")):
            bench_live(name, args.device, args.repeats)


if __name__ == "__main__":
    main()
