"""Occlusion sensitivity (Zeiler & Fergus 2014, Fig. 7): slide a grey square over the image and watch the output.

For every position of the square: the probability of a target class, the most probable class, and the total
activation of one feature map (the one strongest in the unoccluded image). Positions are evaluated in
batches by exact incremental inference (:mod:`.incremental`): only what the square changes is recomputed.
Models whose graph it cannot reason about are run in full, batched; both give the same numbers.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

from ..errors import DeconvvizError
from .incremental import Delta, IncrementalNet, Unsupported
from .layers import capture
from .layout import MAPS, Layout, layout_for
from .probe import probe

_POOLING = ("Pool",)  # type-name fragments of layers that are not the "conv block" the default picks
_CHECK_TOLERANCE = 1e-5


class OcclusionCancelled(DeconvvizError):
    """The caller's ``cancel()`` returned True before the map was finished."""


@dataclass(frozen=True)
class Approximation:
    """How an approximate occlusion map is computed (Nakandala et al., SIGMOD 2019, "Krypton").

    - ``field`` (0, 1]: the projective-field threshold. At every convolution and pooling the recomputed
      box is capped to this fraction of the layer's height and width (around the box's centre); outputs
      outside the cap keep their unoccluded values. 1 is exact.
    - ``coarse`` >= 1: adaptive drill-down. The map is first computed at every ``coarse``-th position of
      the requested grid (and its last row and column); 1 is no drill-down.
    - ``drill`` [0, 1]: the fraction of coarse cells (the squares between four coarse positions), the
      most sensitive by |p(target) change| at their corners, whose every position is then computed too.
      The others are interpolated bilinearly from their corners (the label from the nearest corner).

    The defaults keep SSIM >= 0.9 against the exact map on the bundled photos (EfficientNet-Lite0, 32 px
    square, stride 8: coffee 0.948, cat 0.915, about half the positions computed). They leave the field
    at 1: a field of 0.7 alone gives SSIM 0.936 and 0.920, but with drill-down its errors compound (0.900
    and 0.856), so drill-down, which buys more per unit of SSIM, is the default.
    """

    field: float = 1.0
    coarse: int = 2
    drill: float = 0.3

    def __post_init__(self):
        if not 0 < self.field <= 1:
            raise DeconvvizError(f"field (the projective-field threshold) must be in (0, 1], got {self.field}")
        if not (isinstance(self.coarse, int) and self.coarse >= 1):
            raise DeconvvizError(f"coarse (the drill-down stride factor) must be an integer >= 1, got {self.coarse}")
        if not 0 <= self.drill <= 1:
            raise DeconvvizError(f"drill (the fraction of cells refined) must be in [0, 1], got {self.drill}")

    @property
    def exact(self) -> bool:
        """Return whether these parameters compute the exact map."""
        return self.field == 1 and (self.coarse == 1 or self.drill == 1)

    def describe(self) -> str:
        """Return the parameters as one short line, e.g. "field 0.5, coarse 2, drill 0.3"."""
        return f"field {self.field:g}, coarse {self.coarse}, drill {self.drill:g}"


LIVE_FIELD = 0.5
"""The projective-field threshold of an approximate live square (:meth:`OcclusionSession.occlude`): looser
than a map's, since it is shown only while the square moves and the exact answer follows when it stops."""


@dataclass(frozen=True)
class OcclusionResult:
    """An occlusion sensitivity map: entry [i, j] is for the square's top-left corner at (i*stride, j*stride).

    ``prob`` (ny, nx) float32: p(target); ``label`` (ny, nx) int64: the most probable class; ``activity``
    (ny, nx) float32: the total (sum over space) of ``layer``'s feature map ``channel``. ``base_prob`` and
    ``base_activity`` are for the unoccluded image, ``base_label`` its top class. ``method`` says how it
    was computed ("incremental" or "full"); ``approximation`` the parameters of an approximate map (None
    for the exact one), and then ``computed`` (ny, nx) bool marks the positions evaluated (the others are
    interpolated by drill-down; with ``approximation.field`` 1 the evaluated ones are exact).
    """

    prob: np.ndarray
    label: np.ndarray
    activity: np.ndarray
    layer: str
    channel: int
    target: int
    base_prob: float
    base_label: int
    base_activity: float
    patch: int
    stride: int
    method: str
    approximation: Approximation | None = None
    computed: np.ndarray | None = None


