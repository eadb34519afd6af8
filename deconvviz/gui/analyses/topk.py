"""Top-9 (Fig. 2): the strongest activations of the session's selected layer/channel over a data set,
their projections beside the image patches under them. The index is built here (a long job: progress,
Cancel) or opened from a file ``deconvviz topk`` wrote."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox

from ...engine.topk import save_index
from ...figures.topk import topk_crops, topk_panel
from ...paths import PHOTOS, RESOURCES
from ...session.recipes import TopkRecipe
from .base import AnalysisView, real_path, shown_path
from .panel_view import PanelView


def default_data(model_name: str) -> Path:
    """Return the bundled data set for a model: the Fashion-MNIST subset for Fashion-MNIST models, else the photos."""
    return RESOURCES / "fashion-mnist-subset" if "fmnist" in str(model_name).lower() else PHOTOS


class TopKView(AnalysisView):
    """Builds or opens a top-k index and shows the selected channel's top-k projections | patches."""

    title = "top-9 patches (Fig. 2)"
    slug = "topk"

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.data = QLineEdit(shown_path(default_data(self.model_args()[0])), objectName="data")
        self.data.setMinimumWidth(260)
        browse = QPushButton("Data…")
        browse.clicked.connect(self._browse_data)
        self.limit = QSpinBox(objectName="limit", minimum=0, maximum=10_000_000, value=0, specialValueText="all")
        self.k = QSpinBox(objectName="k", minimum=1, maximum=64, value=9)
        self.build_button = QPushButton("Build index", objectName="build")
        self.build_button.clicked.connect(self.build)
        open_button = QPushButton("Open index…")
        open_button.clicked.connect(self._ask_open)
        self.save_button = QPushButton("Save index…", enabled=False)
        self.save_button.clicked.connect(self._ask_save)
        row = QHBoxLayout()
        for widget in (QLabel("data:"), self.data, browse, QLabel("images:"), self.limit, QLabel("k:"), self.k,
                       self.build_button, open_button, self.save_button):
            row.addWidget(widget, 1 if widget is self.data else 0)
        self.body.addLayout(row)
        self.heading = QLabel("", objectName="heading")
        self.body.addWidget(self.heading)
        self.view = PanelView()
        self.view.setMinimumSize(620, 320)
        self.body.addWidget(self.view, 1)
        self.index = None
        self.index_args: tuple | None = None  # (model args, data path, limit) the index was built with
        self.shown_channel: int | None = None
        self.checkpoint_dir = Path(tempfile.gettempdir()) / "deconvviz"
        self.session.events.channel.connect(lambda _: self.follow())
        self.show_message("Build an index of the main window's layer over the data set (or open one)")

    # -- the index ------------------------------------------------------------------------------------
    def _browse_data(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Data set folder", real_path(self.data.text()))
        if path:
            self.data.setText(path)

    def source_args(self) -> tuple[str, int | None]:
        """Return (data path, limit or None) as chosen."""
        return real_path(self.data.text()), (self.limit.value() or None)

    def build(self) -> None:
        """Index the main window's layer over the data set (all channels; a long job with progress/Cancel;
        after a Cancel, the same build resumes from where it stopped)."""
        layer = self.session.layer
        if layer is None:
            self.show_message("choose a layer in the main window first", error=True)
            return
        (data, limit), k, model_args = self.source_args(), self.k.value(), self.model_args()
        checkpoint = self.checkpoint_path(model_args, data, limit, layer, k)

        def job(model, progress, cancel):
            from ...analyses.topk import topk_index
            from ...data.sources import open_images

            source = open_images(data, limit)
            index = topk_index(model, source, layer, None, k, progress=progress, cancel=cancel, checkpoint=checkpoint)
            checkpoint.unlink(missing_ok=True)
            return index, source

        self.show_message(f"indexing {layer} over {Path(data).name}…")
        self.submit("index", job, lambda r: self._indexed(*r, (model_args, data, limit)), long=True)

    def checkpoint_path(self, *run) -> Path:
        """Return the file a cancelled build of ``run`` leaves its state in (the next Build resumes from it)."""
        import hashlib

        digest = hashlib.sha1(repr(run).encode()).hexdigest()[:16]
        return Path(self.checkpoint_dir) / f"topk-{digest}.npz"

    def _on_cancelled(self, job) -> None:
        super()._on_cancelled(job)
        if job.name == "index":
            self.show_message("index cancelled: Build index again resumes where it stopped")

    def _indexed(self, index, source, args) -> None:
        self.index, self.source, self.index_args = index, source, args
        self.save_button.setEnabled(True)
        self.show_message(f"indexed {index.layer}: {len(index.channels)} channels over {index.n_images} images")
        self.follow()

    def open_index(self, path: str) -> None:
        """Open an index file (``deconvviz topk`` writes DIR/index.npz) over the data set chosen here."""
        (data, limit), model_args = self.source_args(), self.model_args()

        def job(model, progress, cancel):
            from ...data.sources import open_images
            from ...engine.topk import load_index
            from ...errors import DeconvvizError

            index = load_index(path)
            source = open_images(data, limit)
            if index.n_images > len(source):
                raise DeconvvizError(f"{Path(path).name} indexes {index.n_images} images but {source.name} holds "
                                     f"{len(source)}: choose the data set it was built on")
            return index, source

        self.submit("index", job, lambda r: self._indexed(*r, (model_args, data, limit)), model=False)

    def _ask_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open top-k index", str(Path.home()), "Top-k index (*.npz)")
        if path:
            self.open_index(path)

    def _ask_save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save top-k index", str(Path.home() / "index.npz"),
                                              "Top-k index (*.npz)")
        if path:
            self.save(path)

    def save(self, path: str) -> None:
        """Write the index (what Open index… and ``deconvviz.load_topk_index`` read) to ``path``."""
        if self.index is not None:
            index = self.index
            self.submit("save", lambda _m, _p, _c: save_index(index, path), lambda p: self.show_message(f"wrote {p}"),
                        model=False)

    # -- following the main window --------------------------------------------------------------------
    def follow(self) -> None:
        """Show the top-k of the main window's selected channel, when the index covers its layer."""
        layer, channel = self.session.layer, self.session.channel
        if self.index is None or channel is None or not self.isVisible():
            return
        if layer != self.index.layer:
            self.heading.setText(f"the index holds {self.index.layer}; Build index for {layer}")
            return
        if self.index_args[0] != self.model_args():
            self.heading.setText(f"the index was built with {self.index_args[0][0]}; Build index again")
            return
        index, source = self.index, self.source
        data, limit = self.index_args[1], self.index_args[2]
        # the command's --out is a folder: the export's path without its suffix
        recipe = TopkRecipe(**self.model_options(), data=data, layer=layer, channels=(channel,), k=index.k,
                            limit=limit or None, out="topk")

        def job(model, progress, cancel):
            crops = topk_crops(model, index, channel, lambda i: model.preprocess(source.image(i)))
            if not crops[0]:
                return None
            return topk_panel(model, index, channel, crops, recipe.shell())

        self.submit("crops", job, lambda panel: self._show(channel, panel, recipe))

    def _show(self, channel: int, panel, recipe: TopkRecipe) -> None:
        self.shown_channel = channel
        self.view.set_panel(panel)
        self.set_panel(panel, lambda out: replace(recipe, out=str(Path(out).with_suffix(""))))
        self.heading.setText(f"{self.index.layer} · channel {channel} · top-{self.index.k} of "
                             f"{self.index.n_images} images: projections (left) | image patches (right)")
        self.show_message(panel.caption if panel is not None else f"channel {channel}: no activations indexed")

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.follow()
