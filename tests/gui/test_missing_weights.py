"""The app refuses a bundled model whose weights file is missing with a message, and keeps the model it had."""

from deconvviz.models import registry
from deconvviz.session import messages as m


def _choose(qtbot, window, name, kind):
    index = window.model_chooser.findText(name)
    assert index >= 0, name
    window.model_chooser.setCurrentIndex(index)
    with qtbot.waitSignal(window.shown, timeout=30000, check_params_cb=lambda r: isinstance(r, kind)):
        window.model_chooser.activated.emit(index)


def test_missing_bundled_weights_are_a_message_not_random_weights(qtbot, settings, open_window, tmp_path,
                                                                   monkeypatch):
    window = open_window(settings)
    _choose(qtbot, window, "zfnet", m.ModelLoaded)
    monkeypatch.setattr(registry, "WEIGHTS", tmp_path / "weights")
    said = []
    window.message.connect(said.append)
    _choose(qtbot, window, "zf-fmnist", m.Failed)
    missing = str(tmp_path / "weights" / "zf-fmnist" / "zf-fmnist.safetensors")
    assert any("bundled weights file is missing" in s and missing in s for s in said), said
    assert window.model_name == "zfnet"
