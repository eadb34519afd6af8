"""Attribution methods against Captum's (and pytorch-grad-cam's), as ratios measured in the same run
(python -m bench.attribution).

On EfficientNet-Lite0 at 224 px (the coffee photo, its top class, Grad-CAM's default layer), each method of
the registry (:mod:`deconvviz.engine.methods`) as ``deconvviz.attribution`` computes it, against Captum's
equivalent with the same settings: ``LayerGradCam`` + ``LayerAttribution.interpolate`` (bilinear),
``GuidedGradCam``, ``IntegratedGradients`` (riemann_middle, the same steps and internal batch),
``NoiseTunnel(Saliency)`` (smoothgrad, the same samples, noise and seed), ``Saliency``, ``GuidedBackprop``,
``Deconvolution``. Grad-CAM++ has no Captum counterpart: pytorch-grad-cam's ``GradCAMPlusPlus`` (and its
``GradCAM`` beside Captum's) when that package is installed. The two maps of each row are compared: the
largest absolute difference, relative to the largest |value| of the reference (pytorch-grad-cam scales
its maps to [0, 1], so ours are scaled the same way for that comparison).

Captum's guided backprop and deconvnet override the gradient of ``nn.ReLU`` modules only, and
EfficientNet-Lite0's rectifiers are ``nn.ReLU6``: Captum runs on a copy whose ``ReLU6`` modules are an
``nn.ReLU`` subclass computing relu6 (same forward values), so that it computes the same thing as ours. Both
are timed with the target class and the layer given (what Captum needs); "ours, defaults" is the API with
neither given (it finds the top class and the default layer itself).

The app's live Grad-CAM: per video frame (a 320x240 frame of the demo clip's kind), preprocessing and one
forward and backward pass, at the app's torch thread count (``app_threads()``), against the 50 ms target.

Ours runs in the heap the ``deconvviz`` program holds (:func:`deconvviz.engine.heap.hold`: large blocks
reused, not mapped afresh), and again in glibc's own heap beside the reference, which runs in glibc's own.
Candidates alternate within each repeat, in reverse order every other repeat (so load drifts hit them alike),
and each is timed right after an untimed run of itself in its heap: the run after another method's batch of
16 was up to 10% slower, whichever side it fell to. Times are medians over --repeats;
ours / reference is the median of the per-repeat ratios.

    PYTHONPATH=. python -m bench.attribution [--repeats 5] [--threads N] [--frames 30] [--methods ...]
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import time
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bench.cpu import cpu_line

SIZE = 224
IG = {"steps": 32, "batch": 16, "baseline": "zero"}
SMOOTH = {"samples": 16, "noise": 0.15, "seed": 0, "batch": 16}


class _ReLU6AsReLU(nn.ReLU):
    """relu6 in an ``nn.ReLU`` subclass: the module type Captum's guided backprop and deconvnet hook."""

    def forward(self, x):
        return F.hardtanh(x, 0.0, 6.0)


def captum_net(net: nn.Module) -> nn.Module:
    """Return a copy of ``net`` whose ``nn.ReLU6`` modules are :class:`_ReLU6AsReLU` (same values)."""
    out = copy.deepcopy(net).eval()
    for name, module in list(out.named_modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, nn.ReLU6):
                setattr(module, child_name, _ReLU6AsReLU())
    return out


def tapped_copy(net: nn.Module, layer: str) -> tuple[nn.Module, nn.Module]:
    """Return (a copy of ``net``, an ``nn.Identity`` module through which that copy passes the output of
    ``layer`` (``name#call``)): pytorch-grad-cam reads a module's every call, and EfficientNet-Lite0's
    ``_swish`` runs twice (stem and head), so it is given a module that runs once, at the call we read."""
    from deconvviz.engine.layers import resolve_layer

    out = copy.deepcopy(net).eval()
    module, wanted = resolve_layer(out, layer)
    tap = nn.Identity()
    calls = [0]
    out.register_forward_pre_hook(lambda *_: calls.__setitem__(0, 0))

    def hook(_module, _inputs, output):
        calls[0] += 1
        return tap(output) if calls[0] - 1 == wanted else None

    module.register_forward_hook(hook)
    return out, tap


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "installed"