def default_layer(net: nn.Module, x: torch.Tensor, records=None) -> str:
    """Return the default feature layer: the last call of a leaf module (not a pooling) with maps over 1x1.

    That is the last convolutional block's (rectified) output, the paper's "layer 5" for its own network
    (``features.11`` in ZFNet, ``_swish#1`` in EfficientNet-Lite0). Raises DeconvvizError when the model
    has no such layer.
    """
    records = probe(net, x, keep=()).records if records is None else records
    leaves = {name for name, m in net.named_modules() if name and not any(True for _ in m.children())}
    spatial = [r for r in records if r.spatial and r.map_shape[1] * r.map_shape[2] > 1
               and r.name.split("#")[0] in leaves]
    convs = [r for r in spatial if not any(p in r.type_name for p in _POOLING)]
    chosen = (convs or spatial)
    if not chosen:
        raise DeconvvizError("the model has no layer with spatial feature maps; occlusion needs one")
    return chosen[-1].name


def default_stride(patch: int) -> int:
    """Return the default step between square positions: a quarter of the square, at least 1 pixel."""
    return max(1, round(patch / 4))


def default_patch_stride(height: int, width: int) -> tuple[int, int]:
    """Return (patch, stride) suited to an input size: 32/8 at 224 px, 6/2 at 28 px."""
    side = min(height, width)
    patch = side // 7 if side >= 112 else max(3, round(side * 0.2))
    return patch, default_stride(patch)


def _fill_tensor(fill, channels: int, device) -> torch.Tensor:
    """Return the occluder's value per channel as (C, 1, 1) in normalised input units."""
    if fill is None:
        return torch.zeros(channels, 1, 1, device=device)
    t = torch.as_tensor(fill, dtype=torch.float32, device=device).reshape(-1)
    if t.numel() == 1:
        t = t.expand(channels)
    if t.numel() != channels:
        raise DeconvvizError(f"fill has {t.numel()} values; the model's input has {channels} channels")
    return t.reshape(channels, 1, 1).clone()


class _Evaluator:
    """Answers occluded queries for one image: logits and the chosen map's total activation per box."""

    method = "full"

    def __init__(self, net: nn.Module, x: torch.Tensor, layer: str, channel: int):
        self.net, self.x, self.layer, self.channel = net, x, layer, channel

    def sample_bytes(self, records) -> int:
        """Return the bytes one sample takes in the widest batched tensor: here the model's biggest layer."""
        return max((int(np.prod(r.output_shape)) for r in records), default=1) * self.x.element_size()

    @torch.no_grad()
    def __call__(self, tops: np.ndarray, lefts: np.ndarray, h: int, w: int, fill: torch.Tensor, field: float = 1.0):
        """Return (logits (B, K), activity (B,)) with a fill-valued h x w box at each (top, left).

        ``field`` (the projective-field threshold) is ignored: full inference is always exact."""
        xs = self.x.repeat(len(tops), 1, 1, 1)
        for i, (t, l) in enumerate(zip(tops, lefts)):
            xs[i, :, t:t + h, l:l + w] = fill
        if xs.device.type == "cpu":  # oneDNN's channels-last kernels are 2-8x faster here (depthwise most)
            xs = xs.contiguous(memory_format=torch.channels_last)
        with capture(self.net, self.layer, stop=False) as box:
            out = self.net(xs)
        act = box["layout"].maps(box["output"])[:, self.channel]
        return _logits(out), act.reshape(len(tops), -1).sum(1)


