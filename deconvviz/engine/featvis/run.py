"""Feature visualisation of many targets at once: one Fourier-parametrised image per target (channel or class),
optimised together in one batch by Adam under fresh robustness transforms each step (Lucid's ``render``)."""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from ...errors import DeconvvizError
from ...models.preprocessing import Preprocessing
from .._control import Cancel, Progress, report
from ..heap import kept_heap
from ..layers import capture, run_until
from ..layout import no_maps_error
from .fold import folded
from .objectives import CLASS, Objective, diversity
from .param import FourierImage, grey
from .transforms import Robustness, resample

LR = 0.05  # Lucid's Adam learning rate
DIVERSITY_WEIGHT = 100.0  # Lucid's weight of the diversity term
# Images per forward/backward pass on the CPU. A step's images go through the model this many at a time (their
# gradients gathered before Adam's step, so the result does not change): measured on efficientnet-lite0
# _blocks.10 at 224 px, 2 cores, a pass costs 0.099 s per image at 40, 0.026 at 8 (the activations of 40 images
# do not stay in the caches); 4 and 8 were equal, 16 worse.
CPU_PASS = 8

Chunk = Callable[[list[int], torch.Tensor], None]  # (indices into the result, their images (n, 3, S, S))


@dataclass(frozen=True)
class FeatureVis:
    """The pictures found: ``images`` (N, 3, size, size) float RGB in [0, 1] on the CPU (grey models: the grey
    image in all three), image i for target ``targets[i]`` (a channel, or a class); ``objectives`` (N, steps) the
    objective each image reached per step, as the model saw it under that step's transforms (NaN for steps not
    run); ``steps_done`` (N,) how many steps each image had when the run ended; ``cancelled`` when cancel stopped it."""

    images: torch.Tensor
    targets: tuple[int, ...]
    objectives: torch.Tensor
    steps_done: torch.Tensor
    cancelled: bool
    layer: str | None
    objective: Objective
    steps: int
    size: int
    seed: int

    @property
    def complete(self) -> torch.Tensor:
        """Return (N,) bool: which images ran every step."""
        return self.steps_done == self.steps


@contextlib.contextmanager
def frozen(net: nn.Module, channels_last: bool = False):
    """Run the block with every parameter's ``requires_grad`` off and every module in eval mode; restore both
    after, so the loaded model is as it was (and no parameter gathers a gradient).

    With ``channels_last``, 4-D parameters and buffers are held in channels-last memory during the block (the
    same values; oneDNN's convolutions run 1.3 to 1.7 times faster so, measured on efficientnet-lite0) and
    given back their own tensors after."""
    flags = [(p, p.requires_grad) for p in net.parameters()]
    modes = [(m, m.training) for m in net.modules()]
    tensors = [t for t in (*net.parameters(), *net.buffers()) if t.dim() == 4] if channels_last else []
    datas = [t.data for t in tensors]
    for p, _ in flags:
        p.requires_grad_(False)
    net.eval()
    try:
        for t, d in zip(tensors, datas):
            t.data = d.contiguous(memory_format=torch.channels_last)
        yield
    finally:
        for t, d in zip(tensors, datas):
            t.data = d
        for p, flag in flags:
            p.requires_grad_(flag)
        for m, mode in modes:
            m.training = mode


def image_seed(seed: int, target: int, copy: int) -> int:
    """Return the seed of one image's start and transforms: from the run's seed, its target and which of the
    target's diversity copies it is, so that an image does not depend on the batch it is computed in."""
    return (seed * 1_000_003 + target * 1_009 + copy) % (2 ** 63)


