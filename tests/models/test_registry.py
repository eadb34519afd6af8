"""Model names, preprocessing, and what load_model says when a name or file is wrong."""

import numpy as np
import pytest
import torch
from PIL import Image

import deconvviz
from deconvviz.errors import DeconvvizError
from deconvviz.models.weights import write_safetensors


def test_efficientnet_classifies_the_bundled_photos(efficientnet):
    from deconvviz.data.images import sample_photos

    expected = {"coffee": {"espresso", "cup"}, "chelsea": {"tabby", "tiger cat", "Egyptian cat"}}
    for path in sample_photos():
        if path.stem in expected:
            x = efficientnet.preprocess(deconvviz.load_image(path))
            top = efficientnet.class_name(int(efficientnet.net(x).argmax()))
            assert top in expected[path.stem], (path.stem, top)


def test_zfnet_has_the_papers_map_sizes():
    m = deconvviz.load_model("zfnet")
    shapes = {r.name: r.output_shape for r in m.layers()}
    assert shapes["features.0"] == (96, 110, 110)
    assert shapes["features.2"] == (96, 55, 55)
    assert shapes["features.4"] == (256, 26, 26)
    assert shapes["features.6"] == (256, 13, 13)
    assert shapes["features.14"] == (256, 6, 6)
    assert shapes["classifier.6"] == (1000,)
    assert m.weights == "random initialisation" and not m.trained


def test_torchvision_and_user_models(tmp_path):
    m = deconvviz.load_model("torchvision:resnet18")
    assert m.preprocessing.size == (224, 224) and len(m.class_names) == 1000
    assert deconvviz.load_model("alexnet").name == "torchvision:alexnet"
    user = tmp_path / "mine.py"
    user.write_text(
        "import torch.nn as nn\n"
        "PREPROCESSING = {'size': [16, 16], 'mode': 'L', 'mean': [0.5], 'std': [0.5]}\n"
        "CLASS_NAMES = ['no', 'yes']\n"
        "def build():\n"
        "    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 14 * 14, 2))\n"
    )
    weights = tmp_path / "mine.safetensors"
    net = deconvviz.load_model(f"{user}:build").net
    write_safetensors(weights, {k: torch.ones_like(v) for k, v in net.state_dict().items()})
    m = deconvviz.load_model(f"{user}:build", weights=weights)
    assert m.class_names == ["no", "yes"] and m.preprocessing.size == (16, 16)
    assert torch.equal(m.net[0].weight, torch.ones(4, 1, 3, 3)) and m.trained


@pytest.mark.parametrize("name, message", [
    ("nonsense", "unknown model 'nonsense'; valid: efficientnet-lite0, zf-fmnist, zfnet"),
    ("torchvision:resnet9", "unknown torchvision classification model 'resnet9'; valid: alexnet"),
    ("missing.py:build", "model file not found"),
])
def test_unknown_names_list_the_valid_ones(name, message):
    with pytest.raises(DeconvvizError, match=message.replace("(", r"\(")):
        deconvviz.load_model(name)


def test_user_model_errors_are_reported(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def build():\n    raise ValueError('no GPU here')\ndef other():\n    return 3\n")
    with pytest.raises(DeconvvizError, match="raised ValueError: no GPU here"):
        deconvviz.load_model(f"{bad}:build")
    with pytest.raises(DeconvvizError, match="returned int, not a torch.nn.Module"):
        deconvviz.load_model(f"{bad}:other")
    with pytest.raises(DeconvvizError, match="has no callable 'nothing'"):
        deconvviz.load_model(f"{bad}:nothing")


def test_image_of_the_input_size_is_only_normalised():
    m = deconvviz.load_model("zf-fmnist")
    pixels = np.arange(28 * 28, dtype=np.uint8).reshape(28, 28)
    x = m.preprocess(Image.fromarray(pixels, "L"))
    expected = (torch.from_numpy(pixels).float() / 255 - 0.2860) / 0.3530
    assert torch.allclose(x[0, 0], expected, atol=1e-6)
    assert np.array_equal(m.preprocessing.to_pixels(x)[:, :, 0], pixels)


@pytest.mark.parametrize("name", ["zfnet", "torchvision:resnet18"])
def test_random_weights_are_the_same_on_every_load_and_leave_the_random_state_alone(name):
    # a figure made on random weights carries its command: that command must draw the same figure again
    before = torch.random.get_rng_state()
    first, second = deconvviz.load_model(name).net.state_dict(), deconvviz.load_model(name).net.state_dict()
    assert torch.equal(torch.random.get_rng_state(), before)
    assert first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)


@pytest.mark.parametrize("device", ["bogus", "cuda:99"] + ([] if torch.cuda.is_available() else ["cuda"]))
def test_a_device_that_is_not_there_is_one_line_and_exit_2(device, capsys):
    from deconvviz.cli import main

    with pytest.raises(DeconvvizError, match="device"):
        deconvviz.load_model("zf-fmnist", device=device)
    assert main(["layers", "--model", "zf-fmnist", "--device", device]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("deconvviz: error:") and device in err
