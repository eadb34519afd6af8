"""Top-k index: streaming update (O(k x channels) memory) vs keeping every activation and sorting once.

Run: PYTHONPATH=. python bench/bench_topk_index.py
Prints the median time of each over a few repeats and their ratio, and checks they agree.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch

from deconvviz.engine import topk


def streaming(maps: torch.Tensor, k: int, batch: int) -> topk.TopKIndex:
    index = topk.empty_index("L", range(maps.shape[1]), k, distinct=False)
    for s in range(0, len(maps), batch):
        index = topk.update(index, maps[s:s + batch], torch.arange(s, min(s + batch, len(maps))))
    return index


def full_sort(maps: torch.Tensor, k: int):
    n, c, h, w = maps.shape
    values = maps.permute(1, 0, 2, 3).reshape(c, -1).numpy()
    flat = np.broadcast_to(np.arange(n * h * w), values.shape)
    order = np.lexsort((flat, -values.astype(np.float64)), axis=-1)[:, :k]
    return np.take_along_axis(values, order, 1), order // (h * w)


def main() -> None:
    torch.manual_seed(0)
    maps = torch.randn(2000, 64, 14, 14).relu()
    k, batch = 9, 64
    t_stream, t_sort = [], []
    for _ in range(3):
        t0 = time.perf_counter()
        index = streaming(maps, k, batch)
        t_stream.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        values, image = full_sort(maps, k)
        t_sort.append(time.perf_counter() - t0)
    assert np.array_equal(index.values, values) and np.array_equal(index.image, image)
    a, b = statistics.median(t_stream), statistics.median(t_sort)
    held = maps.numel() * 4 / 2**20
    print(f"2000 images x 64 channels x 14x14, k={k}: streaming {a * 1e3:.0f} ms (holds {index.values.nbytes * 4 / 1024:.0f} KiB"
          f" + one batch), full sort {b * 1e3:.0f} ms (holds {held:.0f} MiB); streaming/full-sort time ratio {a / b:.2f}")


if __name__ == "__main__":
    main()
