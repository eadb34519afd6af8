"""The app's Analyses menu: one non-modal window per analysis of the paper, each in its own module.

:func:`install_analyses` is the main window's only hook: it adds the menu and opens each view on demand
(one instance per window, kept in ``window.analyses``), giving it the window's session, runner and settings
(never the window itself). The views' jobs stop with the runner when the window closes.
"""

from __future__ import annotations

VIEWS = [  # (module, class, menu text)
    ("topk", "TopKView", "&Top-9 patches (Fig. 2)…"),
    ("evolution", "EvolutionView", "Feature &evolution (Fig. 4)…"),
    ("invariance", "InvarianceView", "&Invariance (Fig. 5)…"),
    ("correspondence", "CorrespondenceView", "&Correspondence (Table 1)…"),
    ("saliency", "SaliencyView", "&Saliency…"),
    ("attribution", "AttributionView", "Attri&bution: Grad-CAM, integrated gradients, SmoothGrad…"),
    ("actmax", "ActmaxView", "&Activation maximisation…"),
    ("filters", "FiltersView", "&Filters (Fig. 6)…"),
    ("sanity", "SanityView", "Sanity chec&k: randomised weights…"),
    ("faithfulness", "FaithfulnessView", "&Deletion / insertion curves…"),
]


def open_view(window, slug: str):
    """Return the window's view ``slug`` (e.g. "topk"), created on first use, shown and raised."""
    import importlib

    if slug not in window.analyses:
        module, cls, _ = next(v for v in VIEWS if v[0] == slug)
        view_class = getattr(importlib.import_module(f"{__name__}.{module}"), cls)
        window.analyses[slug] = view_class(window.session, window.backend, window.settings, parent=window)
    view = window.analyses[slug]
    view.show()
    view.raise_()
    view.activateWindow()
    return view


def install_analyses(window) -> None:
    """Add the Analyses menu to ``window`` (a MainWindow); its actions open the views."""
    window.analyses = {}
    menu = window.menuBar().addMenu("&Analyses")
    menu.setObjectName("analysesMenu")
    for slug, _, text in VIEWS:
        action = menu.addAction(text, lambda s=slug: open_view(window, s))
        action.setObjectName(f"analysis-{slug}")
