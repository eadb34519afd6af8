"""The channel grid's PNG export in its feature-vis view (Qt-free): the pictures the grid shows, in its order,
as ``deconvviz featvis`` draws them, with the command that computes them again."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .featvis_tiles import FeatvisParams


@dataclass(frozen=True)
class FeatvisShown:
    """What the grid's feature-vis view shows: ``layer``'s channels in the grid's ``order`` (its ``sort``), the
    ``pictures`` so far ((channel, RGB uint8 (S, S, 3)) pairs) and the ``params`` they are made with."""

    layer: str
    order: tuple[int, ...]
    pictures: tuple[tuple[int, np.ndarray], ...]
    params: FeatvisParams
    sort: str = "index"


def featvis_export_panel(model, shown: FeatvisShown, model_options: dict, out: str):
    """Return the Panel of ``shown``: the pictures in the grid's order (a channel without one yet: a light grey
    tile), captioned as ``deconvviz featvis``'s, with its regenerating command (``model_options``: the recipe's
    model, weights and device) writing ``out``; the facts say how many pictures were computed."""
    from ..figures.featvis import pictures_panel
    from .recipes import FeatvisRecipe

    p = shown.params
    have = dict(shown.pictures)
    recipe = FeatvisRecipe(**model_options, layer=shown.layer, channels=tuple(sorted(shown.order)), steps=p.steps,
                           size=p.size, seed=p.seed, out=out)
    missing = [c for c in shown.order if c not in have]
    count = f"{len(shown.order) - len(missing)} of {len(shown.order)} computed"
    caption = (f"{model.label} · {shown.layer} · feature vis (channel mean) · {p.steps} steps · {p.size} px"
               + (f" · {count}" if missing else "") + (f" · sorted by {shown.sort}" if shown.sort != "index" else ""))
    facts = {"model": model.name, "weights": model.weights, "layer": shown.layer,
             "channels": ",".join(map(str, shown.order)), "objective": "channel mean", "steps": str(p.steps),
             "size": str(p.size), "seed": str(p.seed), "pictures": count, "order": shown.sort,
             "command": recipe.shell()}
    return pictures_panel([have.get(c) for c in shown.order], [f"ch {c}" for c in shown.order], caption, facts)
