"""``deconvviz featvis``: feature visualisation of a layer's channels (or of classes), a grid of pictures; with
``--all-layers`` one grid per layer, each picture also cached where the app's grid looks for it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ..errors import DeconvvizError
from ..session.recipes import FeatvisRecipe as RECIPE


def run(r: RECIPE) -> int:
    if r.all_layers:
        return run_all_layers(r)
    model = r.load_model()
    result = _write(r, model, "steps")
    first, last = result.objectives[:, 0], result.objectives[:, int(result.steps_done.max()) - 1]
    print(f"{len(result.targets)} pictures, objective {float(first.mean()):.4g} -> {float(last.mean()):.4g} "
          f"(mean over pictures); wrote {r.out}" + (f" and {r.npy}" if r.npy else ""))
    return 0


def run_all_layers(r: RECIPE) -> int:
    """Write ``LAYER.png`` (and ``LAYER.npy``) in the folders ``r.out`` (``r.npy``) for every layer the grid
    shows, its channels ``r.channels`` (default all); the channel-mean pictures go into the app's cache too."""
    from ..session import featvis_cache as cache
    from ..session.controller import channel_count
    from ..session.featvis_tiles import FeatvisParams

    if r.objective != "channel" or r.diversity != 1 or r.layer is not None:
        raise DeconvvizError("--all-layers takes --objective channel, no --layer and no --diversity")
    model = r.load_model()
    rows = [(row.name, channel_count(row)) for row in model.layers() if channel_count(row)]
    digest = cache.weights_hash(model.net)
    key_params = FeatvisParams(r.steps, r.size, r.seed).key_params()
    for folder in (r.out, r.npy):
        if folder is not None:
            Path(folder).mkdir(parents=True, exist_ok=True)
    for i, (layer, count) in enumerate(rows, 1):
        channels = tuple(c for c in (r.channels or range(count)) if c < count)
        if not channels:
            continue
        name = layer.replace("/", "_")
        one = dataclasses.replace(r, layer=layer, channels=channels, all_layers=False,
                                  out=str(Path(r.out) / f"{name}.png"),
                                  npy=str(Path(r.npy) / f"{name}.npy") if r.npy else None)
        result = _write(one, model, f"[{i}/{len(rows)}] {layer} steps")
        for channel, picture in zip(channels, result.images):
            cache.store(cache.picture_key(digest, layer, channel, **key_params), picture)
        print(f"[{i}/{len(rows)}] {layer}: {len(channels)} pictures; wrote {one.out}")
    print(f"{len(rows)} layers; the pictures are cached for the app in {cache.cache_dir()}")
    return 0


def _write(r: RECIPE, model, label: str):
    """Compute ``r``'s pictures, write its PNG (and .npy); return the FeatureVis."""
    from ..figures.png import save_panel
    from ..npy import save_npy
    from ._args import progress_printer

    result = r.compute(model, progress_printer(label))
    save_panel(r.panel(model, result, r.shell()), r.out)
    if r.npy:
        save_npy(r.npy, result.images.numpy())
    return result
