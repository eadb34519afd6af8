"""The box arithmetic of incremental inference against brute force, on random geometry (hypothesis)."""

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from deconvviz.engine.incremental import boxes

SETTINGS = settings(max_examples=150, deadline=None)


@st.composite
def axis(draw):
    """A sliding-window axis (k, s, p, d, input size, output count) and a batch of changed ranges in it."""
    k, s, d = draw(st.integers(1, 5)), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    p = draw(st.integers(0, (k - 1) * d))
    n_in = draw(st.integers(max(1, (k - 1) * d + 1 - 2 * p), 30))
    n_out = (n_in + 2 * p - (k - 1) * d - 1) // s + 1
    size = draw(st.integers(1, n_in))
    tops = draw(st.lists(st.integers(0, n_in - size), min_size=1, max_size=5))
    return k, s, p, d, n_out, size, np.array(tops, np.int64)


@SETTINGS
@given(axis())
def test_out_range_covers_exactly_the_outputs_that_read_the_box(a):
    k, s, p, d, n_out, size, tops = a
    lo, n = boxes.out_range(tops, size, k, s, p, d, n_out)
    assert 1 <= n <= n_out and np.all(lo >= 0) and np.all(lo + n <= n_out)
    spans = []
    for top, first in zip(tops, lo):
        # Output o spans inputs o*s - p .. o*s - p + (k-1)*d: it is affected when that span meets the box.
        hit = [o for o in range(n_out) if o * s - p <= top + size - 1 and o * s - p + (k - 1) * d >= top]
        assert all(first <= o < first + n for o in hit)
        spans.append(hit[-1] - hit[0] + 1 if hit else 1)
    assert n == max(spans)  # no wider than the widest sample needs


@st.composite
def box_sets(draw):
    height, width = draw(st.integers(1, 20)), draw(st.integers(1, 20))
    batch, count = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    out = []
    for _ in range(count):
        h, w = draw(st.integers(1, height)), draw(st.integers(1, width))
        tops = np.array(draw(st.lists(st.integers(0, height - h), min_size=batch, max_size=batch)), np.int64)
        lefts = np.array(draw(st.lists(st.integers(0, width - w), min_size=batch, max_size=batch)), np.int64)
        out.append((tops, lefts, h, w))
    return height, width, out


@SETTINGS
@given(box_sets())
def test_union_holds_every_box_and_no_more_than_needed(case):
    height, width, bs = case
    top, left, h, w = boxes.union(bs, height, width)
    need_h = need_w = 0
    for i in range(len(top)):
        assert 0 <= top[i] and top[i] + h <= height and 0 <= left[i] and left[i] + w <= width
        for t, l, bh, bw in bs:
            assert top[i] <= t[i] and t[i] + bh <= top[i] + h and left[i] <= l[i] and l[i] + bw <= left[i] + w
        need_h = max(need_h, max(t[i] + bh for t, _, bh, _ in bs) - min(t[i] for t, _, _, _ in bs))
        need_w = max(need_w, max(l[i] + bw for _, l, _, bw in bs) - min(l[i] for _, l, _, _ in bs))
    assert (h, w) == (need_h, need_w)


@st.composite
def paste_cases(draw):
    channels, height, width = draw(st.integers(1, 3)), draw(st.integers(1, 12)), draw(st.integers(1, 12))
    pad_r, pad_c = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    batch = draw(st.integers(1, 4))
    same = draw(st.booleans())  # every sample at the same place: the slicing path
    h, w = draw(st.integers(1, height)), draw(st.integers(1, width))
    span_r, span_c = draw(st.integers(1, height + pad_r)), draw(st.integers(1, width + pad_c))

    def corners(n, lo, hi):
        v = draw(st.lists(st.integers(lo, hi), min_size=n, max_size=n))
        return np.array(v * batch if same else v, np.int64)

    n = 1 if same else batch
    start_r = corners(n, -pad_r, height + pad_r - span_r - pad_r)
    start_c = corners(n, -pad_c, width + pad_c - span_c - pad_c)
    top, left = corners(n, 0, height - h), corners(n, 0, width - w)
    with_patch = draw(st.booleans())
    seed = draw(st.integers(0, 2**16))
    return channels, height, width, (pad_r, pad_c), h, w, start_r, start_c, span_r, span_c, top, left, with_patch, seed


@st.composite
def inside_cases(draw):
    """Windows at different places, each holding its whole box (paste's path that writes over the window)."""
    channels, height, width = draw(st.integers(1, 3)), draw(st.integers(2, 12)), draw(st.integers(2, 12))
    batch = draw(st.integers(2, 5))
    h, w = draw(st.integers(1, height)), draw(st.integers(1, width))
    span_r, span_c = draw(st.integers(h, height)), draw(st.integers(w, width))

    def ints(lo, hi):
        return np.array(draw(st.lists(st.integers(lo, hi), min_size=batch, max_size=batch)), np.int64)

    start_r, start_c = ints(0, height - span_r), ints(0, width - span_c)
    top, left = start_r + ints(0, span_r - h), start_c + ints(0, span_c - w)
    seed = draw(st.integers(0, 2**16))
    return channels, height, width, (0, 0), h, w, start_r, start_c, span_r, span_c, top, left, True, seed


@SETTINGS
@given(st.one_of(paste_cases(), inside_cases()))
def test_paste_equals_pasting_into_the_whole_map(case):
    channels, height, width, padding, h, w, start_r, start_c, span_r, span_c, top, left, with_patch, seed = case
    if np.any(start_r + padding[0] < 0) or np.any(start_c + padding[1] < 0):
        return
    g = torch.Generator().manual_seed(seed)
    # The cache padded by `padding` before and as much after: windows stay inside it.
    padded = torch.randn(height + 2 * padding[0], width + 2 * padding[1], channels, generator=g)
    before = padded.clone()
    batch = len(top)
    patch = torch.randn(batch, channels, h, w, generator=g) if with_patch else None
    got = boxes.paste(padded, padding, patch, top if with_patch else None, left if with_patch else None,
                      start_r, start_c, span_r, span_c, batch=batch)
    assert got.shape == (batch, channels, span_r, span_c)
    for i in range(batch):
        full = padded.permute(2, 0, 1).clone()
        if with_patch:
            full[:, top[i] + padding[0]:top[i] + padding[0] + h, left[i] + padding[1]:left[i] + padding[1] + w] = patch[i]
        r, c = start_r[i] + padding[0], start_c[i] + padding[1]
        assert torch.equal(got[i], full[:, r:r + span_r, c:c + span_c])
    assert torch.equal(padded, before)  # the cache is never written


@SETTINGS
@given(box_sets(), st.integers(0, 2**16))
def test_crop_is_paste_without_padding(case, seed):
    height, width, bs = case
    tops, lefts, h, w = bs[0]
    g = torch.Generator().manual_seed(seed)
    hwc = torch.randn(height, width, 2, generator=g)
    got = boxes.crop(hwc, None, None, None, tops, lefts, h, w)
    for i in range(len(tops)):
        assert torch.equal(got[i], hwc.permute(2, 0, 1)[:, tops[i]:tops[i] + h, lefts[i]:lefts[i] + w])