def grad_cam_package():
    """Return pytorch-grad-cam's module ``pytorch_grad_cam``, or None where it is not installed."""
    try:
        import pytorch_grad_cam
    except ImportError:
        return None
    return pytorch_grad_cam


def references(net, cnet, x, k, layer, mean, std):
    """Return method -> (name of the reference, its function returning an (H, W) numpy map, scale) where
    ``scale`` is "minmax" for a reference that scales its map to [0, 1]."""
    import captum.attr as ca

    from deconvviz.engine.integrated_gradients import baseline
    from deconvviz.engine.layers import resolve_layer
    from deconvviz.engine.smoothgrad import noise_stdev

    module = resolve_layer(cnet, layer)[0]
    base = baseline(x, IG["baseline"], mean, std)
    stdev = noise_stdev(x, SMOOTH["noise"])

    def gradcam():
        a = ca.LayerGradCam(cnet, module).attribute(x, target=k, relu_attributions=True)
        return ca.LayerAttribution.interpolate(a, (SIZE, SIZE), interpolate_mode="bilinear")[0, 0]

    def smooth():
        torch.manual_seed(SMOOTH["seed"])  # NoiseTunnel draws torch.normal from the global generator
        return ca.NoiseTunnel(ca.Saliency(cnet)).attribute(
            x, nt_type="smoothgrad", nt_samples=SMOOTH["samples"], nt_samples_batch_size=SMOOTH["batch"],
            stdevs=stdev, target=k, abs=True)[0].amax(0)

    refs = {
        "gradcam": ("Captum LayerGradCam", gradcam, None),
        "guided-gradcam": ("Captum GuidedGradCam", lambda: ca.GuidedGradCam(cnet, module).attribute(
            x, target=k, interpolate_mode="bilinear")[0].sum(0), None),
        "integrated-gradients": ("Captum IntegratedGradients", lambda: ca.IntegratedGradients(cnet).attribute(
            x, baselines=base, target=k, n_steps=IG["steps"], method="riemann_middle",
            internal_batch_size=IG["batch"])[0].sum(0), None),
        "smoothgrad": ("Captum NoiseTunnel(Saliency)", smooth, None),
        "saliency": ("Captum Saliency", lambda: ca.Saliency(cnet).attribute(x, target=k, abs=True)[0].amax(0), None),
        "guided": ("Captum GuidedBackprop", lambda: ca.GuidedBackprop(cnet).attribute(x, target=k)[0].sum(0), None),
        "deconvnet": ("Captum Deconvolution", lambda: ca.Deconvolution(cnet).attribute(x, target=k)[0].sum(0), None),
        "backprop": ("Captum Saliency(abs=False)",
                     lambda: ca.Saliency(cnet).attribute(x, target=k, abs=False)[0].sum(0), None),
    }
    refs = {m: (n, _numpy(f), s) for m, (n, f, s) in refs.items()}
    gc = grad_cam_package()
    if gc is not None:
        from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

        gnet, gmodule = tapped_copy(net, layer)

        def pgc(kind):
            def run():
                with kind(model=gnet, target_layers=[gmodule]) as cam:
                    # the bundled model's weights are frozen: the input must ask for gradients for a graph
                    return cam(input_tensor=x.clone().requires_grad_(True), targets=[ClassifierOutputTarget(k)])[0]
            return run

        refs["gradcam/pgc"] = ("pytorch-grad-cam GradCAM", pgc(gc.GradCAM), "minmax")
        refs["gradcam++"] = ("pytorch-grad-cam GradCAMPlusPlus", pgc(gc.GradCAMPlusPlus), "minmax")
    return refs


