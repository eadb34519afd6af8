"""The app refuses a bundled model whose weights file is missing with a message, and keeps the model it had."""

from deconvviz.models import registry
from deconvviz.session import messages as m

from model_box_helpers import choose_model


def test_missing_bundled_weights_are_a_message_not_random_weights(qtbot, settings, open_window, tmp_path,
                                                                   monkeypatch):
    window = open_window(settings)
    choose_model(qtbot, window, "zfnet", m.ModelLoaded)
    monkeypatch.setattr(registry, "WEIGHTS", tmp_path / "weights")
    said = []
    window.message.connect(said.append)
    choose_model(qtbot, window, "zf-fmnist", m.Failed)
    missing = str(tmp_path / "weights" / "zf-fmnist" / "zf-fmnist.safetensors")
    assert any("bundled weights file is missing" in s and missing in s for s in said), said
    assert window.model_name == "zfnet"