def visualise(net: nn.Module, preprocessing: Preprocessing, layer: str | None, targets: list[int],
              objective: Objective = Objective(), steps: int = 256, size: int = 128, seed: int = 0,
              diversity_copies: int = 1, diversity_weight: float = DIVERSITY_WEIGHT, lr: float = LR,
              robustness: Robustness = Robustness(), batch: int | None = None, progress: Progress | None = None,
              cancel: Cancel | None = None, on_chunk: Chunk | None = None, fast: bool = True) -> FeatureVis:
    """Return the FeatureVis of ``targets`` (channels of ``layer``, or classes for a class objective), each with
    ``diversity_copies`` images pushed apart by the diversity term (Gram matrices of ``layer``).

    Images go through the model ``batch`` at a time (default: all at once); ``on_chunk`` hears each finished
    batch. ``progress(done, total)`` counts steps over all batches; ``cancel()`` returning True ends the run at
    that step with what was found so far. Runs on the network's device; the network is left as it was.

    On the CPU a step's images go through the model :data:`CPU_PASS` at a time (the pictures bit for bit those of
    one pass). ``fast`` folds each batch norm into the convolution before it (:mod:`.fold`) and, on the CPU, holds
    the model in channels-last memory: the same objective of a picture to float rounding (within 5e-5 relative on efficientnet-lite0, measured), but as Adam normalises tiny gradients, the pictures after many steps are other
    draws of the same optimum, not the same bits (tests/engine/test_featvis.py). The model always runs only up to
    ``layer`` (for a channel or neuron objective)."""
    if steps < 0 or size < 8 or diversity_copies < 1 or lr <= 0 or (batch is not None and batch < 1):
        raise DeconvvizError("steps must be >= 0, size >= 8, --diversity >= 1, the learning rate > 0 and the "
                             "batch >= 1")
    if not targets:
        raise DeconvvizError("no channels to visualise")
    if objective.kind != CLASS and layer is None:
        raise DeconvvizError(f"a {objective.kind} objective needs a layer")
    if diversity_copies > 1 and layer is None:
        raise DeconvvizError("the diversity term needs a layer (its Gram matrices)")
    device = next(net.parameters()).device
    expanded = [(t, k) for t in targets for k in range(diversity_copies)]
    n = len(expanded)
    per = n if batch is None else max(diversity_copies, batch - batch % diversity_copies)
    chunks = [list(range(i, min(n, i + per))) for i in range(0, n, per)]
    images = torch.full((n, 3, size, size), 0.5)
    history = torch.full((n, steps), math.nan)
    done = torch.zeros(n, dtype=torch.long)
    cancelled = False
    cpu = device.type == "cpu"
    cpu_fast = fast and cpu
    passes = max(diversity_copies, CPU_PASS - CPU_PASS % diversity_copies) if cpu else None
    with kept_heap() if cpu else contextlib.nullcontext(), frozen(net, channels_last=cpu_fast), torch.enable_grad(), \
            _folded(net, layer if objective.kind != CLASS else None, preprocessing, device, cpu_fast, fast):
        for c, chunk in enumerate(chunks):
            pics, cancelled = _optimise(net, preprocessing, layer, [expanded[i] for i in chunk], objective, steps,
                                        size, seed, diversity_copies, diversity_weight, lr, robustness, device,
                                        history, done, chunk, lambda s, c=c: report(progress, c * steps + s,
                                                                                    len(chunks) * steps), cancel,
                                        passes, cpu_fast)
            images[chunk] = pics
            if on_chunk is not None and not cancelled:
                on_chunk(chunk, pics)
            if cancelled:
                break
    return FeatureVis(images, tuple(t for t, _ in expanded), history, done, cancelled, layer, objective, steps,
                      size, seed)


def _optimise(net, preprocessing, layer, items, objective, steps, size, seed, copies, weight, lr, robustness,
              device, history, done, rows, progress, cancel, passes=None,
              channels_last=False) -> tuple[torch.Tensor, bool]:
    """Optimise the images of ``items`` ((target, copy) pairs); return (images (n, 3, S, S) on the CPU, cancelled).

    ``passes``: the images go through the model that many at a time (None: all at once), their gradients
    gathered into one Adam step."""
    channels = preprocessing.channels
    if channels not in (1, 3):
        raise DeconvvizError(f"feature visualisation needs an RGB or grey model, not {channels} input channels")
    gens = [torch.Generator().manual_seed(image_seed(seed, t, k)) for t, k in items]
    image = FourierImage(gens, size, channels, device=device)
    mean = torch.tensor(preprocessing.mean, device=device).view(1, -1, 1, 1)
    std = torch.tensor(preprocessing.std, device=device).view(1, -1, 1, 1)
    targets = torch.tensor([t for t, _ in items], device=device)
    optimiser = torch.optim.Adam([image.param], lr=lr)
    cancelled = False
    for step in range(steps):
        if cancel is not None and cancel():
            cancelled = True
            break
        thetas = robustness.thetas(gens, size)
        optimiser.zero_grad(set_to_none=True)
        if passes is None or passes >= len(items):
            values = _pass(net, image.pixels(), thetas, preprocessing.size, mean, std, layer, objective, targets,
                           copies, weight, channels_last)
        else:
            pixels = image.pixels()
            leaf = pixels.detach().requires_grad_(True)
            values = torch.cat([_pass(net, leaf[i:i + passes], thetas[i:i + passes], preprocessing.size, mean, std,
                                      layer, objective, targets[i:i + passes], copies, weight, channels_last)
                                for i in range(0, len(items), passes)])
            pixels.backward(leaf.grad)
        optimiser.step()
        history[rows, step] = values.detach().cpu()
        done[rows] = step + 1
        progress(step + 1)
    with torch.no_grad():
        pics = image.pixels().cpu()
    return (pics.expand(-1, 3, -1, -1).clone() if pics.shape[1] == 1 else pics), cancelled


