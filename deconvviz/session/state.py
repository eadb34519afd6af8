"""The inspection state as one plain model that the main window and every analysis view observe and write.

:class:`Session` holds what the user chose (``model``, ``input``, ``layer``, ``channel``, ``target``,
``square``, ``mode``), what the worker has loaded for it (``loaded``: the model's facts, ``image``: the
input run through it) and, while a video plays, its newest frame (``live``). Setting a field to a value
equal to the current one does nothing; a real change emits ``session.events.<field>`` with the new value::

    session.events.channel.connect(lambda channel: ...)
    session.channel = 7                      # emits once
    with session.events.batch(): ...         # one emit per changed field, at the end
    with session.events.blocked(): ...       # none

Choosing and loading are two steps because a load can fail: the main window answers a new ``model`` or
``input`` by asking the worker, and sets ``loaded``/``image`` once the worker has them (on failure it puts
the choice back). Views compute on ``loaded`` and ``image``, which always belong together.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..paths import bundled
from .events import Events, _same


@dataclass(frozen=True)
class ModelChoice:
    """A model to inspect: a registry name or ``file.py:factory``, its weights file (None: its own), the device;
    ``download``: the user agreed to download named torchvision weights missing from the cache."""

    name: str
    weights: str | None = None
    device: str = "cpu"
    download: bool = False


@dataclass(frozen=True)
class ImageInput:
    """An image file as the input."""

    path: str


@dataclass(frozen=True)
class FrameInput:
    """A video frame as the input: the video file (or the camera's name), the frame's 0-based index and time."""

    video: str
    index: int
    time_s: float

    def label(self) -> str:
        """Return the frame for captions and titles: "clip.mp4 frame 12 at 0.80 s"."""
        return f"{Path(self.video).name} frame {self.index} at {self.time_s:.2f} s"

    def rereadable(self) -> bool:
        """Return whether a command can read this frame again: a video file's frame can, a camera's cannot."""
        return bundled(self.video).is_file()


@dataclass(frozen=True, eq=False)
class LiveFrame:
    """The newest frame of a playing video or camera: which one (``frame``) and its own pixels (H, W, 3) uint8.
    It never becomes the input (the paused frame does); views that follow a playing video read it. Two
    LiveFrames are equal only when they are the same object: each delivered frame is news."""

    frame: FrameInput
    pixels: np.ndarray

    def picture(self):
        """Return the frame as the PIL image the model's preprocessing takes."""
        from PIL import Image

        return Image.fromarray(np.ascontiguousarray(self.pixels), "RGB")


@dataclass(frozen=True)
class Square:
    """The grey occluder: its top-left corner (row, col) and side, in the model's input pixels."""

    top: int
    left: int
    size: int


@dataclass(frozen=True, eq=False)
class ModelFacts:
    """What the worker loaded: name and weights as asked, weights text, device text, layer rows (LayerRecord),
    class names, input size (h, w) and the first convolution's layer name (or None)."""

    name: str
    weights: str | None
    weights_text: str
    device: str
    layers: tuple
    class_names: tuple
    input_size: tuple[int, int]
    first_conv: str | None
    random_weights: bool = False  # the title, status bar and captions say "random weights"

    def class_name(self, index: int) -> str:
        """Return class ``index``'s name ("class N" past the names)."""
        return self.class_names[index] if 0 <= index < len(self.class_names) else f"class {index}"


@dataclass(frozen=True, eq=False)
class ImageFacts:
    """The input run through the loaded model: its path, model-input pixels (H, W, 3) uint8, class
    probabilities (num_classes,), the file's own size (width, height) and the occluder's RGB fill; for a video
    frame also ``frame`` (which one) and ``source`` (its own pixels (H, W, 3) uint8, before preprocessing)."""

    path: str
    pixels: np.ndarray
    probs: np.ndarray
    original_size: tuple[int, int]
    fill: tuple[int, int, int]
    frame: FrameInput | None = None
    source: np.ndarray | None = None

    @property
    def top_class(self) -> int:
        """Return the most probable class of the unoccluded input."""
        return int(np.argmax(self.probs))

    @property
    def input(self) -> "ImageInput | FrameInput":
        """Return the input these facts belong to."""
        return self.frame if self.frame is not None else ImageInput(self.path)

    @property
    def name(self) -> str:
        """Return the input for captions: the file's name, or the frame's label."""
        return self.frame.label() if self.frame is not None else Path(self.path).name

    def picture(self):
        """Return the input as the PIL image the model's preprocessing takes (a frame: its own pixels)."""
        if self.frame is not None:
            from PIL import Image

            return Image.fromarray(np.asarray(self.source), "RGB")
        from ..data.images import load_image

        return load_image(self.path)

    def as_picture(self):
        """Return the input as a :class:`~deconvviz.data.images.Picture`: :meth:`picture` named as :attr:`name`.
        Every analysis view reads the session's current input (an image file or a paused frame) through this."""
        from ..data.images import Picture

        return Picture(self.name, self.picture())

    def input_options(self) -> dict:
        """Return the input as a recipe's input options: ``image`` (the image file, or the video) and ``frame``
        (the frame's index; None for an image file)."""
        return {"image": self.path, "frame": self.frame.index if self.frame is not None else None}

    def rereadable(self) -> bool:
        """Return whether a command can read this input again (an image file or a video file's frame; not a
        camera's frame)."""
        return self.frame is None or self.frame.rereadable()


FIELDS: dict[str, Any] = {  # name -> initial value
    "model": None,     # ModelChoice | None: what the user chose
    "input": None,     # ImageInput | FrameInput | None
    "loaded": None,    # ModelFacts | None: what the worker holds for ``model``
    "image": None,     # ImageFacts | None: ``input`` run through ``loaded``
    "layer": None,     # str | None: a layer name of ``loaded``
    "channel": None,   # int | None: a channel of ``layer``
    "target": 0,       # int: the class whose probability the occlusion pane follows
    "follow_top": False,  # bool: while a video plays, the target follows each frame's top class
    "square": None,    # Square | None: the occluder, when it is on the image
    "mode": "deconvnet",  # the projection rule: "deconvnet", "guided" or "backprop"
    "status": "",      # str: the newest message for the user (errors included)
    "live": None,      # LiveFrame | None: the newest frame while a video plays (None when paused)
}


class Session:
    """The inspection state; one attribute per name in :data:`FIELDS`, each with an event in ``events``."""

    def __init__(self, **values) -> None:
        unknown = set(values) - set(FIELDS)
        if unknown:
            raise TypeError(f"unknown session fields {sorted(unknown)}; fields: {', '.join(FIELDS)}")
        object.__setattr__(self, "_values", {**FIELDS, **values})
        object.__setattr__(self, "events", Events(FIELDS))

    def __getattr__(self, name: str):
        values = self.__dict__["_values"]
        if name in values:
            return values[name]
        raise AttributeError(f"Session has no field {name!r}; fields: {', '.join(FIELDS)}")

    def __setattr__(self, name: str, value) -> None:
        if name not in FIELDS:
            raise AttributeError(f"Session has no field {name!r}; fields: {', '.join(FIELDS)}")
        before = self._values[name]
        if _same(before, value):
            return
        self._values[name] = value
        self.events.emit(name, lambda: self._values[name], before)

    def update(self, **values) -> None:
        """Set several fields at once; each changed one emits once, after all are set."""
        with self.events.batch():
            for name, value in values.items():
                setattr(self, name, value)

    def snapshot(self) -> dict:
        """Return the fields and their current values (a copy)."""
        return dict(self._values)

    # -- convenience reads ----------------------------------------------------------------------------
    def model_args(self) -> tuple[str, str | None]:
        """Return the loaded model's (name, weights), ("", None) before any model loaded."""
        return (self.loaded.name, self.loaded.weights) if self.loaded is not None else ("", None)

    def device(self) -> str:
        """Return the torch device the models run on ("cpu" before a model was chosen)."""
        return self.model.device if self.model is not None else "cpu"
