"""timm:NAME models: weights from the Hugging Face cache with no network, timm's preprocessing, clear errors."""

import socket
import sys

import numpy as np
import pytest
import torch
from PIL import Image

import timm
from safetensors.torch import save_file
from timm.data import create_transform, resolve_data_config

import deconvviz
from deconvviz.cli import main
from deconvviz.errors import DeconvvizError
from deconvviz.gui import model_choices
from deconvviz.models import timm_models
from deconvviz.models.registry import imagenet_classes

NAME = "test_resnet.r160_in1k"  # timm's test ResNet: real hub weights, 0.47 M parameters
REPO = "timm/test_resnet.r160_in1k"
REVISION = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def hf(tmp_path, monkeypatch):
    """A fresh Hugging Face cache (HF_HUB_CACHE), offline mode not set, and any network connection failing."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)

    def no_network(*args, **kwargs):
        raise AssertionError("a network connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    return tmp_path / "hf" / "hub"


def place(cache, state, repo=REPO, revision=REVISION):
    """Write ``state`` where huggingface_hub keeps ``repo``'s model.safetensors (snapshot + refs/main)."""
    folder = cache / f"models--{repo.replace('/', '--')}"
    snapshot = folder / "snapshots" / revision
    snapshot.mkdir(parents=True)
    save_file({k: v.contiguous() for k, v in state.items()}, str(snapshot / "model.safetensors"))
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text(revision)
    return snapshot / "model.safetensors"


@pytest.fixture(scope="module")
def resnet_state():
    torch.manual_seed(0)
    return timm.create_model(NAME, pretrained=False).state_dict()


def test_default_weights_come_from_the_hf_cache_without_network(hf, resnet_state):
    path = place(hf, resnet_state)
    m = deconvviz.load_model(f"timm:{NAME}", weights="DEFAULT")
    for key, value in m.net.state_dict().items():
        assert torch.equal(value, resnet_state[key]), key
    assert m.trained and not m.random_weights and m.label == f"timm:{NAME}"
    assert m.meta["file"] == str(path) and REPO in m.weights
    assert m.class_names == list(imagenet_classes())
    assert not m.net.training and not any(p.requires_grad for p in m.net.parameters())


def test_hf_home_is_honoured_when_hf_hub_cache_is_unset(hf, tmp_path, monkeypatch, resnet_state):
    monkeypatch.delenv("HF_HUB_CACHE")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "home"))
    assert timm_models.hub_cache() == tmp_path / "home" / "hub"
    place(tmp_path / "home" / "hub", resnet_state)
    assert deconvviz.load_model(f"timm:{NAME}", weights="DEFAULT").trained
    assert timm_models.has_cached_weights(NAME) and not timm_models.has_cached_weights("resnet18.a1_in1k")


@pytest.mark.parametrize("name", ["resnet10t.c3_in1k", "vit_tiny_patch16_224.augreg_in21k_ft_in1k",
                                  "tf_efficientnetv2_b3.in21k_ft_in1k"])  # center 176/201, center 224/248, squash
def test_preprocessing_is_exactly_timms_eval_transform(name):
    spec = deconvviz.models.get_spec(f"timm:{name}")
    cfg = timm_models.pretrained_cfg(name)
    transform = create_transform(**resolve_data_config(pretrained_cfg=cfg))
    rng = np.random.default_rng(0)
    for shape in ((300, 410, 3), (410, 300, 3)):
        image = Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8))
        ours = spec.preprocessing(image)
        assert ours.shape == (1, 3, *cfg["input_size"][1:])
        assert torch.allclose(ours, transform(image).unsqueeze(0), atol=1e-6)
    assert spec.preprocessing.squash == (cfg["crop_mode"] == "squash")


def test_class_names_follow_the_head():
    in1k = imagenet_classes()
    assert timm_models.class_names(timm_models.pretrained_cfg("convnext_tiny.fb_in22k"), in1k)[:2] == (
        "organism", "benthos")
    assert len(timm_models.class_names(timm_models.pretrained_cfg("convnext_tiny.fb_in22k"), in1k)) == 21841
    assert timm_models.class_names(timm_models.pretrained_cfg(NAME), in1k) == in1k


def test_random_weights_say_so_and_weight_files_load_as_today(tmp_path, resnet_state):
    m = deconvviz.load_model("timm:test_resnet")
    assert m.random_weights and m.label == "timm:test_resnet (random weights)"
    save_file(dict(resnet_state), str(tmp_path / "w.safetensors"))
    m = deconvviz.load_model(f"timm:{NAME}", weights=tmp_path / "w.safetensors")
    assert m.trained and m.weights == str(tmp_path / "w.safetensors")
    assert torch.equal(m.net.state_dict()["fc.weight"], resnet_state["fc.weight"])


