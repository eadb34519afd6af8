"""Where deconvviz finds its bundled files: in the package when installed, at the top of a checkout otherwise;
and a bundled model whose weights are missing is refused, never silently random."""

import pytest

import deconvviz
from deconvviz import paths
from deconvviz.cli import main
from deconvviz.data.images import load_image
from deconvviz.errors import DeconvvizError
from deconvviz.models import registry


def test_an_installed_package_reads_its_bundled_folder(tmp_path):
    package = tmp_path / "site-packages" / "deconvviz"
    (package / "_bundled" / "weights").mkdir(parents=True)
    assert paths.bundle_root(package) == package / "_bundled"


def test_a_checkout_reads_the_top_level_folders(tmp_path):
    package = tmp_path / "checkout" / "deconvviz"
    package.mkdir(parents=True)
    assert paths.bundle_root(package) == tmp_path / "checkout"


def test_this_copy_finds_its_model_photos_clip_and_subset():
    assert (paths.WEIGHTS / "zf-fmnist" / "zf-fmnist.safetensors").is_file()
    assert len(list((paths.WEIGHTS / "zf-fmnist" / "history").glob("epoch-*.safetensors"))) >= 2
    assert (paths.WEIGHTS / "zf-fmnist-norenorm" / "metrics.csv").is_file()
    assert (paths.PHOTOS / "coffee.png").is_file()
    assert (paths.RESOURCES / "clips" / "demo.mp4").is_file()
    assert (paths.RESOURCES / "fashion-mnist-subset" / "t10k-images-idx3-ubyte.gz").is_file()
    assert (paths.RESOURCES / "correspondence" / "sneakers-parts.json").is_file()
    assert deconvviz.load_model("zf-fmnist").trained


def test_the_readmes_paths_and_photo_names_find_the_bundled_files_from_any_folder(tmp_path, monkeypatch):
    """An installed deconvviz run outside a checkout: ``resources/...`` and ``coffee`` still name the bundled
    files; a file of the user's own wins; a name that is nowhere is returned as given."""
    monkeypatch.chdir(tmp_path)
    assert paths.bundled("resources/clips/demo.mp4") == paths.RESOURCES / "clips" / "demo.mp4"
    assert paths.bundled("coffee") == paths.PHOTOS / "coffee.png"
    assert paths.bundled("rocket.jpg") == paths.PHOTOS / "rocket.jpg"
    (tmp_path / "coffee").write_bytes(b"mine")
    assert paths.bundled("coffee") == tmp_path.joinpath("coffee").relative_to(tmp_path)
    assert str(paths.bundled("nowhere/coffee.png")) == "nowhere/coffee.png"
    assert load_image("chelsea").size == (451, 300)


@pytest.fixture
def no_bundled_weights(tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "WEIGHTS", tmp_path / "weights")
    return tmp_path / "weights" / "zf-fmnist" / "zf-fmnist.safetensors"


def test_a_missing_bundled_weights_file_is_refused_not_random(no_bundled_weights):
    with pytest.raises(DeconvvizError, match="bundled weights file is missing") as err:
        deconvviz.load_model("zf-fmnist")
    assert str(no_bundled_weights) in str(err.value) and "\n" not in str(err.value)
    assert not deconvviz.load_model("zfnet").trained  # an architecture without bundled weights stays random


def test_the_cli_says_it_in_one_line_and_exits_2(no_bundled_weights, capsys):
    assert main(["layers", "--model", "zf-fmnist"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(no_bundled_weights) in err and "random" not in err
