"""Feature visualisation (Olah, Mordvintsev & Schubert, Distill 2017; Lucid): the picture each channel or class
responds to most, optimised in a decorrelated Fourier parametrisation under robustness transforms.

:mod:`.param` the image's parametrisation, :mod:`.transforms` the robustness transforms, :mod:`.objectives`
what is maximised, :mod:`.run` the batched optimisation.
"""

from .objectives import CHANNEL, CLASS, KINDS, NEURON, Objective, diversity
from .param import FourierImage, grey
from .run import DIVERSITY_WEIGHT, LR, FeatureVis, frozen, input_images, visualise
from .transforms import IDENTITY, Robustness, resample

__all__ = ["CHANNEL", "CLASS", "DIVERSITY_WEIGHT", "IDENTITY", "KINDS", "LR", "NEURON", "FeatureVis", "FourierImage",
           "Objective", "Robustness", "diversity", "frozen", "grey", "input_images", "resample", "visualise"]
