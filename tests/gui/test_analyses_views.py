"""The analysis views: the Analyses menu, and views that need only a session and the runner (no main window)."""

from __future__ import annotations

from analyses_helpers import menu_action
from deconvviz.gui.analyses import VIEWS
from deconvviz.gui.analyses.filters import FiltersView
from deconvviz.gui.backend import Backend
from deconvviz.session.state import ModelFacts, Session


def test_the_menu_lists_every_view(window):
    for slug, _, text in VIEWS:
        assert menu_action(window, slug).text() == text
    assert window.analyses == {}  # nothing is built before it is asked for


def test_a_view_works_on_a_bare_session_and_the_shared_runner(qtbot):
    """A view observes the session (here: no main window at all) and computes on the runner's device."""
    backend = Backend("cpu", threaded=False)
    session = Session()
    view = FiltersView(session, backend)
    qtbot.addWidget(view)
    assert view.last_message == "no model loaded yet" and view.panel is None
    statuses = []
    session.events.status.connect(statuses.append)
    with qtbot.waitSignal(view.done, timeout=30000):
        session.loaded = ModelFacts("zf-fmnist", None, "", "CPU", (), (), (28, 28), None)
    assert view.panel is not None and view.panel.pixels.ndim == 3
    assert statuses[-1] == view.last_message == view.panel.caption  # the view's messages go to the session
    assert view.model() is backend.compute_for(view.slug).analysis_model("zf-fmnist", None)
    assert str(view.model().device) == backend.device
