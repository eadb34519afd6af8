"""Deconvnet cost, as ratios measured in the same run (python -m bench.deconv).

- one projection vs one forward+backward pass of the same model (plain autograd gradient of the logits);
- top-9 projections of a channel in one batched pass vs 9 single projections.
Medians over --repeats runs, at 224 px on the CPU.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import deconvviz
import deconvviz.engine.deconv
from deconvviz.engine.deconv import project
from deconvviz.engine.probe import probe


def _median_times(candidates: dict, repeats: int) -> dict:
    """Return each candidate's median time; candidates run in turn within each repeat, so load drifts hit all."""
    for fn in candidates.values():
        fn()  # warm-up
    times = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, fn in candidates.items():
            _sync()
            start = time.perf_counter()
            fn()
            _sync()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def _sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _forward_backward(net, x):
    x = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        out = net(x)
        torch.autograd.grad(out[0].max(), x)


def bench_model(name: str, layer: str, repeats: int, device: str) -> None:
    m = deconvviz.load_model(name, device=device)
    x = m.preprocess(deconvviz.load_image("resources/photos/coffee.png"))
    act = probe(m.net, x, keep=[layer]).activations[layer]
    channel = int(act[0].flatten(1).amax(1).argmax())
    positions = [p for p, _ in deconvviz.engine.deconv.top_positions(act[0, channel], 9)]

    t = _median_times({
        "fb": lambda: _forward_backward(m.net, x),
        "one": lambda: project(m.net, x, layer, channel),
        "top9": lambda: project(m.net, x, layer, channel, top_k=9),
        "nine": lambda: [project(m.net, x, layer, channel, position=p) for p in positions],
    }, repeats)
    fb, one, top9, nine = t["fb"], t["one"], t["top9"], t["nine"]
    print(f"{name:<20} {layer:<14} fwd+bwd {fb * 1e3:7.1f} ms | projection {one * 1e3:7.1f} ms "
          f"= {one / fb:.2f}x fwd+bwd | top-9 {top9 * 1e3:7.1f} ms vs 9 singles {nine * 1e3:7.1f} ms "
          f"= {top9 / nine:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--models", default="torchvision:alexnet,efficientnet-lite0")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    where = torch.cuda.get_device_name() if args.device.startswith("cuda") else f"CPU, {torch.get_num_threads()} threads"
    print(f"torch {torch.__version__}, {where}, medians of {args.repeats}")
    layers = {"torchvision:alexnet": ["features.12", "features.5"], "efficientnet-lite0": ["_blocks.10", "_conv_head"]}
    for name in args.models.split(","):
        for layer in layers[name]:
            bench_model(name, layer, args.repeats, args.device)


if __name__ == "__main__":
    main()