class _IncrementalEvaluator(_Evaluator):
    method = "incremental"

    def __init__(self, net, x, layer, channel, layer_value: torch.Tensor):
        super().__init__(net, x, layer, channel)
        if layer_value.dim() != 4 or layout_for(tuple(layer_value.shape[1:])).kind != MAPS:
            raise Unsupported(f"layer {layer!r} is not (B, C, H, W) maps")  # tokens, channels-last: in full
        self.inc = IncrementalNet(net, x)
        module_name = layer.split("#")[0]
        self.tap = self.inc.find_node(layer_value, module_name)
        if self.tap is None:
            raise Unsupported(f"layer {layer!r} is not a node of the traced graph")
        self.inc.unfold(self.tap)  # the map total is of the convolution's output, not the batch norm's after it
        fmap = self.inc.base[self.tap][0, channel].double()
        self.base_total = float(fmap.sum())
        self.integral = torch.nn.functional.pad(fmap.cumsum(0).cumsum(1), (1, 0, 1, 0)).cpu().numpy()

    @torch.no_grad()
    def __call__(self, tops, lefts, h, w, fill, field=1.0):
        patch = fill.unsqueeze(0).expand(len(tops), -1, h, w).contiguous()
        out, tapped = self.inc.run(Delta(patch, np.asarray(tops, np.int64), np.asarray(lefts, np.int64)), self.tap,
                                   field)
        return _logits(out), self._activity(tapped, len(tops))

    def sample_bytes(self, records) -> int:
        """Return the bytes one sample takes in the widest tensor a run has produced (the check's run: a
        central box, the widest), or the biggest layer's before any run."""
        return self.inc.widest or super().sample_bytes(records)

    def _activity(self, d, batch):
        if d is None:  # the occluder changed nothing the layer sees
            return torch.full((batch,), self.base_total, dtype=torch.float64)
        new = d.patch[:, self.channel].double().reshape(d.batch, -1).sum(1)
        if d.full:
            return new
        h, w = d.patch.shape[2:]
        s, t, l = self.integral, d.top, d.left
        old = s[t + h, l + w] - s[t, l + w] - s[t + h, l] + s[t, l]
        return torch.as_tensor(self.base_total - old, device=new.device) + new


def _logits(out) -> torch.Tensor:
    out = out if isinstance(out, torch.Tensor) else out[0]
    return out.reshape(out.shape[0], -1)


