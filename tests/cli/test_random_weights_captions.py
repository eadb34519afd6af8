"""Every figure of a model on random weights says so in its caption (the PNG's Title), as the app's title does."""

import pytest

from deconvviz.cli import main
from deconvviz.figures.png import read_facts
from tests.clips import clip_frames, write_clip

IMAGE = "resources/correspondence/sneaker-0009.png"
# command -> its arguments besides the model, the input and --out (layer "3": the model's second convolution)
COMMANDS = {
    "project": ["--layer", "3", "--channel", "3"],
    "saliency": [],
    "attribute": ["--method", "gradcam"],
    "occlusion": ["--patch", "8", "--stride", "8"],
    "maps": ["--layer", "3"],
    "sanity": ["--methods", "saliency", "--csv", "{tmp}/s.csv"],
    "faithfulness": ["--steps", "4", "--random", "1", "--csv", "{tmp}/f.csv"],
    "invariance": ["--transform", "rotate", "--range", "0,90", "--layers", "3"],
    "featvis": ["--layer", "3", "--channels", "0-1", "--steps", "2"],
    "actmax": ["--layer", "3", "--channel", "0", "--steps", "2"],
    "filters": [],
}
NO_IMAGE = {"featvis", "actmax", "filters"}


@pytest.fixture
def random_model(tmp_path):
    """Return the --model arguments of a user model file without weights (random weights)."""
    source = tmp_path / "net.py"
    source.write_text(
        "import torch\n"
        "PREPROCESSING = {'size': [28, 28], 'mode': 'L', 'mean': [0.5], 'std': [0.5]}\n"
        "def make():\n"
        "    return torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),\n"
        "                               torch.nn.Conv2d(4, 6, 3), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),\n"
        "                               torch.nn.Flatten(), torch.nn.Linear(6, 3))\n")
    return ["--model", f"{source}:make"]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_figure_on_random_weights_says_so(random_model, tmp_path, command):
    args = [a.replace("{tmp}", str(tmp_path)) for a in COMMANDS[command]]
    out = tmp_path / "out.png"
    image = [] if command in NO_IMAGE else ["--images" if command == "invariance" else "--image", IMAGE]
    assert main([command, *random_model, *image, *args, "--out", str(out)]) == 0
    assert "(random weights)" in read_facts(out)["Title"]


def test_a_video_panel_on_random_weights_says_so(random_model, tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", clip_frames(4, 28, 28))
    panels = tmp_path / "panels"
    assert main(["video", *random_model, "--video", str(clip), "--csv", str(tmp_path / "v.csv"), "--layer", "3",
                 "--channel", "1", "--out", str(panels)]) == 0
    assert "(random weights)" in read_facts(sorted(panels.iterdir())[0])["Title"]
