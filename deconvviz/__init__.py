"""deconvviz: look inside a trained convolutional network the way Zeiler & Fergus (2014) did.

The public Python API::

    m = deconvviz.load_model("efficientnet-lite0")
    x = m.preprocess(deconvviz.load_image("photo.jpg"))
    p = deconvviz.project(m, x, "_blocks.10", channel=3)            # strongest activation of channel 3
    ix = deconvviz.topk_index(m, "photos/", "_blocks.10", k=9)      # Fig. 2's index over a data set
    r = deconvviz.invariance_curves(m, ["a.png"], "rotate")         # Fig. 5's curves
    o = deconvviz.occlusion_map(m, x, patch=32, stride=8)           # o.prob: p(top class) per position
    s = deconvviz.sanity_check(m, x, test="cascading")              # Adebayo et al.'s randomisation test
    f = deconvviz.faithfulness_curves(m, x)                         # deletion/insertion curves
    g = deconvviz.attribution(m, x, "gradcam", target="espresso")   # (H, W) map; also integrated-gradients, ...
    v = deconvviz.feature_visualisation(m, "_blocks.10", range(8))  # v.images: (8, 3, 128, 128) RGB in [0, 1]
    a = deconvviz.FrameAnalyser(m, "_blocks.4", 7)                  # per video frame: probs, maps, projection
    for frame in deconvviz.open_video("clip.mp4").frames(): a(frame.image())
"""

from __future__ import annotations

from .analyses.actmax import activation_maximisation, class_saliency
from .analyses.correspondence import correspondence_table
from .analyses.frames import FrameAnalyser
from .analyses.evolution import feature_evolution, history_snapshots
from .analyses.faithfulness import faithfulness_curves
from .analyses.featvis import feature_visualisation
from .analyses.invariance import invariance_curves
from .analyses.sanity import sanity_check
from .analyses.topk import topk_index
from .api import attribution, occlusion_map, project
from .data.datasets import bundled_subset, open_dataset
from .engine.actmax import Target
from .engine.topk import load_index as load_topk_index
from .figures.filters import first_conv as first_layer_filters
from .data.images import load_image
from .data.video import open_video
from .errors import DeconvvizError
from .models import LoadedModel, list_models, load_model

__all__ = ["attribution", "DeconvvizError", "FrameAnalyser", "LoadedModel", "list_models", "load_image", "load_model", "occlusion_map", "project",
           "Target", "activation_maximisation", "bundled_subset", "class_saliency", "correspondence_table",
           "feature_evolution", "feature_visualisation", "first_layer_filters", "history_snapshots", "invariance_curves", "load_topk_index",
           "open_dataset", "open_video", "topk_index", "sanity_check", "faithfulness_curves"]
__version__ = "0.1.0"