def _evaluator(net, x, layer, channel, layer_value, fill, patch, incremental=True):
    """Return an incremental evaluator checked against full inference, or the full one where it cannot be used."""
    full = _Evaluator(net, x, layer, channel)
    if not incremental:
        return full
    try:
        inc = _IncrementalEvaluator(net, x, layer, channel, layer_value)
    except Unsupported:
        return full
    # A guard against ops that are not per-sample (hard-coded batch sizes): two boxes, compared exactly.
    height, width = x.shape[2:]
    ph, pw = min(patch, height), min(patch, width)
    tops = np.array([0, (height - ph) // 2], np.int64)
    lefts = np.array([0, (width - pw) // 2], np.int64)
    try:
        a_logits, a_act = inc(tops, lefts, ph, pw, fill)
    except Exception:  # noqa: BLE001 - anything the graph does with a batch it was not traced with
        return full
    b_logits, b_act = full(tops, lefts, ph, pw, fill)
    # cuDNN's TF32 convolutions (on by default) round both results to about 1e-3: judge them by that.
    tf32 = x.is_cuda and torch.backends.cudnn.allow_tf32
    close = (a_logits.softmax(1) - b_logits.softmax(1)).abs().max() <= (1e-3 if tf32 else _CHECK_TOLERANCE)
    close = close and torch.allclose(a_act.double(), b_act.double(), rtol=1e-4, atol=1e-3)
    return inc if close else full


def _race(evaluators, tops, lefts, h, w, fill):
    """Return (the fastest evaluator on this query, its answer); all give the same numbers.

    Used for single queries, where it is not clear in advance that incremental inference wins: on a GPU a
    batch of one is bound by kernel launches rather than arithmetic, and one full pass beats many small
    windows (H100: 3.0 ms against 8.1 ms on EfficientNet-Lite0), while on a CPU incremental wins.
    """
    best = None
    for evaluate in evaluators:
        _sync(fill)
        start = time.perf_counter()
        answer = evaluate(tops, lefts, h, w, fill)
        _sync(fill)
        elapsed = time.perf_counter() - start
        if best is None or elapsed < best[0]:
            best = (elapsed, evaluate, answer)
    return best[1], best[2]


def _sync(t: torch.Tensor) -> None:
    if t.is_cuda:
        torch.cuda.synchronize(t.device)


@dataclass(frozen=True)
class _Prepared:
    layer: str
    channel: int
    layer_value: torch.Tensor  # the layer's unoccluded output (1, C, h, w), in the layer's own layout
    layout: Layout  # how that output reads as maps (tokens and channels-last: engine/layout.py)
    logits: torch.Tensor  # the unoccluded output (1, K)
    records: list


@torch.no_grad()
def _prepare(net, x, layer, channel=None) -> _Prepared:
    """Return the layer (default: :func:`default_layer`), its channel (default: the one holding its largest
    activation), its output and the model's output, from two probes; DeconvvizError for an unusable layer."""
    records = probe(net, x, keep=()).records
    layer = layer or default_layer(net, x, records)
    by_name = {r.name: r for r in records}
    if layer not in by_name:
        spatial = [n for n, r in by_name.items() if r.spatial]
        raise DeconvvizError(f"unknown layer {layer!r}; layers with feature maps include: "
                             f"{', '.join(spatial[-6:])} (`deconvviz layers` lists them all)")
    if not by_name[layer].spatial:
        raise DeconvvizError(f"layer {layer!r} has no spatial feature maps (output shape "
                             f"{by_name[layer].output_shape}); pick a convolutional layer (`deconvviz layers`)")
    result = probe(net, x, keep=[layer])
    layout = by_name[layer].layout
    act = layout.maps(result.activations[layer])
    if channel is None:
        channel = int(act[0].reshape(act.shape[1], -1).amax(1).argmax())
    elif not 0 <= channel < act.shape[1]:
        raise DeconvvizError(f"channel {channel} out of range for layer {layer!r}: valid 0..{act.shape[1] - 1}")
    return _Prepared(layer, int(channel), result.activations[layer], layout, _logits(result.output), records)


CPU_BATCH_BYTES = 24 << 20
"""On a CPU, the most bytes a batched tensor should take. Larger ones pass the C allocator's 32 MiB limit
for reusing memory (glibc's largest mmap threshold): each is then mapped afresh and its pages faulted in on
every use. EfficientNet-Lite0's full map (224 px, 32 px square, stride 8; fresh processes): 1.33 s in batches
of 32 (24 MiB at its widest) against 1.56-1.76 s in batches of 64."""


def batch_size(x: torch.Tensor, sample_bytes: int) -> int:
    """Return how many occluded positions to evaluate at once on x's device, given the bytes one sample
    takes in the widest batched tensor (:data:`CPU_BATCH_BYTES` on a CPU, free memory on a GPU)."""
    per_sample = max(1, sample_bytes)
    if x.device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(x.device)
        return int(np.clip(free // 3 // (per_sample * 4), 1, 512))
    budget = min(CPU_BATCH_BYTES, _available_memory() // 16)
    return int(np.clip(budget // per_sample, 1, 64))  # beyond 64 a CPU gains nothing and waits longer


def _available_memory() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return (os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")) // 2


@torch.no_grad()
def occlusion_map(
    net: nn.Module,
    x: torch.Tensor,
    patch: int,
    stride: int,
    fill=None,
    target: int | None = None,
    layer: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    batch: int | None = None,
    incremental: bool = True,
    approximate: bool | Approximation = False,
) -> OcclusionResult:
    """Return the OcclusionResult of sliding a ``patch`` x ``patch`` square in steps of ``stride`` over ``x``.

    ``x`` is one normalised input (1, C, H, W) on the net's device; ``fill`` the square's value in normalised
    units (a number or one per channel; default 0, the mean pixel); ``target`` the class whose probability is
    mapped (default: the unoccluded image's top class); ``layer`` the feature layer (default:
    :func:`default_layer`). ``progress(done, total)`` is called after each batch; when ``cancel()`` returns
    True the run stops with OcclusionCancelled. ``batch`` overrides :func:`batch_size`; ``incremental=False``
    forces full inference. ``approximate`` True (or an :class:`Approximation` with explicit parameters)
    computes an approximate map instead, faster (Krypton's projective-field threshold and adaptive
    drill-down); the default is the exact map. Raises DeconvvizError for bad arguments.
    """
    if x.dim() != 4 or x.shape[0] != 1:
        raise DeconvvizError(f"expected one input image of shape (1, C, H, W), got {tuple(x.shape)}")
    height, width = x.shape[2:]
    if not 1 <= patch <= min(height, width):
        raise DeconvvizError(f"patch must be 1..{min(height, width)} pixels for a {height}x{width} input, got {patch}")
    if stride < 1:
        raise DeconvvizError(f"stride must be at least 1, got {stride}")
    prep = _prepare(net, x, layer)
    layer, channel, layer_value = prep.layer, prep.channel, prep.layer_value
    fill_t = _fill_tensor(fill, x.shape[1], x.device)
    base_probs = prep.logits.softmax(1)[0]
    classes = base_probs.numel()
    target = int(base_probs.argmax()) if target is None else int(target)
    if not 0 <= target < classes:
        raise DeconvvizError(f"target class {target} out of range: valid 0..{classes - 1}")
    approx = _approximation(approximate)
    evaluate = _evaluator(net, x, layer, channel, layer_value, fill_t, patch, incremental)
    ny, nx = (height - patch) // stride + 1, (width - patch) // stride + 1
    step = batch or batch_size(x, evaluate.sample_bytes(prep.records))
    field = approx.field if approx else 1.0
    prob = np.full((ny, nx), np.nan, np.float32)
    label = np.zeros((ny, nx), np.int64)
    activity = np.zeros((ny, nx), np.float32)
    done = np.zeros((ny, nx), bool)

    def compute(cells: np.ndarray, total: int, before: int) -> None:
        """Evaluate the grid positions ``cells`` (N, 2) in batches into the maps."""
        for start in range(0, len(cells), step):
            if cancel is not None and cancel():
                raise OcclusionCancelled("occlusion map cancelled")
            ii, jj = cells[start:start + step].T
            logits, act = evaluate(ii * stride, jj * stride, patch, patch, fill_t, field)
            probs = logits.softmax(1)
            prob[ii, jj] = probs[:, target].float().cpu().numpy()
            label[ii, jj] = probs.argmax(1).cpu().numpy()
            activity[ii, jj] = act.float().cpu().numpy()
            done[ii, jj] = True
            if progress is not None:
                progress(before + min(start + step, len(cells)), total)

    everything = np.argwhere(np.ones((ny, nx), bool))
    if approx is None or approx.coarse == 1 or approx.drill == 1:
        compute(everything, len(everything), 0)
    else:
        rows, cols = _coarse_lines(ny, approx.coarse), _coarse_lines(nx, approx.coarse)
        first = np.argwhere(np.isin(np.arange(ny), rows)[:, None] & np.isin(np.arange(nx), cols)[None])
        n_cells = max(1, len(rows) - 1) * max(1, len(cols) - 1)
        chosen = round(approx.drill * n_cells)
        estimate = len(first) + chosen * (approx.coarse + 1) ** 2
        compute(first, estimate, 0)
        refine = _drill_cells(prob, rows, cols, float(base_probs[target]), chosen) & ~done
        second = np.argwhere(refine)
        compute(second, len(first) + len(second), len(first))
        _interpolate(prob, activity, label, done, rows, cols)
    act_map = prep.layout.maps(layer_value)[0, channel]
    return OcclusionResult(
        prob=prob, label=label, activity=activity,
        layer=layer, channel=channel, target=target, base_prob=float(base_probs[target]),
        base_label=int(base_probs.argmax()), base_activity=float(act_map.double().sum()),
        patch=patch, stride=stride, method=evaluate.method, approximation=approx,
        computed=None if approx is None else done,
    )


def _approximation(approximate) -> Approximation | None:
    """Return the Approximation asked for (True: the defaults), or None for the exact map."""
    if approximate is False or approximate is None:
        return None
    if approximate is True:
        return Approximation()
    if isinstance(approximate, Approximation):
        return approximate
    raise DeconvvizError(f"approximate must be True, False or an Approximation, got {approximate!r}")


def _coarse_lines(n: int, coarse: int) -> np.ndarray:
    """Return the grid indices of the coarse rows (or columns): every ``coarse``-th, and the last one."""
    return np.unique(np.append(np.arange(0, n, coarse), n - 1))


def _drill_cells(prob: np.ndarray, rows: np.ndarray, cols: np.ndarray, base: float, chosen: int) -> np.ndarray:
    """Return a (ny, nx) mask of the positions inside the ``chosen`` coarse cells whose corners change
    p(target) the most (a cell counts by its largest |change| at a corner)."""
    def segments(lines):  # consecutive coarse lines; a single line is a segment of its own
        return [(lines[k], lines[k + 1]) for k in range(len(lines) - 1)] or [(lines[0], lines[0])]

    cells = [(r, c) for r in segments(rows) for c in segments(cols)]
    change = np.abs(prob - base)
    score = np.array([max(change[r0, c0], change[r0, c1], change[r1, c0], change[r1, c1])
                      for (r0, r1), (c0, c1) in cells])
    mask = np.zeros(prob.shape, bool)
    for k in np.argsort(-score, kind="stable")[:chosen]:
        (r0, r1), (c0, c1) = cells[k]
        mask[r0:r1 + 1, c0:c1 + 1] = True
    return mask


def _interpolate(prob, activity, label, done, rows, cols) -> None:
    """Fill the positions not computed (in place): bilinear between the coarse positions around them,
    the label from the nearest one."""
    ny, nx = prob.shape
    # Each position's coarse neighbours before/after, and its weight between them, along each axis.
    def bracket(n, lines):
        hi = np.clip(np.searchsorted(lines, np.arange(n)), 0, len(lines) - 1)
        lo = np.where(lines[hi] > np.arange(n), np.maximum(hi - 1, 0), hi)
        span = np.maximum(lines[hi] - lines[lo], 1)
        return lines[lo], lines[hi], (np.arange(n) - lines[lo]) / span

    r0, r1, fr = bracket(ny, rows)
    c0, c1, fc = bracket(nx, cols)
    todo = ~done
    for values in (prob, activity):
        v = values.astype(np.float64)
        top = v[np.ix_(r0, c0)] * (1 - fc) + v[np.ix_(r0, c1)] * fc
        bottom = v[np.ix_(r1, c0)] * (1 - fc) + v[np.ix_(r1, c1)] * fc
        values[todo] = (top * (1 - fr[:, None]) + bottom * fr[:, None])[todo]
    near_r = np.where(fr < 0.5, r0, r1)
    near_c = np.where(fc < 0.5, c0, c1)
    label[todo] = label[np.ix_(near_r, near_c)][todo]


class OcclusionSession:
    """One image prepared for live occlusion: every layer's unoccluded output cached once.

    ``occlude(top, left, size)`` returns the class probabilities (K,) and the chosen map's total activation
    with a ``size`` x ``size`` square (clipped to the image) at (top, left), recomputing only what it changes.
    ``method`` None times incremental and full inference on one query and keeps the faster (on a GPU a
    full pass often wins); "incremental" or "full" forces one (incremental falls back to full where the
    model is not supported). ``.method`` says which is used.
    """

    def __init__(self, net: nn.Module, x: torch.Tensor, layer: str | None = None, channel: int | None = None,
                 fill=None, check_size: int | None = None, method: str | None = None):
        if x.dim() != 4 or x.shape[0] != 1:
            raise DeconvvizError(f"expected one input image of shape (1, C, H, W), got {tuple(x.shape)}")
        self.net, self.x = net, x
        prep = _prepare(net, x, layer, channel)
        self.layer, self.channel, layer_value = prep.layer, prep.channel, prep.layer_value
        self.fill = _fill_tensor(fill, x.shape[1], x.device)
        self.base_probs = prep.logits.float().softmax(1)[0].cpu().numpy()
        self.base_activity = float(prep.layout.maps(layer_value)[0, self.channel].double().sum())
        size = check_size or default_patch_stride(*x.shape[2:])[0]
        if method not in (None, "incremental", "full"):
            raise DeconvvizError(f"unknown method {method!r}; valid: incremental, full")
        self._evaluate = _evaluator(net, x, self.layer, self.channel, layer_value, self.fill, size,
                                    incremental=method != "full")
        # Approximate answers need incremental inference (a full pass is always exact): kept even when the
        # race below picks full inference for exact ones.
        self._approximate = self._evaluate if self._evaluate.method == "incremental" else None
        self._layer_value, self._size = layer_value, size
        if self._evaluate.method == "incremental" and method is None:  # one query each, twice: keep the faster
            full = _Evaluator(net, x, self.layer, self.channel)
            one = np.array([(x.shape[2] - size) // 2]), np.array([(x.shape[3] - size) // 2])
            self._evaluate, _ = _race([full, self._evaluate] * 2, *one, size, size, self.fill)
        self.method = self._evaluate.method

    @property
    def incremental_net(self):
        """Return the IncrementalNet that answers approximate (and, where it won the race, exact) queries, or
        None where incremental inference does not support the model or was not built yet."""
        return getattr(self._approximate, "inc", None)

    @property
    def approximates(self) -> bool:
        """Return whether ``occlude(..., approximate=True)`` answers approximately: incremental inference
        supports the model (a full pass, its fallback, is always exact)."""
        if self._approximate is None:  # method "full" did not build it
            self._approximate = _evaluator(self.net, self.x, self.layer, self.channel, self._layer_value, self.fill,
                                           self._size)
        return self._approximate.method == "incremental"

    def occlude(self, top: int, left: int, size: int, approximate: bool | float = False) -> tuple[np.ndarray, float]:
        """Return (probabilities (K,) float32, total activation of the chosen map) with the square in place.

        ``approximate`` True (or a projective-field threshold in (0, 1]; True is :data:`LIVE_FIELD`) caps the
        recomputed box at every layer (:class:`Approximation`'s ``field``): faster, for a square that is
        moving; the default is exact. Approximate answers use incremental inference even where ``method``
        (for exact ones) is full; a model incremental inference does not support is always answered exactly.
        """
        field = 1.0 if approximate is False else LIVE_FIELD if approximate is True else float(approximate)
        if not 0 < field <= 1:
            raise DeconvvizError(f"the projective-field threshold must be in (0, 1], got {field}")
        height, width = self.x.shape[2:]
        t0, l0 = max(0, int(top)), max(0, int(left))
        t1, l1 = min(height, int(top) + int(size)), min(width, int(left) + int(size))
        if t1 <= t0 or l1 <= l0:
            return self.base_probs.copy(), self.base_activity
        if field < 1 and self._approximate is None:  # built on first use (method "full" did not build it)
            self._approximate = _evaluator(self.net, self.x, self.layer, self.channel, self._layer_value, self.fill,
                                           self._size)
        evaluate = self._approximate if field < 1 else self._evaluate
        logits, act = evaluate(np.array([t0]), np.array([l0]), t1 - t0, l1 - l0, self.fill, field)
        return logits.softmax(1)[0].float().cpu().numpy(), float(act[0])
