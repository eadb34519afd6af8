import json

import pytest

from deconvviz.analyses.correspondence import read_parts
from deconvviz.engine.receptive_field import Box
from deconvviz.errors import DeconvvizError


def _parts(tmp_path, spec):
    path = tmp_path / "parts.json"
    path.write_text(spec if isinstance(spec, str) else json.dumps(spec))
    return path


def test_parts_are_read_per_image_in_order(tmp_path):
    path = _parts(tmp_path, {"b.png": {"eye": [1, 2, 3, 4]}, "dir/a.png": {"eye": [0, 0, 28, 28]}})
    parts = read_parts(path, ["dir/a.png", "x/b.png"], 28, 28)
    assert parts == {"eye": [Box(0, 0, 28, 28), Box(1, 2, 3, 4)]}


@pytest.mark.parametrize("spec,message", [
    ("{not json", "not a readable JSON"),
    ({"a.png": {"eye": [1, 2, 3, 4]}}, "no parts for image b.png"),
    ({"a.png": {"eye": [1, 2, 3, 4]}, "b.png": {"nose": [1, 2, 3, 4]}}, "same parts"),
    ({"a.png": {"eye": [1, 2, 3]}, "b.png": {"eye": [1, 2, 3, 4]}}, "four integers"),
    ({"a.png": {"eye": [5, 2, 5, 4]}, "b.png": {"eye": [1, 2, 3, 4]}}, "empty or outside"),
    ({"a.png": {"eye": [1, 2, 3, 4]}, "b.png": {"eye": [1, 20, 3, 29]}}, "outside the 28x28 input"),
])
def test_bad_parts_files_are_refused(tmp_path, spec, message):
    with pytest.raises(DeconvvizError, match=message):
        read_parts(_parts(tmp_path, spec), ["a.png", "b.png"], 28, 28)
