"""deconvviz: look inside a trained convolutional network the way Zeiler & Fergus (2014) did.

The public Python API::

    m = deconvviz.load_model("efficientnet-lite0")
    x = m.preprocess(deconvviz.load_image("photo.jpg"))
    p = deconvviz.project(m, x, "_blocks.10", channel=3)            # strongest activation of channel 3
"""

from __future__ import annotations

from .api import project
from .data.datasets import bundled_subset, open_dataset
from .data.images import load_image
from .errors import DeconvvizError
from .models import LoadedModel, list_models, load_model
from .train.history import list_snapshots

__all__ = ["DeconvvizError", "LoadedModel", "bundled_subset", "list_models", "list_snapshots", "load_image", "load_model",
           "open_dataset", "project"]
__version__ = "0.1.0"
