"""Box arithmetic for incremental inference: which outputs a changed box reaches, the union of boxes, and
cached windows with new values pasted in.

Boxes are batched: per sample a corner (``top``/``left``, numpy int64 arrays (B,)) and one size shared by
the whole batch, so that a batch of boxes is one tensor.
"""

from __future__ import annotations

import numpy as np
import torch


def out_range(top: np.ndarray, size: int, k: int, s: int, p: int, d: int, n_out: int) -> tuple[np.ndarray, int]:
    """Return (first output index per sample (B,) int64, one count n for all) along one axis of a sliding window.

    The window has kernel ``k``, stride ``s``, padding ``p`` and dilation ``d`` over an axis whose changed
    input indices are ``top .. top + size - 1``; outputs ``lo .. lo + n - 1`` include every output (of
    ``n_out``) that reads a changed input, and stay inside ``0 .. n_out - 1``.
    """
    if len(top) == 1:  # the live square: plain integers (numpy's per-call cost dominates on one box)
        t = int(top[0])
        lo1 = min(max(-((-(t + p - (k - 1) * d)) // s), 0), n_out - 1)  # ceil division
        hi1 = min(max((t + size - 1 + p) // s, 0), n_out - 1)
        n = max(1, hi1 - lo1 + 1)
        return np.array([min(lo1, n_out - n)], np.int64), n
    lo = -((-(top + p - (k - 1) * d)) // s)  # ceil division
    hi = (top + size - 1 + p) // s
    lo = np.minimum(np.maximum(lo, 0), n_out - 1)  # np.clip costs several times more on small arrays
    hi = np.minimum(np.maximum(hi, 0), n_out - 1)
    n = int(max(1, (hi - lo + 1).max()))
    lo = np.minimum(lo, n_out - n)
    return lo.astype(np.int64, copy=False), n


def union(boxes, height: int, width: int) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Return (top (B,), left (B,), h, w): one box size that holds, per sample, every box of ``boxes``.

    ``boxes`` is a list of (top (B,), left (B,), h, w), each inside a ``height`` x ``width`` map; the union
    box stays inside it too.
    """
    t0 = np.min([b[0] for b in boxes], axis=0)
    l0 = np.min([b[1] for b in boxes], axis=0)
    t1 = np.max([b[0] + b[2] for b in boxes], axis=0)
    l1 = np.max([b[1] + b[3] for b in boxes], axis=0)
    h, w = int((t1 - t0).max()), int((l1 - l0).max())
    return np.minimum(t0, height - h), np.minimum(l0, width - w), h, w


def paste(padded_hwc: torch.Tensor, padding: tuple[int, int], patch: torch.Tensor | None, top, left,
          start_r: np.ndarray, start_c: np.ndarray, span_r: int, span_c: int, batch: int | None = None) -> torch.Tensor:
    """Return windows (B, C, span_r, span_c) of a padded cached map (H, W, C), with new values pasted in.

    ``padding`` (rows, columns) is how far the cache is padded before its first row and column;
    ``start_r``/``start_c`` (B,) are each window's first row/column in unpadded coordinates. ``patch``
    (B, C, h, w) holds the new values of each sample's box at (``top``, ``left``) (unpadded), or is None
    (then ``batch`` gives B). The part of a box outside its window is ignored; the cache is never written
    (and neither is the result, which may be ``patch`` itself).
    """
    device = padded_hwc.device
    batch = patch.shape[0] if patch is not None else batch
    if patch is not None and patch.shape[2:] == (span_r, span_c) and np.array_equal(top, start_r) \
            and np.array_equal(left, start_c):
        return patch  # the new values cover every window (a 1 x 1 convolution's): nothing cached to read
    if batch == 1 or ((start_r == start_r[0]).all() and (start_c == start_c[0]).all()
                      and (patch is None or ((top == top[0]).all() and (left == left[0]).all()))):
        r0, c0 = int(start_r[0]) + padding[0], int(start_c[0]) + padding[1]
        win = padded_hwc[r0:r0 + span_r, c0:c0 + span_c].permute(2, 0, 1).unsqueeze(0)
        win = win.expand(batch, *win.shape[1:]).clone(memory_format=torch.channels_last)  # never the cache
        if patch is not None:
            h, w = patch.shape[2:]
            a, b = int(top[0]) - int(start_r[0]), int(left[0]) - int(start_c[0])
            ra, rb = max(a, 0), min(a + h, span_r)
            ca, cb = max(b, 0), min(b + w, span_c)
            if ra < rb and ca < cb:
                win[:, :, ra:rb, ca:cb] = patch[:, :, ra - a:rb - a, ca - b:cb - b]
        return win
    rows = start_r[:, None] + np.arange(span_r)[None]  # (B, span) unpadded
    cols = start_c[:, None] + np.arange(span_c)[None]
    r_idx = torch.as_tensor(rows + padding[0], device=device)
    c_idx = torch.as_tensor(cols + padding[1], device=device)
    win = padded_hwc[r_idx[:, :, None], c_idx[:, None, :]]  # (B, span_r, span_c, C)
    if patch is None:
        return win.permute(0, 3, 1, 2)
    h, w = patch.shape[2:]
    a, b = top - start_r, left - start_c  # each box's corner inside its window
    b_idx = torch.arange(batch, device=device)
    if a.min() >= 0 and b.min() >= 0 and a.max() + h <= span_r and b.max() + w <= span_c:
        # Every box lies inside its window (the usual case): write the new values over the cached ones.
        pr = torch.as_tensor(a[:, None] + np.arange(h)[None], device=device)
        pc = torch.as_tensor(b[:, None] + np.arange(w)[None], device=device)
        win[b_idx[:, None, None], pr[:, :, None], pc[:, None, :]] = patch.permute(0, 2, 3, 1)
    else:
        pr = rows - top[:, None]
        pc = cols - left[:, None]
        in_r = (pr >= 0) & (pr < h)
        in_c = (pc >= 0) & (pc < w)
        mask = torch.as_tensor(in_r[:, :, None] & in_c[:, None, :], device=device).unsqueeze(-1)
        pr_t = torch.as_tensor(np.clip(pr, 0, h - 1), device=device)
        pc_t = torch.as_tensor(np.clip(pc, 0, w - 1), device=device)
        new = patch.permute(0, 2, 3, 1)[b_idx[:, None, None], pr_t[:, :, None], pc_t[:, None, :]]
        win = torch.where(mask, new, win)
    return win.permute(0, 3, 1, 2)


def crop(base_hwc: torch.Tensor, patch: torch.Tensor | None, top, left, box_top, box_left, h: int, w: int) -> torch.Tensor:
    """Return the box (box_top, box_left, h, w) per sample of a cached map (H, W, C) with ``patch`` (at
    ``top``/``left``, or None) pasted in: (B, C, h, w)."""
    return paste(base_hwc, (0, 0), patch, top, left, box_top, box_left, h, w, batch=len(box_top))
