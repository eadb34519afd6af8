"""The Fig. 7 panel's pieces: the label map's colours and legend, the panel's layout and facts."""

import numpy as np
import torch

from deconvviz import load_model
from deconvviz.engine.deconv import project
from deconvviz.engine.occlusion import occlusion_map
from deconvviz.figures.occlusion import label_colours, occlusion_panel


def test_label_colours_most_frequent_first():
    labels = np.array([[3, 3, 3], [7, 7, 1]])
    rgb, shown = label_colours(labels, limit=2)
    assert [c for c, _ in shown] == [3, 7]
    assert shown[0][1] == 0.5
    assert (rgb[0, 0] != rgb[1, 0]).any()
    assert (rgb[1, 2] == [40, 40, 40]).all()  # beyond the limit: dark grey


def test_panel_layout():
    model = load_model("zf-fmnist")
    x = torch.randn(1, 1, 28, 28)
    r = occlusion_map(model.net, x, 6, 2, batch=200)
    panel = occlusion_panel(model, x, r, project(model.net, x, r.layer, r.channel), "x.png", "deconvviz ...")
    assert panel.pixels.shape[1] == 5 * 224 + 4 * 8 and panel.pixels.dtype == np.uint8
    assert panel.facts["layer"] == r.layer and panel.facts["method"] == r.method
    # (d) is p(target) through viridis: its darkest tile is where the map is lowest.
    assert len(np.unique(panel.pixels[30:254, 3 * 232:3 * 232 + 224].reshape(-1, 3), axis=0)) > 4
