"""One recipe per headless command: its options, declared once (see :mod:`.recipe` for the machinery).

``deconvviz COMMAND ...`` parses into the command's recipe and runs from it (``cli/COMMAND.py``); the app
builds the same recipes to write the command that regenerates what it exports. ``deconvviz train`` keeps its
own parser (:mod:`deconvviz.train.config`): its options already fill a dataclass, TrainConfig, and no
figure carries a train command.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..analyses.correspondence import PARTS_HELP
from ..analyses.faithfulness import DEFAULT_MAPS as FAITHFULNESS_DEFAULT
from ..analyses.faithfulness import MAPS as FAITHFULNESS_MAPS
from ..analyses.sanity import DEFAULT_METHODS as SANITY_DEFAULT
from ..analyses.sanity import ALL_METHODS as SANITY_METHODS
from ..engine.methods import NAMES as ATTRIBUTION_METHODS
from ..errors import DeconvvizError
from .recipe import Recipe, option
from .values import (format_float, format_floats, format_int_ranges, format_ints, format_position, parse_float_list,
                     parse_int_list, parse_position)

DATA_HELP = "data set: a folder of class folders, a folder of images, or an IDX images file"
LAYER_HELP = "layer name (see `deconvviz layers`)"


@dataclass(frozen=True, kw_only=True)
class ModelRecipe(Recipe):
    """The options of every command that loads a model: ``--model``, ``--weights``, ``--download``, ``--device``."""

    model: str = option(required=True, help="model name, torchvision:NAME or file.py:factory")
    weights: str | None = option(help="weights file (.safetensors, or a state_dict .pth/.pt); for torchvision:NAME "
                                      "also DEFAULT or a weights name (IMAGENET1K_V1, ...) from torchvision's cache")
    download: bool = option(False, switch=True, help="download named torchvision weights missing from "
                                                     "torchvision's cache (hash-checked, with a progress bar)")
    device: str = option("cpu", help="torch device (cpu, cuda, cuda:1, ...)")

    def load_model(self):
        """Return the LoadedModel these options name (DeconvvizError for a bad name or weights file)."""
        from ..models import load_model

        return load_model(self.model, self.weights, self.device, download=self.download)


FRAME_HELP = ("{what} names a video: use its frame N (0-based, as the `frame` column of `deconvviz video`'s "
              "CSV)")


@dataclass(frozen=True, kw_only=True)
class ImageInputRecipe(ModelRecipe):
    """The input of every command that takes one picture: ``--image FILE``, or ``--image VIDEO --frame N``."""

    image: str = option(required=True, help="image file (with --frame: a video file)")
    frame: int | None = option(parse=int, metavar="N", help=FRAME_HELP.format(what="--image"))

    def read_input(self):
        """Return (Picture, FrameInput or None): the picture these options name, and which video frame it is
        (DeconvvizError for a file that cannot be read or a frame the video lacks, naming the valid range)."""
        from .pictures import read_input

        return read_input(self.image, self.frame)


@dataclass(frozen=True, kw_only=True)
class ImagesInputRecipe(ModelRecipe):
    """The input of the commands that compare pictures: ``--images FILE ...``; with ``--frame N`` the first
    names a video, and its frame N is the picture."""

    images: tuple[str, ...] = option(required=True, many=True, help="image files (with --frame: the first is a "
                                                                    "video file)")
    frame: int | None = option(parse=int, metavar="N", help=FRAME_HELP.format(what="the first of --images"))

    def read_inputs(self) -> list:
        """Return the Pictures these options name, in order (the first a video frame with --frame)."""
        from ..data.images import as_picture
        from .pictures import read_input

        first = read_input(self.images[0], self.frame)[0] if self.frame is not None else self.images[0]
        return [as_picture(first)] + [as_picture(p) for p in self.images[1:]]


@dataclass(frozen=True, kw_only=True)
class LayersRecipe(ModelRecipe):
    command = "layers"
    summary = "print the model's layers: name, type, output shape, maps, parameters"


@dataclass(frozen=True, kw_only=True)
class ProjectRecipe(ImageInputRecipe):
    command = "project"
    summary = "deconvnet projection of an activation, a feature map or its top-k"

    layer: str = option(required=True, help=LAYER_HELP)
    channel: int = option(required=True, parse=int, help="channel (feature map) index, 0-based")
    position: tuple[int, int] | None = option(parse=parse_position, format=format_position, group="which",
                                              help="ROW,COL of the activation (default: the strongest)")
    map: bool = option(False, switch=True, group="which", help="project the whole feature map")
    top_k: int | None = option(parse=int, group="which", metavar="K",
                               help="project each of the K strongest activations")
    mode: str = option("deconvnet", choices=("deconvnet", "guided", "backprop"), always=True)
    out: str = option(required=True, help="PNG to write")
    npy: str | None = option(help="also write the raw float32 projection (C, H, W) of the first activation")


@dataclass(frozen=True, kw_only=True)
class MapsRecipe(ImageInputRecipe):
    command = "maps"
    summary = "a layer's feature maps (shared levels) or first-layer filters as a PNG"

    layer: str = option(required=True, help=LAYER_HELP)
    sort: str = option("index", choices=("index", "max"), help="channel order (default: index)")
    filters: bool = option(False, switch=True, help="show the first convolution's filters instead")
    out: str = option(required=True, help="PNG to write")


@dataclass(frozen=True, kw_only=True)
class OcclusionRecipe(ImageInputRecipe):
    command = "occlusion"
    summary = "occlusion sensitivity map: p(target) as a grey square slides over the image"

    patch: int | None = option(parse=int,
                               help="side of the grey square in input pixels (default: 32 at 224 px, 6 at 28 px)")
    stride: int | None = option(parse=int, help="step between square positions (default: a quarter of the patch)")
    fill: float | None = option(parse=float, format=format_float,
                                help="grey level of the square, 0..1 (default: the data set's mean pixel)")
    target: str | None = option(help="class index or name whose probability is mapped (default: the top class)")
    layer: str | None = option(help="feature layer for panels (b) and (c) (default: the last conv block)")
    out: str = option(required=True, help="PNG to write")
    npy: str | None = option(help="also write p(target) as float32 (ny, nx), entry [i, j] for the square at "
                                  "(i*S, j*S)")
    approximate: bool = option(False, switch=True, help="approximate the map (Krypton: projective-field threshold "
                                                        "and adaptive drill-down); the default is exact")
    field: float | None = option(parse=float, format=format_float,
                                 help="with --approximate: projective-field threshold in (0, 1]; 1 is exact")
    coarse: int | None = option(parse=int, help="with --approximate: compute every COARSE-th position first; 1 is none")
    drill: float | None = option(parse=float, format=format_float,
                                 help="with --approximate: fraction of coarse cells computed in full, the most "
                                      "sensitive first")

    def approximation(self):
        """Return the engine's Approximation these options ask for, or None for an exact map (DeconvvizError
        for a knob without --approximate, or one out of range)."""
        from ..engine.occlusion import Approximation
        from ..errors import DeconvvizError

        knobs = {k: getattr(self, k) for k in ("field", "coarse", "drill") if getattr(self, k) is not None}
        if not self.approximate:
            if knobs:
                raise DeconvvizError(f"--{next(iter(knobs))} needs --approximate (the map is exact by default)")
            return None
        return Approximation(**knobs)


@dataclass(frozen=True, kw_only=True)
class TopkRecipe(ModelRecipe):
    command = "topk"
    summary = "index a data set's top-k activations per channel and render them (Fig. 2)"

    data: str = option(required=True, help=DATA_HELP)
    layer: str = option(required=True, help=LAYER_HELP)
    channels: tuple[int, ...] | None = option(parse=parse_int_list, format=format_ints,
                                              help="channels to index, e.g. 0,3,5-8 (default: all; the first 8 "
                                                   "are rendered)")
    k: int = option(9, parse=int, always=True, help="activations kept per channel (default 9)")
    all_positions: bool = option(False, switch=True,
                                 help="let one image fill several of a channel's k slots (default: its strongest only)")
    batch_size: int = option(64, parse=int)
    limit: int | None = option(parse=int, help="use only the first N images of the data set")
    out: str = option(required=True, help="folder for index.npz, overview.png and channel-NNNN.png")


@dataclass(frozen=True, kw_only=True)
class InvarianceRecipe(ImagesInputRecipe):
    command = "invariance"
    summary = "how features and the class change under a transform (Fig. 5)"

    transform: str = option("translate", choices=("translate", "scale", "rotate"), always=True,
                            help="vertical translation (pixels), scaling (factor) or rotation (degrees)")
    amounts: tuple[float, ...] | None = option(flag="--range", parse=parse_float_list, format=format_floats,
                                               help="amounts: a,b,c or START:STOP:COUNT (default: a range per "
                                                    "transform)")
    layers: tuple[str, ...] | None = option(many=True, help="layers to compare (default: the first conv block and "
                                                            "the penultimate layer)")
    true_class: tuple[int, ...] | None = option(parse=parse_int_list, format=format_ints,
                                                help="true class per image, e.g. 3,3,7 (default: each image's top "
                                                     "class)")
    out: str = option(required=True, help="PNG to write")
    csv: str | None = option(help="also write the numbers as CSV")


@dataclass(frozen=True, kw_only=True)
class CorrespondenceRecipe(ImagesInputRecipe):
    command = "correspondence"
    summary = "Delta per part and layer, vs random boxes (Table 1)"

    parts: str = option(required=True, help=PARTS_HELP)
    layers: tuple[str, ...] | None = option(many=True, help="layers (default: the last conv block and the "
                                                            "penultimate layer, the paper's 5 and 7)")
    random: int = option(10, parse=int, always=True, metavar="N",
                         help="random boxes of each part's sizes, N draws (default 10; 0: none)")
    seed: int = option(0, parse=int, help="seed of the random boxes")
    csv: str | None = option(help="write the table as CSV")
    out: str | None = option(help="PNG of the images with their part boxes")


@dataclass(frozen=True, kw_only=True)
class SaliencyRecipe(ImageInputRecipe):
    command = "saliency"
    summary = "gradient saliency map of a class for an image"

    target: int | None = option(parse=int, help="class index (default: the top class)")
    out: str = option(required=True, help="PNG to write")
    npy: str | None = option(help="also write the map (H, W) as float32 .npy")


ACTMAX_METHODS = ("featvis", "pixel")
FEATVIS_OBJECTIVES = ("channel", "neuron", "class", "negative")


@dataclass(frozen=True, kw_only=True)
class ActmaxRecipe(ModelRecipe):
    command = "actmax"
    summary = "activation maximisation: the input a channel or a class likes most"

    layer: str | None = option(help="layer of the channel to maximise")
    channel: int | None = option(parse=int, help="channel whose mean output is maximised")
    class_index: int | None = option(flag="--class", parse=int, help="class whose pre-softmax score is maximised")
    method: str = option("featvis", choices=ACTMAX_METHODS, always=True,
                         help="featvis (default): a Fourier-parametrised picture under robustness transforms, as "
                              "`deconvviz featvis`; pixel: plain gradient ascent on the pixels")
    start: str = option("noise", help="pixel method: noise, mean (the mean image) or an image file")
    steps: int | None = option(parse=int, help="steps (default: 256 featvis, 30 pixel)")
    step_size: float = option(0.05, parse=float, format=format_float,
                              help="pixel method: mean change of an input value per step, in normalised units "
                                   "(default 0.05)")
    l1: float = option(0.1, parse=float, format=format_float, help="pixel method: L1 penalty weight (default 0.1)")
    l2: float = option(0.0, parse=float, format=format_float, help="pixel method: L2 penalty weight (default 0)")
    size: int = option(128, parse=int, help="featvis method: the picture's side in pixels (default 128)")
    seed: int = option(0, parse=int, help="seed of the start")
    out: str = option(required=True, help="PNG to write")

    def target(self):
        """Return the engine's Target these options name (DeconvvizError unless exactly one of class or
        layer with channel is given)."""
        from ..engine.actmax import Target

        if (self.class_index is None) == (self.layer is None or self.channel is None):
            raise DeconvvizError("give either --class N, or --layer L with --channel C")
        return Target(class_index=self.class_index) if self.class_index is not None else Target(self.layer,
                                                                                                 self.channel)

    def compute(self, model, progress=None, cancel=None):
        """Return (start input, Ascent) of the method these options name (the CLI and the app's view call this)."""
        target = self.target()
        if self.method == "pixel":
            from ..analyses.actmax import activation_maximisation, start_input

            steps = 30 if self.steps is None else self.steps
            ascent = activation_maximisation(model, target, self.start, steps, self.step_size, self.l1, self.l2,
                                             self.seed, progress, cancel)
            return start_input(model, self.start, self.seed), ascent
        from ..analyses.featvis import as_ascent, feature_visualisation, grey_start

        steps = 256 if self.steps is None else self.steps
        if target.class_index is not None:
            result = feature_visualisation(model, None, [target.class_index], steps, self.size, self.seed, "class",
                                           progress=progress, cancel=cancel)
        else:
            result = feature_visualisation(model, target.layer, [target.channel], steps, self.size, self.seed,
                                           progress=progress, cancel=cancel)
        return grey_start(model), as_ascent(model, result, target)

    def panel(self, model, start, ascent, command: str = ""):
        """Return the PNG panel of :meth:`compute`'s result."""
        from ..figures.saliency import actmax_panel

        return actmax_panel(model, start, ascent, command)


@dataclass(frozen=True, kw_only=True)
class FeatvisRecipe(ModelRecipe):
    command = "featvis"
    summary = "feature visualisation: a picture per channel (or class), as Lucid's (Olah et al. 2017)"

    layer: str | None = option(help=LAYER_HELP + "; not needed for --objective class")
    channels: tuple[int, ...] | None = option(parse=parse_int_list, format=format_int_ranges,
                                              help="channels (class indices for --objective class), e.g. 0-31 or "
                                                   "0,3,5-8; with --all-layers those of each layer (default all)")
    all_layers: bool = option(False, switch=True,
                              help="every layer with maps (or a vector), one grid per layer in the folder --out, "
                                   "each picture also cached where the app looks for it")
    objective: str = option("channel", choices=FEATVIS_OBJECTIVES, always=True,
                            help="channel: the map's mean; neuron: one position (--position); class: the class's "
                                 "pre-softmax score; negative: the channel's mean minimised")
    position: tuple[int, int] | None = option(parse=parse_position, format=format_position,
                                              help="--objective neuron: ROW,COL in the maps (default the centre)")
    steps: int = option(256, parse=int, always=True, help="Adam steps (default 256)")
    size: int = option(128, parse=int, always=True, help="side of each picture in pixels (default 128)")
    diversity: int = option(1, parse=int, metavar="K",
                            help="K pictures per channel, pushed apart by Lucid's diversity term (default 1)")
    seed: int = option(0, parse=int, always=True, help="seed of the starts and transforms (default 0)")
    batch: int | None = option(parse=int, help="pictures optimised together (default: all at once)")
    out: str = option(required=True, help="PNG to write: the grid of pictures with their channel numbers "
                                          "(--all-layers: the folder of one LAYER.png per layer)")
    npy: str | None = option(help="also write the pictures as float32 (N, 3, size, size) RGB in [0, 1] "
                                  "(--all-layers: the folder of one LAYER.npy per layer)")

    def compute(self, model, progress=None, cancel=None, on_chunk=None):
        """Return the FeatureVis these options ask for (the CLI and the app call this one place)."""
        from ..analyses.featvis import feature_visualisation

        if not self.channels:
            raise DeconvvizError("--channels is needed (or --all-layers)")
        if self.objective != "class" and self.layer is None:
            raise DeconvvizError(f"--objective {self.objective} needs --layer")
        if self.position is not None and self.objective != "neuron":
            raise DeconvvizError("--position is for --objective neuron")
        return feature_visualisation(model, None if self.objective == "class" else self.layer, self.channels,
                                     self.steps, self.size, self.seed, self.objective, self.position, self.diversity,
                                     batch=self.batch, progress=progress, cancel=cancel, on_chunk=on_chunk)

    def panel(self, model, result, command: str = ""):
        """Return the PNG panel of :meth:`compute`'s result."""
        from ..figures.featvis import featvis_panel

        return featvis_panel(model, result, command)


@dataclass(frozen=True, kw_only=True)
class FiltersRecipe(ModelRecipe):
    command = "filters"
    summary = "first-layer filters; compare two snapshots or models (Fig. 6)"

    compare: str | None = option(group="compare", metavar="WEIGHTS",
                                 help="a second weights file of the same model to show beside")
    compare_model: str | None = option(group="compare", metavar="MODEL", help="a second model to show beside")
    compare_weights: str | None = option(help="weights for --compare-model")
    out: str = option(required=True, help="PNG to write")


@dataclass(frozen=True, kw_only=True)
class EvolutionRecipe(Recipe):
    command = "evolution"
    summary = "strongest activation per channel at each training snapshot (Fig. 4)"

    history: str = option(required=True, help="folder of snapshot .safetensors files (one per epoch)")
    data: str = option(required=True, help=DATA_HELP)
    layer: str = option(required=True, help=LAYER_HELP)
    channels: tuple[int, ...] = option(required=True, parse=parse_int_list, format=format_ints,
                                       help="channels, e.g. 0,3,5-8")
    limit: int | None = option(parse=int, help="use only the first N images of the data set")
    batch_size: int = option(64, parse=int)
    patches: bool = option(False, switch=True, help="also write the image patches beside (PNG-patches)")
    device: str = option("cpu", help="torch device")
    out: str = option(required=True, help="PNG to write")


@dataclass(frozen=True, kw_only=True)
class EvaluateRecipe(ModelRecipe):
    command = "evaluate"
    summary = "print a model's top-1 and top-5 accuracy on a data set"

    data: str | None = option(help="IDX folder or image folder (default: Fashion-MNIST from the Debian package "
                                   "dataset-fashion-mnist)")
    split: str = option("test", choices=("test", "train"), help="which split (default test)")
    batch_size: int = option(512, parse=int)
    json: bool = option(False, switch=True, help="print the result as JSON")


@dataclass(frozen=True, kw_only=True)
class VideoRecipe(ModelRecipe):
    command = "video"
    summary = "classify a video's frames (CSV), optionally a panel per frame"

    video: str = option(required=True, help="video file (anything FFmpeg reads: .mp4, .mkv, .webm, ...)")
    csv: str = option(required=True, help="CSV to write: frame, time_s, class, label, p")
    every: int = option(1, parse=int, metavar="N", help="analyse one frame in N (default: every frame)")
    layer: str | None = option(help="layer whose feature maps each panel shows (see `deconvviz layers`)")
    channel: int | None = option(parse=int, help="with --layer: show this channel's strongest activation projected")
    mode: str = option("deconvnet", choices=("deconvnet", "guided", "backprop"),
                       help="the projection's rule at rectifiers (default: deconvnet)")
    out: str | None = option(help="panels: a video file (.mp4, .mkv, .mov, .avi, .webm) or a folder of PNGs")


def _names(valid: tuple[str, ...], what: str):
    """Return a parser of "a,b" into a tuple of distinct names from ``valid`` (DeconvvizError otherwise)."""
    def parse(text: str) -> tuple[str, ...]:
        names = tuple(n.strip() for n in text.split(",") if n.strip())
        bad = [n for n in names if n not in valid]
        if bad or not names or len(set(names)) != len(names):
            raise DeconvvizError(f"--{what} takes distinct names of {','.join(valid)}, got {text!r}")
        return names
    return parse


def _join(names) -> str:
    return ",".join(names)


@dataclass(frozen=True, kw_only=True)
class SanityRecipe(ImageInputRecipe):
    command = "sanity"
    summary = "do the projections and saliency change when the weights are randomised? (Adebayo et al. 2018)"

    layer: str | None = option(group="target", help="layer whose channel's strongest activation is explained")
    channel: int | None = option(parse=int, help="channel of --layer")
    position: tuple[int, int] | None = option(parse=parse_position, format=format_position,
                                              help="ROW,COL of the activation (default: the strongest, on the "
                                                   "learnt weights)")
    class_index: str | None = option(flag="--class", group="target",
                                     help="class index or name whose score is explained (default, with no "
                                          "--layer: the top class)")
    methods: tuple[str, ...] = option(SANITY_DEFAULT, parse=_names(SANITY_METHODS, "methods"), format=_join,
                                      always=True, help=f"comma-separated, of {','.join(SANITY_METHODS)} (default "
                                                        f"{','.join(SANITY_DEFAULT)}: one batched pass per step)")
    test: str = option("cascading", choices=("cascading", "independent"), always=True,
                       help="cascading: re-initialise from the top layer down, cumulatively; independent: one "
                            "layer at a time")
    seed: int = option(0, parse=int, always=True, help="seed of the random weights")
    csv: str = option(required=True, help="CSV to write: method, randomised, spearman, ssim, spearman_signed, "
                                          "hog, step, test")
    out: str = option(required=True, help="PNG to write")

    def compute(self, model, x, progress=None, cancel=None):
        """Return the SanityResult these options ask for, on ``model`` and its input ``x`` (the CLI and the
        app's view call this one place)."""
        from ..analyses.sanity import sanity_check
        from ..api import parse_target

        return sanity_check(model, x, self.layer, self.channel, self.position, parse_target(model, self.class_index),
                            self.methods, self.test, self.seed, progress=progress, cancel=cancel)

    def panel(self, model, x, result, frame=None, command: str = ""):
        """Return the PNG panel of ``result`` (from :meth:`compute`): naming ``frame`` when the input is a video
        frame; ``command`` "" leaves out the regenerating command (a camera's frame: nothing can read it again)."""
        from ..figures.sanity import sanity_panel
        from .pictures import frame_panel

        return frame_panel(sanity_panel(model, x, result, self.image, command), frame, command=bool(command))


@dataclass(frozen=True, kw_only=True)
class FaithfulnessRecipe(ImageInputRecipe):
    command = "faithfulness"
    summary = "deletion/insertion curves of the occlusion and saliency maps (Petsiuk et al. 2018)"

    target: str | None = option(help="class index or name (default: the top class)")
    maps: tuple[str, ...] = option(FAITHFULNESS_DEFAULT, parse=_names(FAITHFULNESS_MAPS, "maps"), format=_join,
                                   help=f"comma-separated, of {','.join(FAITHFULNESS_MAPS)} (default "
                                        f"{','.join(FAITHFULNESS_DEFAULT)})")
    steps: int = option(50, parse=int, always=True, help="points along each curve after the first (default 50)")
    random: int = option(3, parse=int, always=True, help="random pixel orders averaged for the baseline (default 3)")
    seed: int = option(0, parse=int, help="seed of the random orders")
    patch: int | None = option(parse=int, help="occluding square in pixels (default: as for occlusion)")
    stride: int | None = option(parse=int, help="step of the square (default: a quarter of the patch)")
    csv: str = option(required=True, help="CSV to write: map, fraction, deletion, insertion, deletion_auc, "
                                          "insertion_auc")
    out: str = option(required=True, help="PNG to write")

    def compute(self, model, x, progress=None, cancel=None):
        """Return the faithfulness curves these options ask for, on ``model`` and its input ``x`` (the CLI and
        the app's view call this one place)."""
        from ..analyses.faithfulness import faithfulness_curves
        from ..api import parse_target

        return faithfulness_curves(model, x, parse_target(model, self.target), self.maps, self.steps, self.random,
                                   self.seed, self.patch, self.stride, progress=progress, cancel=cancel)

    def panel(self, model, x, result, frame=None, command: str = ""):
        """Return the PNG panel of ``result`` (from :meth:`compute`), as :meth:`SanityRecipe.panel` does."""
        from ..figures.sanity import faithfulness_panel
        from .pictures import frame_panel

        return frame_panel(faithfulness_panel(model, x, result, self.image, command), frame, command=bool(command))


def _method_help() -> str:
    from ..engine.methods import METHODS

    return "; ".join(f"{m.name}: {m.summary}" for m in METHODS.values())


@dataclass(frozen=True, kw_only=True)
class AttributeRecipe(ImageInputRecipe):
    command = "attribute"
    summary = "an attribution map (Grad-CAM, integrated gradients, SmoothGrad, ...) over the image"

    method: str = option("gradcam", choices=ATTRIBUTION_METHODS, always=True, help=_method_help())
    target: str | None = option(help="class index or name (default: the top class), LAYER:CHANNEL (the channel's "
                                     "whole map) or LAYER:CHANNEL:ROW,COL (one neuron)")
    layer: str | None = option(help="the layer Grad-CAM reads (default: the last with spatial maps before the "
                                    "target)")
    steps: int | None = option(parse=int, help="integrated gradients: points on the path (default 32)")
    baseline: str | None = option(choices=("zero", "mean", "blur"),
                                  help="integrated gradients: black image, mean pixel or blurred image (default zero)")
    sigma: float | None = option(parse=float, format=format_float,
                                 help="integrated gradients: the blur baseline's sigma in pixels (default side/16)")
    base: str | None = option(choices=ATTRIBUTION_METHODS, help="smoothgrad: the method averaged (default saliency)")
    samples: int | None = option(parse=int, help="smoothgrad: noisy copies (default 16)")
    noise: float | None = option(parse=float, format=format_float,
                                 help="smoothgrad: noise sd as a fraction of the input's range (default 0.15)")
    seed: int | None = option(parse=int, help="smoothgrad: seed of the noise (default 0)")
    opacity: float = option(0.7, parse=float, format=format_float, help="heat over the image, 0..1 (default 0.7)")
    out: str = option(required=True, help="PNG to write")
    npy: str | None = option(help="also write the map (H, W) as float32 .npy")

    def options_given(self) -> dict:
        """Return the method options set on the command line (the rest take the method's defaults)."""
        names = ("steps", "baseline", "sigma", "base", "samples", "noise", "seed")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}

    def compute(self, model, x):
        """Return the engine's Attribution these options ask for, on ``model`` and its input ``x``."""
        from ..api import explain_attribution

        if not 0.0 <= self.opacity <= 1.0:
            raise DeconvvizError(f"--opacity is 0..1, got {self.opacity}")
        return explain_attribution(model, x, self.method, self.target, self.layer, **self.options_given())

    def panel(self, model, x, result, frame=None, command: str = ""):
        """Return the PNG panel of ``result`` (from :meth:`compute`), naming ``frame`` for a video frame."""
        from ..figures.attribution import attribution_panel
        from .pictures import frame_panel

        return frame_panel(attribution_panel(model, x, result.map, result.method, describe_target(model, result.target),
                                             result.layer, self.image, command, self.opacity),
                           frame, command=bool(command))


def describe_target(model, target) -> str:
    """Return a resolved attribution target for people: "class 967 (espresso)" or "_blocks.10 channel 3"."""
    text = target.describe()
    if target.layer is None and target.class_index is not None:
        text += f" ({model.class_name(target.class_index)})"
    return text


RECIPES: tuple[type[Recipe], ...] = (LayersRecipe, ProjectRecipe, MapsRecipe, OcclusionRecipe, TopkRecipe,
                                     InvarianceRecipe, CorrespondenceRecipe, SaliencyRecipe, ActmaxRecipe,
                                     FeatvisRecipe, FiltersRecipe, EvolutionRecipe, EvaluateRecipe, VideoRecipe,
                                     SanityRecipe, FaithfulnessRecipe, AttributeRecipe)
