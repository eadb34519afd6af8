"""``deconvviz evaluate`` on the bundled model and subset."""

import json

from deconvviz.cli import main
from deconvviz.data.datasets import BUNDLED_SUBSET


def test_evaluate_bundled_model_json(capsys):
    assert main(["evaluate", "--model", "zf-fmnist", "--data", str(BUNDLED_SUBSET), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["images"] == 2000 and result["split"] == "test"
    assert result["top1"] > 0.88 and result["top5"] > result["top1"]


def test_evaluate_missing_split_is_one_line_error(capsys):
    assert main(["evaluate", "--model", "zf-fmnist", "--data", str(BUNDLED_SUBSET), "--split", "train"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("deconvviz: error:") and "none for the train split" in err and err.count("\n") == 1