def test_missing_cache_file_names_the_path_and_the_download_command(hf, capsys):
    code = main(["layers", "--model", f"timm:{NAME}", "--weights", "DEFAULT"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert str(hf / "models--timm--test_resnet.r160_in1k" / "snapshots") in err
    assert f"deconvviz layers --model timm:{NAME} --weights DEFAULT --download" in err


def test_unknown_names_list_close_matches(capsys):
    assert main(["layers", "--model", "timm:resnt10t"]) == 2
    err = capsys.readouterr().err
    assert "unknown timm model 'resnt10t'" in err and "resnet10t" in err and len(err.strip().splitlines()) == 1
    assert main(["layers", "--model", "timm:resnet10t.c9_in1k"]) == 2
    assert "resnet10t.c3_in1k" in capsys.readouterr().err
    assert main(["layers", "--model", f"timm:{NAME}", "--weights", "IMAGENET1K_V1"]) == 2
    assert "--weights DEFAULT or a weights file" in capsys.readouterr().err


def test_without_timm_timm_names_say_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "timm", None)  # import timm raises ImportError
    assert main(["layers", "--model", f"timm:{NAME}"]) == 2
    err = capsys.readouterr().err
    assert "pip install 'deconvviz[timm]'" in err and len(err.strip().splitlines()) == 1
    assert not any(c.name.startswith("timm:") for c in model_choices.model_choices(archs=()))
    assert main(["layers", "--model", "zfnet"]) == 0  # nothing else needs timm


def test_download_goes_through_hf_hub_download_into_the_cache(hf, monkeypatch, resnet_state):
    import huggingface_hub

    calls = []

    def fake_download(repo_id, filename, revision=None, cache_dir=None, **kwargs):
        calls.append((repo_id, filename, revision, cache_dir))
        return str(place(hf, resnet_state, repo_id))

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    with pytest.raises(DeconvvizError, match="not in the Hugging Face cache"):
        deconvviz.load_model(f"timm:{NAME}", weights="DEFAULT")
    m = deconvviz.load_model(f"timm:{NAME}", weights="DEFAULT", download=True)
    assert calls == [(REPO, "model.safetensors", None, str(hf))]
    assert torch.equal(m.net.state_dict()["fc.weight"], resnet_state["fc.weight"])
    deconvviz.load_model(f"timm:{NAME}", weights="DEFAULT", download=True)
    assert len(calls) == 1  # in the cache now: no second download


def test_a_failed_download_is_one_line(hf, monkeypatch, capsys):
    import huggingface_hub
    from huggingface_hub.errors import LocalEntryNotFoundError

    def offline(*args, **kwargs):
        raise LocalEntryNotFoundError("cannot find the requested files in the local cache; check your connection")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", offline)
    code = main(["layers", "--model", f"timm:{NAME}", "--weights", "DEFAULT", "--download"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"downloading model.safetensors of {REPO}" in err and "check your connection" in err
    assert not hf.exists()


def test_a_foreign_or_truncated_cached_file_is_one_line(hf, capsys):
    path = place(hf, {"conv.weight": torch.zeros(3)})
    with pytest.raises(DeconvvizError, match="does not fit timm's test_resnet.r160_in1k"):
        deconvviz.load_model(f"timm:{NAME}", weights="DEFAULT")
    path.write_bytes(path.read_bytes()[:20])
    assert main(["layers", "--model", f"timm:{NAME}", "--weights", "DEFAULT"]) == 2
    err = capsys.readouterr().err
    assert "not a readable safetensors file" in err and len(err.strip().splitlines()) == 1


def test_model_box_offers_timm_models_with_their_cache_state(hf, resnet_state):
    place(hf, resnet_state)
    choices = model_choices.model_choices(archs=(), timm_names=(NAME, "resnet18.a1_in1k"))
    texts = [c.text for c in choices]
    assert f"timm:{NAME} · pretrained weights (in cache)" in texts
    assert "timm:resnet18.a1_in1k · pretrained weights (download…)" in texts
    assert "timm:resnet18.a1_in1k · random weights" in texts
    download = next(c for c in choices if c.download)
    assert download.weights == "DEFAULT"
    question = model_choices.download_question(download)
    assert "timm/resnet18.a1_in1k" in question and str(hf) in question
    assert all(deconvviz.models.get_spec(f"timm:{name}") for name in model_choices.TIMM)