def _numpy(fn):
    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Captum's "Setting backward hooks on ReLU activations"
            return fn().detach().float().numpy()
    return run


def minmax(a: np.ndarray) -> np.ndarray:
    """Return ``a`` scaled to [0, 1] (pytorch-grad-cam's scaling of its maps)."""
    a = a - a.min()
    return a / (a.max() or 1.0)


def timed(fn):
    """Return ((wall s, CPU s of this process), fn())."""
    start, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return (time.perf_counter() - start, time.process_time() - cpu), value


def pgc_plus_plus_formula(net, x, k, layer, eps=1e-6):
    """Return our Grad-CAM++ with pytorch-grad-cam's ``eps`` added to the weights' denominator and its
    scaling (to [0, 1] at the layer's size, bilinear resize, to [0, 1] again): what that package computes."""
    from deconvviz.engine.attribution import AttributionTarget
    from deconvviz.engine.gradcam import layer_gradients, upsample

    act, grad = layer_gradients(net, x, AttributionTarget(k), layer)
    g2 = grad.pow(2)
    alpha = torch.where(grad != 0, g2 / (2 * g2 + act.sum((2, 3), keepdim=True) * g2 * grad + eps), 0.0)
    cam = torch.relu(((alpha * torch.relu(grad)).sum((2, 3), keepdim=True) * act).sum(1, keepdim=True))
    return minmax(upsample(torch.from_numpy(minmax(cam.numpy())), x.shape[2:]).numpy()[0, 0])


def bench_methods(model, x, names, repeats):
    """Return (class, layer, rows): per method and reference (method, reference name, ours s, ours-with-defaults
    s, ours-in-glibc's-heap s, reference s, max relative diff, whether ours and ours-with-defaults agree,
    :func:`paired_ratio` of ours, and of ours in glibc's heap, to the reference)."""
    from deconvviz.api import attribution
    from deconvviz.engine.attribution import AttributionTarget
    from deconvviz.engine.gradcam import default_layer
    from deconvviz.engine.methods import attribute

    net = model.net
    prep = model.preprocessing
    with torch.no_grad():
        k = int(net(x)[0].argmax())
    layer = default_layer(net, x, AttributionTarget(k))
    cnet = captum_net(net)
    refs = references(net, cnet, x, k, layer, prep.mean, prep.std)
    options = {"integrated-gradients": {k2: IG[k2] for k2 in ("steps", "batch", "baseline")},
               "smoothgrad": dict(SMOOTH)}

    def ours(name, defaults=False):
        from deconvviz.engine.methods import get

        lay = layer if get(name).layer else None
        if defaults:
            return lambda: attribution(model, x, name, **options.get(name, {}))
        return lambda: attribute(net, x, name, AttributionTarget(k), lay, options.get(name), prep.mean, prep.std)

    rows = []
    candidates = []  # (method, candidate, function, whether its heap is held)
    for name in names:
        candidates.append((name, "ours", ours(name), True))
        candidates.append((name, "defaults", ours(name, True), True))
        candidates.append((name, "glibc", ours(name), False))
        for ref in (name, name + "/pgc"):
            if ref in refs:
                candidates.append((name, ref, refs[ref][1], False))
    for _, _, fn, held in candidates:  # warm-up: oneDNN's kernels, Captum's imports
        heap_mode(held)
        fn()
    times = {(n, c): [] for n, c, _, _ in candidates}
    values = {}
    for i in range(repeats):
        for n, c, fn, held in (candidates if i % 2 == 0 else candidates[::-1]):  # neither side always goes first
            heap_mode(held)
            fn()  # timed warm: in its heap, never just after another method's batch of 16 (measured: up to 10% slower)
            t, values[(n, c)] = timed(fn)
            times[(n, c)].append(t)
    med = {key: tuple(statistics.median(t[i] for t in v) for i in (0, 1)) for key, v in times.items()}
    for name in names:
        mine = values[(name, "ours")]
        same = np.array_equal(mine, values[(name, "defaults")])
        for ref in (name, name + "/pgc"):
            if ref not in refs:
                continue
            label, _, scale = refs[ref]
            theirs = values[(name, ref)]
            a, b = (minmax(mine), minmax(theirs)) if scale == "minmax" else (mine, theirs)
            diff = float(np.abs(a - b).max() / (np.abs(b).max() or 1.0))
            ratio = paired_ratio(times[(name, "ours")], times[(name, ref)])
            plain = paired_ratio(times[(name, "glibc")], times[(name, ref)])
            rows.append((name, label, med[(name, "ours")], med[(name, "defaults")], med[(name, "glibc")],
                         med[(name, ref)], diff, same, ratio, plain))
        if not any(r in refs for r in (name, name + "/pgc")):
            rows.append((name, None, med[(name, "ours")], med[(name, "defaults")], med[(name, "glibc")], None, None,
                         same, None, None))
    heap_mode(True)
    return k, layer, rows


