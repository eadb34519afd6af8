"""torchvision weights by name: read from torchvision's cache with no network, downloaded only when asked."""

import urllib.error

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import models

import deconvviz
from deconvviz.cli import main
from deconvviz.errors import DeconvvizError
from deconvviz.models import torchvision_weights as tvw

REAL_DOWNLOAD = torch.hub.download_url_to_file
ARCH = "squeezenet1_0"  # the smallest torchvision classifier with ImageNet weights (1.2 M parameters)


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """A fresh TORCH_HOME with the network unreachable: any download attempt fails the test."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)

    def no_network(*args, **kwargs):
        raise AssertionError("a download was attempted")

    monkeypatch.setattr(torch.hub, "urlopen", no_network)
    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    return tmp_path / "torch" / "hub" / "checkpoints"


def _place(hub, arch=ARCH, name="IMAGENET1K_V1", state=None):
    """Write a randomly initialised ``arch``'s state_dict where torchvision keeps weights ``name``; return it."""
    torch.manual_seed(0)
    state = models.get_model(arch, weights=None).state_dict() if state is None else state
    path = tvw.cache_path(tvw.resolve(arch, name))
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    return state, path


def test_cache_path_follows_torch_home_and_the_url(hub):
    path = tvw.cache_path(models.SqueezeNet1_0_Weights.IMAGENET1K_V1)
    assert path == hub / "squeezenet1_0-b66bff10.pth"


def test_default_weights_come_from_the_cache_without_network(hub):
    state, path = _place(hub)
    m = deconvviz.load_model(f"torchvision:{ARCH}", weights="DEFAULT")
    for key, value in m.net.state_dict().items():
        assert torch.equal(value, state[key]), key
    assert m.trained and not m.random_weights
    assert "IMAGENET1K_V1" in m.weights
    assert m.class_names == list(models.SqueezeNet1_0_Weights.DEFAULT.meta["categories"])
    assert tvw.cached_weights(ARCH) == ["DEFAULT", "IMAGENET1K_V1"]


def test_preprocessing_is_exactly_the_weights_transforms(hub):
    _place(hub)
    m = deconvviz.load_model(f"torchvision:{ARCH}", weights="IMAGENET1K_V1")
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 256, (300, 410, 3), dtype=np.uint8))
    expected = models.SqueezeNet1_0_Weights.IMAGENET1K_V1.transforms()(image).unsqueeze(0)
    assert m.preprocessing.size == (224, 224) and m.preprocessing.resize == 256
    assert torch.allclose(m.preprocess(image), expected, atol=1e-6)


def test_inception_v3_preprocessing_is_299_after_342():
    prep = tvw.preprocessing(models.Inception_V3_Weights.DEFAULT)
    assert prep.size == (299, 299) and prep.resize == 342
    assert deconvviz.models.get_spec("torchvision:inception_v3").preprocessing.size == (299, 299)


def test_missing_file_names_the_path_and_how_to_get_it(hub, capsys):
    code = main(["layers", "--model", f"torchvision:{ARCH}", "--weights", "DEFAULT"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert str(hub / "squeezenet1_0-b66bff10.pth") in err and "--download" in err


def test_bad_names_list_the_valid_ones(hub, capsys):
    assert main(["layers", "--model", f"torchvision:{ARCH}", "--weights", "IMAGENET1K_V9"]) == 2
    err = capsys.readouterr().err
    assert "valid: DEFAULT, IMAGENET1K_V1" in err and len(err.strip().splitlines()) == 1
    assert main(["layers", "--model", "zfnet", "--weights", "DEFAULT"]) == 2
    assert "no named weights" in capsys.readouterr().err


def test_truncated_or_foreign_cached_files_are_one_line(hub, capsys):
    _, path = _place(hub)
    path.write_bytes(path.read_bytes()[:5000])
    assert main(["layers", "--model", f"torchvision:{ARCH}", "--weights", "DEFAULT"]) == 2
    err = capsys.readouterr().err
    assert "truncated or corrupt" in err and len(err.strip().splitlines()) == 1
    _place(hub, state={"conv.weight": torch.zeros(3)})
    with pytest.raises(DeconvvizError, match="does not fit torchvision's squeezenet1_0"):
        deconvviz.load_model(f"torchvision:{ARCH}", weights="DEFAULT")


def test_download_without_network_writes_nothing(hub, monkeypatch, capsys):
    def unreachable(*args, **kwargs):
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(torch.hub, "download_url_to_file", REAL_DOWNLOAD)  # torch.hub's own, over a dead network
    monkeypatch.setattr(torch.hub, "urlopen", unreachable)
    code = main(["layers", "--model", f"torchvision:{ARCH}", "--weights", "DEFAULT", "--download"])
    err = capsys.readouterr().err
    assert code == 2 and "network is unreachable" in err and len(err.strip().splitlines()) == 1
    assert not hub.exists() or not any(hub.iterdir())


def test_a_download_failing_the_hash_check_leaves_nothing(hub, monkeypatch, capsys):
    import email.message
    import io

    payload = io.BytesIO()
    torch.save(models.get_model(ARCH, weights=None).state_dict(), payload)  # right keys, wrong hash

    class Response(io.BytesIO):
        def info(self):
            return email.message.Message()

    monkeypatch.setattr(torch.hub, "download_url_to_file", REAL_DOWNLOAD)
    monkeypatch.setattr(torch.hub, "urlopen", lambda req: Response(payload.getvalue()))
    code = main(["layers", "--model", f"torchvision:{ARCH}", "--weights", "DEFAULT", "--download"])
    err = capsys.readouterr().err
    assert code == 2 and "invalid hash value" in err
    assert not any(hub.iterdir())  # neither the file nor a .partial


def test_random_weights_say_so():
    m = deconvviz.load_model(f"torchvision:{ARCH}")
    assert m.random_weights and not m.trained
