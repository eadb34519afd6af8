"""The attribution view's job without Qt: one method's map of the session's input (an image file, a paused
frame or a playing frame), on the runner's model copy, as ``deconvviz attribute`` computes and draws it.

:func:`attribute_input` runs the recipe's own ``compute`` and ``panel`` (so an export is the PNG its command
writes) inside :func:`passes_checked`, which checks ``cancel()`` before every forward pass of the network:
integrated gradients and SmoothGrad run tens of passes, and stop at the next one. :func:`redraw` draws the
same map at another opacity without the model (the app's slider).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from ..engine._control import check, report
from ..engine.methods import METHODS, NAMES, get
from ..figures.attribution import overlay_panel
from ..figures.png import Panel
from .pictures import frame_panel
from .recipes import AttributeRecipe, describe_target
from .state import FrameInput

SMOOTH_BASES = tuple(n for n in NAMES if n != "smoothgrad")  # SmoothGrad averages any other method


def reads_layer(method: str, base: str | None = None) -> bool:
    """Return whether ``method`` reads a layer (SmoothGrad: whether its ``base`` does)."""
    if method == "smoothgrad":
        return get(base or METHODS["smoothgrad"].options["base"]).layer
    return get(method).layer


def follows_video(method: str) -> bool:
    """Return whether ``method`` is cheap enough to follow a playing video (one forward, one or two backward
    passes per frame: the registry's ``cheap``)."""
    return get(method).cheap


@contextlib.contextmanager
def passes_checked(net, progress: Callable[[int, int], None] | None = None,
                   cancel: Callable[[], bool] | None = None, total: int = 0):
    """Within the block, every forward pass of ``net`` first checks ``cancel()`` (engine Cancelled when it
    says so) and reports ``progress(passes so far, total)``; the hook is removed on leaving, error or not."""
    count = [0]

    def hook(_module, _inputs):
        check(cancel)
        report(progress, min(count[0], total) if total else count[0], total)
        count[0] += 1

    handle = net.register_forward_pre_hook(hook)
    try:
        yield count
    finally:
        handle.remove()


def expected_passes(recipe: AttributeRecipe) -> int:
    """Return about how many forward passes the recipe's method runs (0: a few, not worth a bar)."""
    options = {**get(recipe.method).options, **recipe.options_given()}
    if recipe.method == "integrated-gradients":
        return 2 + -(-int(options["steps"]) // int(options["batch"]))
    if recipe.method == "smoothgrad":
        return 2 + -(-int(options["samples"]) // int(options["batch"])) * (2 if options["base"] == "guided-gradcam" else 1)
    return 0


@dataclass(frozen=True, eq=False)
class Attributed:
    """A computed map with what draws it again: the engine's ``result`` (map, resolved target and layer), the
    input's model ``pixels`` (H, W, 3) uint8, the ``panel`` drawn at the recipe's opacity, the ``recipe``
    (None: a camera's frame, which no command reads again), the video ``frame`` (None: an image file), the
    model's (label, name, weights) and ``source``: the session's input it was computed for (an ImageFacts
    or a LiveFrame)."""

    result: object
    pixels: np.ndarray
    panel: Panel
    recipe: AttributeRecipe
    rereadable: bool
    frame: FrameInput | None
    model: tuple[str, str, str]
    target: str
    source: object

    @property
    def map(self) -> np.ndarray:
        """Return the (H, W) float32 map."""
        return self.result.map


def attribute_input(model, recipe: AttributeRecipe, picture, frame: FrameInput | None, rereadable: bool,
                    source=None, progress=None, cancel=None) -> Attributed:
    """Return the Attributed of ``recipe`` for ``picture`` (the input as a PIL image; ``frame`` names it when
    it is a video frame), cancellable between forward passes."""
    x = model.preprocess(picture)
    with passes_checked(model.net, progress, cancel, expected_passes(recipe)):
        result = recipe.compute(model, x)
    command = recipe.shell() if rereadable else ""
    panel = recipe.panel(model, x, result, frame, command)
    return Attributed(result, model.preprocessing.to_pixels(x), panel, recipe, rereadable, frame,
                      (model.label, model.name, model.weights), describe_target(model, result.target), source)


def redraw(shown: Attributed, opacity: float) -> Panel:
    """Return ``shown``'s panel drawn at ``opacity`` (0..1), with the command that writes it."""
    recipe = replace(shown.recipe, opacity=float(opacity))
    command = recipe.shell() if shown.rereadable else ""
    r = shown.result
    panel = overlay_panel(shown.pixels, r.map, r.method, shown.target, r.layer, shown.model, recipe.image, command,
                          recipe.opacity)
    return frame_panel(panel, shown.frame, command=bool(command))