def heap_mode(held: bool) -> None:
    """Put this process's heap as the deconvviz program holds it (``held``) or as glibc keeps it by itself
    (thresholds where its own adjustment ends after large blocks are freed, the free memory given back)."""
    from deconvviz.engine import heap

    if held:
        heap.hold()
    else:
        heap.release()


def paired_ratio(ours: list, theirs: list) -> tuple[float, float]:
    """Return the medians of the per-repeat ratios ours / theirs of the wall and of the CPU times: each
    repeat's two runs lie a few hundred ms apart, so a load drift over the run cancels in its ratio."""
    return tuple(statistics.median(a[i] / b[i] for a, b in zip(ours, theirs)) for i in (0, 1))


def _ours_plus_plus(model, x, k, layer):
    from deconvviz.engine.attribution import AttributionTarget
    from deconvviz.engine.methods import attribute

    return attribute(model.net, x, "gradcam++", AttributionTarget(k), layer)


def bench_frames(model, frames: int):
    """Return (per-frame ms list, preprocessing ms list, threads): Grad-CAM of the top class at the default
    layer for ``frames`` frames of a 320x240 pan over the coffee photo, preprocessing included, at the app's
    thread count."""
    from PIL import Image

    from deconvviz.api import attribution
    from deconvviz.data.images import default_photo, load_image
    from deconvviz.session.compute import app_threads

    before = torch.get_num_threads()
    torch.set_num_threads(app_threads())
    photo = load_image(default_photo()).convert("RGB")
    wide = photo.resize((480, 360))
    shots = [wide.crop((4 * i % 160, 2 * i % 120, 4 * i % 160 + 320, 2 * i % 120 + 240)) for i in range(frames + 2)]
    shots = [Image.fromarray(np.asarray(s)) for s in shots]  # plain decoded frames, as a video gives them
    total, prep = [], []
    try:
        for i, frame in enumerate(shots):
            start = time.perf_counter()
            x = model.preprocess(frame)
            mid = time.perf_counter()
            attribution(model, x, "gradcam")
            end = time.perf_counter()
            if i >= 2:  # the first two frames warm the kernels
                total.append((end - start) * 1000)
                prep.append((mid - start) * 1000)
        threads = torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
    return total, prep, threads


