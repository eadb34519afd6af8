"""Choosing a model in the main window's model box, as a user does, and waiting for its answer."""

from deconvviz.session import messages as m


def choose_model(qtbot, window, text, kind=m.ModelLoaded):
    """Pick the model box's entry ``text`` and wait until the window shows a result of type ``kind``."""
    index = window.model_chooser.findText(text)
    assert index >= 0, text
    window.model_chooser.setCurrentIndex(index)
    with qtbot.waitSignal(window.shown, timeout=30000, check_params_cb=lambda r: isinstance(r, kind)):
        window.model_chooser.activated.emit(index)
