"""``deconvviz maps`` writes the channel-grid PNG with the command that regenerates it."""

from __future__ import annotations

from deconvviz.cli import main
from deconvviz.data.images import default_photo
from deconvviz.figures.png import read_facts


def test_maps_writes_a_png_with_its_command(tmp_path, capsys):
    out = tmp_path / "maps.png"
    argv = ["maps", "--model", "zf-fmnist", "--image", str(default_photo()), "--layer", "features.0",
            "--sort", "max", "--filters", "--out", str(out)]
    assert main(argv) == 0
    facts = read_facts(out)
    assert facts["command"] == "deconvviz " + " ".join(argv)
    assert facts["view"] == "filters" and facts["sort"] == "max"


def test_maps_names_a_bad_layer(tmp_path, capsys):
    assert main(["maps", "--model", "zf-fmnist", "--image", str(default_photo()), "--layer", "nope",
                 "--out", str(tmp_path / "x.png")]) == 2
    assert "unknown layer 'nope'" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
