"""``deconvviz maps``: a layer's feature maps for an image (or the first layer's filters) as one PNG."""

from __future__ import annotations

from ..session.recipes import MapsRecipe as RECIPE


def run(r: RECIPE) -> int:
    from ..engine.probe import probe
    from ..errors import DeconvvizError
    from ..figures.feature_maps import layer_maps, layer_panel
    from ..figures.png import save_panel
    from ..session.pictures import frame_panel

    model = r.load_model()
    picture, frame = r.read_input()
    x = model.preprocess(picture.image)
    result = probe(model.net, x, keep=[r.layer])
    if r.layer not in result.activations:
        valid = ", ".join(rec.name for rec in result.records[:12])
        raise DeconvvizError(f"unknown layer {r.layer!r} (valid: {valid}, ...; `deconvviz layers` lists them all)")
    maps = layer_maps(result.activations[r.layer], result.record(r.layer).layout)
    panel = layer_panel(model, maps, result.records, r.layer, r.image, r.sort, r.filters, r.shell())
    save_panel(frame_panel(panel, frame), r.out)
    print(f"wrote {r.out}")
    return 0