def _folded(net, layer, preprocessing, device, channels_last, fast):
    """Return the context folding ``net``'s batch norms into their convolutions (``fast``), else a no-op."""
    if not fast:
        return contextlib.nullcontext(0)
    g = torch.Generator().manual_seed(0)
    example = torch.rand(1, preprocessing.channels, *preprocessing.size, generator=g).to(device)
    example = (example - torch.tensor(preprocessing.mean, device=device).view(1, -1, 1, 1)) / \
        torch.tensor(preprocessing.std, device=device).view(1, -1, 1, 1)
    if channels_last:
        example = example.contiguous(memory_format=torch.channels_last)
    return folded(net, layer, example, fused=channels_last)


def _pass(net, pixels, thetas, out, mean, std, layer, objective, targets, copies, weight,
          channels_last) -> torch.Tensor:
    """Run ``pixels`` (B, C, S, S) through their transforms ``thetas`` and the model, back-propagate the negated
    objectives' sum and return the objectives (B,), detached."""
    seen = (resample(pixels, thetas, out) - mean) / std
    if channels_last:
        seen = seen.contiguous(memory_format=torch.channels_last)
    values = _objective(net, seen, layer, objective, targets, copies, weight)
    (-values.sum()).backward()
    return values.detach()


def _objective(net, x, layer, objective, targets, copies, weight) -> torch.Tensor:
    """Return (B,) each image's objective: its target's value, less ``weight`` times its diversity similarity."""
    maps = logits = None
    if objective.kind == CLASS:
        if copies > 1:
            with capture(net, layer, stop=False) as box:
                logits = net(x)
            maps = _maps(box, layer)
        else:
            logits = net(x)
        if logits.dim() != 2:
            raise DeconvvizError(f"the model's output has shape {tuple(logits.shape[1:])}, not class scores")
        _check(targets, logits.shape[1], "class", "the model's classes")
    else:
        with capture(net, layer) as box:
            run_until(net, x, box, layer)
        maps = _maps(box, layer)
        _check(targets, maps.shape[1], "channel", f"layer {layer!r}")
    values = objective.values(maps, logits, targets)
    if copies > 1:
        values = values - weight * diversity(maps, copies)
    return values


def _maps(box: dict, layer: str) -> torch.Tensor:
    """Return the captured output as maps (B, C, H, W): by its layout; a flat vector (B, K) as K maps of 1 x 1."""
    out, layout = box["output"], box["layout"]
    if layout.spatial:
        return layout.maps(out)
    if out.dim() == 2:
        return out[:, :, None, None]
    raise no_maps_error(layer, tuple(out.shape[1:]), "feature visualisation")


def _check(targets: torch.Tensor, count: int, what: str, where: str) -> None:
    bad = [int(t) for t in targets if not 0 <= int(t) < count]
    if bad:
        raise DeconvvizError(f"{what} {bad[0]} out of range for {where}: valid 0..{count - 1}")


def input_images(pixels: torch.Tensor, preprocessing: Preprocessing) -> torch.Tensor:
    """Return pictures (N, 3, S, S) in [0, 1] as the model's normalised input at its input size (grey for a grey
    model): what the model sees of them, untransformed."""
    x = pixels if preprocessing.channels == 3 else grey(pixels)
    x = resample(x, torch.eye(2, 3).expand(x.shape[0], 2, 3), preprocessing.size)
    mean = torch.tensor(preprocessing.mean).view(1, -1, 1, 1).to(x)
    std = torch.tensor(preprocessing.std).view(1, -1, 1, 1).to(x)
    return (x - mean) / std
