"""Correspondence (Table 1) for a LoadedModel: image files, a parts file, and the default layers."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from ..data.images import Picture, as_picture
from ..engine.correspondence import CorrespondenceRow, correspondence
from ..engine.landmarks import last_conv_block, penultimate
from ..engine.receptive_field import Box
from ..errors import DeconvvizError
from ..models import LoadedModel

PARTS_HELP = ('JSON: {"image file name": {"part name": [top, left, bottom, right], ...}, ...}, boxes in the '
              "model's input pixels (after resizing and centre-cropping), bottom/right exclusive; every image "
              "names the same parts")


def read_parts(path: str | Path, images: list[str | Path], height: int, width: int) -> dict[str, list[Box]]:
    """Return part name -> one Box per image (in ``images`` order) from a parts file; DeconvvizError when the
    file is unreadable, misses an image or a part, or a box is empty or outside the height x width input."""
    path = Path(path)
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DeconvvizError(f"parts file not found: {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DeconvvizError(f"{path.name} is not a readable JSON parts file ({exc}); expected {PARTS_HELP}") from None
    if not isinstance(spec, dict):
        raise DeconvvizError(f"{path.name}: expected {PARTS_HELP}")
    per_image = []
    for image in images:
        key = next((k for k in (str(image), Path(image).name) if k in spec), None)
        if key is None or not isinstance(spec[key], dict) or not spec[key]:
            raise DeconvvizError(f"{path.name} has no parts for image {Path(image).name}; expected {PARTS_HELP}")
        per_image.append((Path(image).name, spec[key]))
    names = list(per_image[0][1])
    parts: dict[str, list[Box]] = {name: [] for name in names}
    for image, boxes in per_image:
        if set(boxes) != set(names):
            raise DeconvvizError(f"{path.name}: image {image} names parts {sorted(boxes)}, but "
                                 f"{per_image[0][0]} names {sorted(names)}; every image must name the same parts")
        for name in names:
            parts[name].append(_box(boxes[name], f"{path.name}: {image} {name!r}", height, width))
    return parts


def _box(value, where: str, height: int, width: int) -> Box:
    if not (isinstance(value, list) and len(value) == 4 and all(isinstance(v, int) for v in value)):
        raise DeconvvizError(f"{where}: a box is [top, left, bottom, right] (four integers), got {value!r}")
    top, left, bottom, right = value
    if not (0 <= top < bottom <= height and 0 <= left < right <= width):
        raise DeconvvizError(f"{where}: box {value} is empty or outside the {height}x{width} input "
                             f"(valid: 0 <= top < bottom <= {height}, 0 <= left < right <= {width})")
    return Box(top, left, bottom, right)


def default_correspondence_layers(model: LoadedModel) -> list[str]:
    """Return the paper's layers 5 and 7 for the model: its last conv block and its penultimate layer."""
    records = model.layers()
    return [last_conv_block(model.net, records), penultimate(model.net, records)]


def load_inputs(model: LoadedModel, images: list[str | Path | Picture]) -> torch.Tensor:
    """Return the images as one batch of model inputs (n, C, H, W)."""
    return torch.cat([model.preprocess(as_picture(p).image) for p in images])


def correspondence_table(model: LoadedModel, images: list[str | Path | Picture], parts: str | Path | dict[str, list[Box]],
                         layers: list[str] | None = None, random_draws: int = 0,
                         seed: int = 0) -> list[CorrespondenceRow]:
    """Return Table 1's rows for the image files (or Pictures, with ``parts`` as part -> boxes) and their parts
    (a parts file or part -> boxes)."""
    if len(images) < 2:
        raise DeconvvizError("correspondence compares images: give at least two")
    if random_draws < 0:
        raise DeconvvizError(f"--random must be 0 or more, got {random_draws}")
    height, width = model.preprocessing.size
    if not isinstance(parts, dict):
        parts = read_parts(parts, images, height, width)
    x = load_inputs(model, images)
    return correspondence(model.net, x, parts, layers or default_correspondence_layers(model), random_draws, seed)


def correspondence_rows(rows: list[CorrespondenceRow]) -> tuple[list[str], list[list]]:
    """Return (header, rows) for a CSV or a printed table."""
    header = ["part", "layer", "mean feature sign change", "std over draws", "Delta", "draws"]
    return header, [[r.part, r.layer, r.value, r.std, r.delta, r.draws] for r in rows]
