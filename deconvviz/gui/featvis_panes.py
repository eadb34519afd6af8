"""Feature visualisation in the main window: the grid's "feature vis" view and the deconvnet pane's picture, wired
to the Qt-free :class:`~deconvviz.session.featvis_tiles.FeatvisTiles` (its jobs run in the analysis views' lane).

Settings: ``featvis/steps`` (default 256), ``featvis/size`` (128), ``featvis/cacheDir`` (default the user's cache
folder, QStandardPaths' CacheLocation, + ``/featvis``), ``featvis/pane`` (compute the pane's picture) and
``featvis/background`` (Analyses > "Feature vis of every layer, in the background": a
:class:`~deconvviz.session.featvis_precompute.FeatvisPrecompute`, its progress in the status bar).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QLabel, QMenu

from ..session.controller import channel_count
from ..session.featvis_precompute import OWNER as BACKGROUND_OWNER
from ..session.featvis_precompute import FeatvisPrecompute
from ..session.featvis_tiles import FeatvisParams, FeatvisTiles


def _int(value, default: int, low: int) -> int:
    try:
        return max(low, int(value))
    except (TypeError, ValueError):
        return default


def cache_folder(settings) -> Path:
    """Return the cache folder: the setting ``featvis/cacheDir``, else the user's cache folder's ``featvis``."""
    chosen = settings.value("featvis/cacheDir")
    if chosen:
        return Path(str(chosen)).expanduser()
    return Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.CacheLocation)) / "featvis"


def params(settings) -> FeatvisParams:
    """Return the pictures' parameters from the settings (``featvis/steps``, ``featvis/size``)."""
    return FeatvisParams(_int(settings.value("featvis/steps"), 256, 1), _int(settings.value("featvis/size"), 128, 8))


class FeatvisPanes:
    """Keeps ``window``'s grid and pane in step with a FeatvisTiles (``window.featvis``)."""

    def __init__(self, window) -> None:
        self.w = window
        backend = window.backend
        tiles = self.tiles = FeatvisTiles(backend.submit, backend.cancel, backend.generations)
        tiles.params = lambda: params(window.settings)
        tiles.folder = lambda: cache_folder(window.settings)
        tiles.shown = lambda channel, rgb: window.grid.set_picture(channel, rgb)
        tiles.pane = lambda channel, rgb: window.deconv.show_featvis(rgb)
        tiles.state = self._state
        backend.resultReady.connect(tiles.on_result)
        backend.progress.connect(tiles.on_progress)
        self.background = FeatvisPrecompute(tiles, main_busy=lambda: backend.busy("main"),
                                            others_waiting=self._views_waiting)
        self.background_state = QLabel("", objectName="featvisBackground")
        window.statusBar().addPermanentWidget(self.background_state)
        self.background.state = self.background_state.setText
        backend.resultReady.connect(self.background.on_result)
        backend.progress.connect(self.background.on_progress)
        menu = window.menuBar().findChild(QMenu, "analysesMenu")
        menu.addSeparator()
        action = self.background_action = menu.addAction("Feature vis of every layer, in the background")
        action.setObjectName("featvis-background")
        action.setCheckable(True)
        action.setChecked(str(window.settings.value("featvis/background", "false")).lower() == "true")
        action.toggled.connect(self._background_toggled)
        window.grid_view.currentIndexChanged.connect(lambda i: self.set_view("featvis" if i else "maps"))
        pane = window.deconv.compute_featvis
        pane.setChecked(str(window.settings.value("featvis/pane", "false")).lower() == "true")
        window.deconv.featvisToggled.connect(self._pane_toggled)
        events = window.session.events
        events.loaded.connect(self._on_loaded)
        events.layer.connect(lambda layer: self.refresh())
        events.channel.connect(lambda channel: self._choose())

    def featvis_on(self) -> bool:
        """Return whether the grid shows feature visualisations."""
        return self.w.grid.view == "featvis"

    def set_view(self, view: str) -> None:
        """Show the grid's maps ("maps") or feature visualisations ("featvis")."""
        self.w.grid.set_view(view)
        self.refresh()

    def export_options(self) -> tuple:
        """Return the grid export's options for what the grid shows: its pictures in feature-vis view (not the
        filters), else none (the maps)."""
        grid = self.w.grid
        shown = self.tiles.snapshot(grid.order, grid.sort) if self.featvis_on() and not grid.show_filters else None
        return (("featvis", shown),) if shown is not None else ()

    def refresh(self) -> None:
        """Ask for the session's layer's pictures when the grid shows them; stop the batch when it does not."""
        s, w = self.w.session, self.w
        count = channel_count(next((r for r in s.loaded.layers if r.name == s.layer), None)) \
            if s.loaded is not None and s.layer is not None else None
        if not self.featvis_on() or not count:
            self.tiles.hide()
            w.grid.clear_pictures()
            w.featvis_state.hide()
            return
        w.featvis_state.show()
        if self.tiles.layer != s.layer:
            w.grid.clear_pictures()
        self.tiles.show(s.layer, count)
        self._choose()

    def _on_loaded(self, loaded) -> None:
        self.tiles.model(loaded, self.w.session.model_args() if loaded is not None else ("", None))
        self.w.grid.clear_pictures()
        counts = [(r.name, channel_count(r)) for r in loaded.layers] if loaded is not None else []
        layers = [(name, count) for name, count in counts if count]
        self.background.on = self.background_action.isChecked()
        self.background.model(loaded, layers)

    def _views_waiting(self) -> bool:
        """Return whether a job other than the background's waits in the views' lane (any thread)."""
        backend = self.w.backend
        return backend.pending() - backend.pending("main") - backend.pending(BACKGROUND_OWNER) > 0

    def _background_toggled(self, on: bool) -> None:
        self.w.settings.setValue("featvis/background", "true" if on else "false")
        self.background.enable(on)

    def _choose(self) -> None:
        s = self.w.session
        self.tiles.choose(s.layer, s.channel, self.w.deconv.compute_featvis.isChecked())

    def _pane_toggled(self, on: bool) -> None:
        self.w.settings.setValue("featvis/pane", "true" if on else "false")
        self._choose()

    def _state(self, text: str) -> None:
        self.w.featvis_state.setText(text)


def install_featvis(window) -> None:
    """Give ``window`` (a MainWindow) its feature visualisations: ``window.featvis`` (a FeatvisPanes)."""
    window.featvis = FeatvisPanes(window)
