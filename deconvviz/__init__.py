"""deconvviz: look inside a trained convolutional network the way Zeiler & Fergus (2014) did.

The public Python API::

    m = deconvviz.load_model("efficientnet-lite0")
    x = m.preprocess(deconvviz.load_image("photo.jpg"))
    p = deconvviz.project(m, x, "_blocks.10", channel=3)            # strongest activation of channel 3
    o = deconvviz.occlusion_map(m, x, patch=32, stride=8)             # o.prob: p(top class) per position
"""

from __future__ import annotations

from .api import occlusion_map, project
from .data.images import load_image
from .errors import DeconvvizError
from .models import LoadedModel, list_models, load_model

__all__ = ["DeconvvizError", "LoadedModel", "list_models", "load_image", "load_model", "occlusion_map", "project"]
__version__ = "0.1.0"