def main(argv=None) -> None:
    from deconvviz import load_image, load_model
    from deconvviz.data.images import default_photo
    from deconvviz.engine.methods import NAMES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="efficientnet-lite0")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: the app's)")
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--methods", nargs="+", default=list(NAMES), choices=NAMES)
    args = parser.parse_args(argv)
    from deconvviz.session.compute import app_threads

    torch.set_num_threads(args.threads or app_threads())
    model = load_model(args.model)
    model.net.eval()
    x = model.preprocess(load_image(default_photo()))
    if tuple(x.shape[2:]) != (SIZE, SIZE):
        raise SystemExit(f"{args.model} takes {tuple(x.shape[2:])} inputs, not {SIZE}x{SIZE}")
    gc = grad_cam_package()
    print(cpu_line())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} torch threads; captum "
          f"{__import__('captum').__version__}; pytorch-grad-cam "
          f"{_version('grad-cam') if gc else 'not installed'}")
    k, layer, rows = bench_methods(model, x, args.methods, args.repeats)
    print(f"{args.model}, {default_photo().name} at {SIZE} px, class {k} ({model.class_name(k)}), Grad-CAM layer "
          f"{layer}; integrated gradients {IG['steps']} steps (batch {IG['batch']}, zero baseline); SmoothGrad of "
          f"saliency, {SMOOTH['samples']} samples (batch {SMOOTH['batch']}), noise {SMOOTH['noise']}; medians of "
          f"{args.repeats}")
    print("times: median wall ms (median CPU ms of this process, nearer the cost alone on a shared machine); "
          "ours / reference: the median of the per-repeat ratios, wall (CPU). 'ours' and 'ours, defaults' run in "
          "the heap the deconvviz program holds (deconvviz.engine.heap.hold), 'ours, glibc's heap' and the "
          "reference in glibc's own; each timed run follows an untimed one in its heap")
    print("| method | reference | ours | ours, defaults | ours, glibc's heap | reference | ours / reference | "
          "ours, glibc's heap / reference | max abs diff / max |ref| |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")

    def ms(t):
        return f"{t[0] * 1000:.1f} ({t[1] * 1000:.1f})"

    for name, label, mine, defaults, glibc, theirs, diff, _, ratio, plain in rows:
        if label is None:
            print(f"| {name} | none | {ms(mine)} | {ms(defaults)} | {ms(glibc)} | | | | |")
            continue
        print(f"| {name} | {label} | {ms(mine)} | {ms(defaults)} | {ms(glibc)} | {ms(theirs)} | "
              f"{ratio[0]:.2f} ({ratio[1]:.2f}) | {plain[0]:.2f} ({plain[1]:.2f}) | {diff:.1e} |")
    slower = [(n, lab, r[1]) for n, lab, _, _, _, t, _, _, r, _ in rows if t is not None and r[1] > 1.0]
    print("ours slower than the reference (CPU time): "
          + (", ".join(f"{n} vs {lab} ({r:.2f}x)" for n, lab, r in slower) or "nowhere"))
    if gc is not None and "gradcam++" in args.methods:
        from pytorch_grad_cam import GradCAMPlusPlus  # noqa: F401  (the package the row above ran)

        mine = minmax(_ours_plus_plus(model, x, k, layer))
        theirs = references(model.net, captum_net(model.net), x, k, layer, model.preprocessing.mean,
                            model.preprocessing.std)["gradcam++"][1]()
        print(f"gradcam++ against pytorch-grad-cam: {np.abs(mine - theirs).max():.1e} as computed; with its eps "
              f"(1e-6 added to the weights' denominator, the paper has none) and its scaling: "
              f"{np.abs(pgc_plus_plus_formula(model.net, x, k, layer) - theirs).max():.1e}")
    if args.frames:
        total, prep, threads = bench_frames(model, args.frames)
        med = statistics.median(total)
        p95 = sorted(total)[min(len(total) - 1, int(round(0.95 * (len(total) - 1))))]
        print(f"app, live Grad-CAM per 320x240 frame (preprocessing + deconvviz.attribution(m, x, 'gradcam'), top "
              f"class, default layer), {threads} torch thread(s), {len(total)} frames: median {med:.1f} ms, p95 "
              f"{p95:.1f} ms (preprocessing {statistics.median(prep):.1f} ms); target 50 ms: "
              f"{'met' if med <= 50 else 'NOT met'}")
    try:
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    except OSError:
        pass


if __name__ == "__main__":
    main()
