"""Cost of the model-parameter randomisation test, as ratios measured in the same run (python -m bench.sanity).

A full cascading test (every parametrised layer, from the top down; 50 steps on EfficientNet-Lite0) of the
four methods (deconvnet, guided, backprop, saliency) for the top class of the coffee photo: deconvviz's
path (one copy mutated step by step, the four methods in one batched forward and backward pass,
channels-last) against the naive loop (a fresh copy re-initialised per step, one engine call per method).
Both include the similarity measures. The two results are checked to agree. Times are medians over
--repeats, the candidates alternating within each repeat so that load drifts hit both alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import torch

from deconvviz import load_image, load_model
from deconvviz.engine.sanity import METHODS, SanityTarget, randomisation_test


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="efficientnet-lite0")
    parser.add_argument("--image", default="resources/photos/coffee.png")
    parser.add_argument("--test", default="cascading", choices=["cascading", "independent"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--skip-naive", action="store_true", help="time deconvviz's path only")
    parser.add_argument("--steps", type=int, help="only the first N steps from the top (both paths alike), "
                                                  "for a quick ratio on a loaded machine")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.steps:
        from deconvviz.engine import sanity

        full = sanity.randomisation_steps
        # randomisation_test looks the function up at call time
        sanity.randomisation_steps = lambda net, x: (full(net, x)[0][: args.steps], full(net, x)[1])
    model = load_model(args.model)
    x = model.preprocess(load_image(args.image))
    # warm-up outside the timings: first calls pay for oneDNN's kernels and the similarity imports
    from deconvviz.engine.sanity import explain, explain_naive, resolve_target, score_maps

    target = resolve_target(model.net, x, SanityTarget())
    score_maps({m: [e, e + 1] for m, e in explain(model.net, x, target).items()})
    explain_naive(model.net, x, target)
    print(f"{args.model}, {args.test}, {args.threads} threads, load average before: {os.getloadavg()}")
    fast_t, naive_t, fast_cpu, naive_cpu = [], [], [], []
    for _ in range(args.repeats):
        start, cpu = time.perf_counter(), time.process_time()
        fast = randomisation_test(model.net, x, SanityTarget(), METHODS, args.test)
        fast_t.append(time.perf_counter() - start)
        fast_cpu.append(time.process_time() - cpu)
        print(f"  deconvviz: {fast_t[-1]:.1f} s ({fast_cpu[-1]:.1f} CPU s) for {len(fast.steps) - 1} steps x "
              f"{len(METHODS)} methods", flush=True)
        if args.skip_naive:
            continue
        start, cpu = time.perf_counter(), time.process_time()
        naive = randomisation_test(model.net, x, SanityTarget(), METHODS, args.test, naive=True)
        naive_t.append(time.perf_counter() - start)
        naive_cpu.append(time.process_time() - cpu)
        print(f"  naive loop: {naive_t[-1]:.1f} s ({naive_cpu[-1]:.1f} CPU s)", flush=True)
        worst = max(float(np.abs(a - b).max() / (np.abs(b).max() or 1.0))
                    for m in METHODS for a, b in zip(fast.maps[m], naive.maps[m]))
        print(f"  largest difference of a map, relative to its maximum: {worst:.2e}")
    print(f"load average after: {os.getloadavg()}")
    print(f"deconvviz median {statistics.median(fast_t):.1f} s, {statistics.median(fast_cpu):.1f} CPU s "
          "(process time: on a shared machine nearer what it costs alone)")
    if naive_t:
        print(f"naive median {statistics.median(naive_t):.1f} s; ratio naive/deconvviz "
              f"{statistics.median(naive_t) / statistics.median(fast_t):.2f}x (CPU time: "
              f"{statistics.median(naive_cpu) / statistics.median(fast_cpu):.2f}x)")


if __name__ == "__main__":
    main()
