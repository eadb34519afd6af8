"""Feature evolution (Fig. 4): a slider over a training history's snapshots that switches the session's
weights (the main window follows, on the same layer and channel), and the full evolution grid."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSlider, QSpinBox

from ...figures.evolution import evolution_panel
from ...paths import WEIGHTS
from ...session.recipes import EvolutionRecipe
from ...session.state import ModelChoice
from .base import AnalysisView, real_path, shown_path
from .panel_view import PanelView
from .topk import default_data


def default_history(model_name: str) -> Path:
    """Return the bundled history folder of a model (weights/NAME/history), existing or not."""
    return WEIGHTS / Path(str(model_name)).stem / "history"


class EvolutionView(AnalysisView):
    """Epoch slider (writes the session's model) and the channels x epochs grid of strongest activations."""

    title = "feature evolution (Fig. 4)"
    slug = "evolution"

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.base_model = self.model_args()[0]  # the model the history's snapshots are loaded into
        self.history = QLineEdit(shown_path(default_history(self.base_model)), objectName="history")
        browse = QPushButton("History…")
        browse.clicked.connect(self._browse)
        self.history.editingFinished.connect(self.load_history)
        row = QHBoxLayout()
        row.addWidget(QLabel("history:"))
        row.addWidget(self.history, 1)
        row.addWidget(browse)
        self.body.addLayout(row)
        self.slider = QSlider(Qt.Orientation.Horizontal, objectName="epochSlider")
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setPageStep(1)
        self.epoch_label = QLabel("", objectName="epoch")
        self.epoch_label.setMinimumWidth(200)
        row = QHBoxLayout()
        row.addWidget(QLabel("snapshot:"))
        row.addWidget(self.slider, 1)
        row.addWidget(self.epoch_label)
        self.body.addLayout(row)
        self.channels = QLineEdit("", objectName="channels", placeholderText="channels, e.g. 0,3,5-8")
        self.data = QLineEdit(shown_path(default_data(self.base_model)), objectName="data")
        self.data.setMinimumWidth(220)
        self.limit = QSpinBox(objectName="limit", minimum=0, maximum=10_000_000, value=500, specialValueText="all")
        self.grid_button = QPushButton("Evolution grid", objectName="grid")
        self.grid_button.clicked.connect(self.run_grid)
        row = QHBoxLayout()
        for widget in (QLabel("channels:"), self.channels, QLabel("data:"), self.data, QLabel("images:"),
                       self.limit, self.grid_button):
            row.addWidget(widget, 2 if widget is self.data else 0)
        self.body.addLayout(row)
        self.view = PanelView()
        self.view.setMinimumSize(640, 360)
        self.body.addWidget(self.view, 1)
        self.snapshots: list[tuple[int, Path]] = []
        self._keep: tuple[str, int] | None = None  # the layer/channel to reselect after a snapshot loads
        self._armed = False  # the snapshot has loaded: the next channel the main window picks is replaced
        self.slider.valueChanged.connect(self._on_slider)
        self.session.events.loaded.connect(self._on_loaded)
        self.session.events.channel.connect(self._on_channel)
        self.load_history()

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Training history folder", real_path(self.history.text()))
        if path:
            self.history.setText(path)
            self.load_history()

    def load_history(self) -> None:
        """Read the history folder's snapshots and put them on the slider (the session is not changed)."""
        from ...analyses.evolution import history_snapshots
        from ...errors import DeconvvizError

        self.base_model = self.model_args()[0] or self.base_model
        try:
            self.snapshots = history_snapshots(real_path(self.history.text()))
        except DeconvvizError as exc:
            self.snapshots = []
            self.show_message(str(exc), error=True)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(self.snapshots) - 1))
        self.slider.setValue(self._current_index())
        self.slider.blockSignals(False)
        self.slider.setEnabled(bool(self.snapshots))
        self._label(self.slider.value())
        if self.snapshots:
            self.show_message(f"{len(self.snapshots)} snapshots, epochs "
                              f"{', '.join(str(e) for e, _ in self.snapshots)}: move the slider to load one")

    def _current_index(self) -> int:
        weights = str(self.model_args()[1] or "")
        for i, (_, path) in enumerate(self.snapshots):
            if weights and Path(weights).resolve() == Path(path).resolve():
                return i
        return len(self.snapshots) - 1 if self.snapshots else 0

    def _label(self, i: int) -> None:
        if self.snapshots:
            epoch, path = self.snapshots[i]
            self.epoch_label.setText(f"epoch {epoch} ({i + 1}/{len(self.snapshots)})  {path.name}")
        else:
            self.epoch_label.setText("no snapshots")

    def _on_slider(self, i: int) -> None:
        self.set_snapshot(i)

    def set_snapshot(self, i: int) -> None:
        """Choose snapshot ``i`` as the session's model, keeping its layer and channel."""
        if not self.snapshots:
            return
        if self.slider.value() != i:
            self.slider.setValue(i)  # comes back here through valueChanged
            return
        self._label(i)
        if self.session.layer is not None and self.session.channel is not None:
            self._keep = (self.session.layer, self.session.channel)
        self.session.model = ModelChoice(self.base_model, str(self.snapshots[i][1]), self.backend.device)

    def epoch(self) -> int | None:
        """Return the epoch the slider is on."""
        return self.snapshots[self.slider.value()][0] if self.snapshots else None

    def _on_loaded(self, loaded) -> None:
        self._armed = self._keep is not None and loaded is not None

    def _on_channel(self, _) -> None:
        """After a snapshot loaded, the main window picks its layer's strongest channel: pick the kept one."""
        session = self.session
        if not self._armed or session.channel is None or session.layer != self._keep[0]:
            return
        channel, self._keep, self._armed = self._keep[1], None, False
        record = next((r for r in session.loaded.layers if r.name == session.layer), None)
        if record is not None and record.channels is not None and channel < record.channels:
            session.channel = channel

    # -- the grid -------------------------------------------------------------------------------------
    def chosen_channels(self) -> list[int]:
        """Return the channels typed (default: the session's selected channel)."""
        from ...session.values import parse_int_list

        text = self.channels.text().strip()
        if not text and self.session.channel is not None:
            return [self.session.channel]
        return list(parse_int_list(text))

    def run_grid(self) -> None:
        """Compute the evolution grid of the chosen channels of the session's layer (long: progress/Cancel)."""
        from ...errors import DeconvvizError

        layer = self.session.layer
        try:
            channels = self.chosen_channels()
        except DeconvvizError as exc:
            self.show_message(str(exc), error=True)
            return
        if not self.snapshots:
            self.show_message(f"no snapshots in {self.history.text()}: choose the history folder "
                              "`deconvviz train` wrote", error=True)
            return
        if layer is None:
            self.show_message("choose a layer in the main window first", error=True)
            return
        history, data, limit = real_path(self.history.text()), real_path(self.data.text()), self.limit.value() or None
        recipe = EvolutionRecipe(history=history, data=data, layer=layer, channels=tuple(channels), limit=limit,
                                 out="evolution.png")

        def job(_model, progress, cancel):
            from ...analyses.evolution import feature_evolution
            from ...data.sources import open_images

            evolution = feature_evolution(history, open_images(data, limit), layer, channels, progress=progress,
                                          cancel=cancel)
            return evolution_panel(evolution, recipe.shell())

        self.show_message(f"scanning {len(self.snapshots)} snapshots…")
        self.submit("evolution", job, lambda panel: self._show(panel, recipe), model=False, long=True)

    def _show(self, panel, recipe: EvolutionRecipe) -> None:
        self.view.set_panel(panel)
        self.set_panel(panel, lambda out: replace(recipe, out=out))
        self.show_message(panel.caption)
