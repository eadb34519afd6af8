"""The main window's panes as the controller's :class:`~deconvviz.session.controller.Screen`: each method
paints one kind of result into the widgets (the session already holds what it changed)."""

from __future__ import annotations

from ..figures.overlay import map_levels, sensitivity_rgb
from ..session import messages as m
from ..session.controller import Screen


class PaneScreen(Screen):
    """Paints results into ``window``'s panes (a MainWindow: its tree, grid, deconv, occlusion, ... attributes)."""

    def __init__(self, window) -> None:
        self.w = window

    @property
    def session(self):
        return self.w.session

    def class_names(self) -> tuple:
        """Return the loaded model's class names."""
        return self.session.loaded.class_names if self.session.loaded else ()

    def model_loaded(self, r: m.ModelLoaded) -> None:
        w = self.w
        w.device_label.setText(f"device: {r.device}")
        w.model_chooser.setEditText(r.request.name)
        w.settings.setValue("model", r.request.name)
        w.settings.setValue("weights", r.request.weights or "")
        w.occlusion.set_input_size(*r.input_size)
        w.deconv.set_max_pooling(any("MaxPool" in rec.type_name for rec in r.layers))
        w.canvas.remove_square()
        w.banner.hide()
        self.title()
        w.tree.blockSignals(True)  # the controller chooses the layer
        w.tree.set_layers(r.layers)
        w.tree.blockSignals(False)
        w.grid.clear()
        w.deconv.clear()

    def image_loaded(self, r: m.ImageLoaded, keep: bool) -> None:
        w = self.w
        if r.frame is None:
            w.settings.setValue("image", r.path)
        w.canvas.set_image(r.pixels, r.fill)
        if not keep:
            w.canvas.remove_square()
        w.occlusion.set_running(False)
        w.occlusion.clear_map.setEnabled(False)
        w.occlusion.map_info.setText("")
        w.occlusion.show_answer(None)
        if not keep:
            w.occlusion.set_classes(self.class_names() or [f"class {i}" for i in range(len(r.probs))],
                                    self.session.target)
        w.table.set_probabilities(r.probs, self.class_names())
        self.show_target(r.probs)
        self.map_total(None)
        w.banner.hide()
        self.title()

    def maps(self, r: m.MapsReady, channel: int) -> None:
        w = self.w
        w.grid.blockSignals(True)
        w.grid.set_maps(r.maps, r.maxima, r.levels, r.filters, selected=None)
        w.grid.select(channel)
        w.grid.blockSignals(False)
        w.filters.setEnabled(r.filters is not None)
        if r.filters is None:
            w.filters.setChecked(False)
        rec = w.controller.layers.get(r.request.layer)
        shape = rec.layout.describe().replace("x", "×") if rec else ""  # as the grid reads it: 12×8×8 (H×W×C)
        w.grid_title.setText(f"{r.request.layer} · {rec.type_name if rec else ''} · {shape} · "
                             f"levels {r.levels[0]:.3g}…{r.levels[1]:.3g}")

    def projection(self, r: m.ProjectionReady) -> None:
        self.w.deconv.show_result(r)

    def occluded(self, r: m.Occluded) -> None:
        self.w.table.set_probabilities(r.probs, self.class_names(), r.approximate)
        self.w.occlusion.show_answer(r.approximate, r.level, r.request.approximate)
        self.show_target(r.probs)
        self.map_total(r.map_total)

    def frame(self, r: m.FrameAnalysed) -> None:
        w = self.w
        w.video_rate.answered += 1
        w.canvas.set_image(r.pixels, self.session.image.fill)
        probs = r.occluded.probs if r.occluded is not None else r.probs
        w.table.set_probabilities(probs, self.class_names())
        self.show_target(probs)
        self.map_total(r.occluded.map_total if r.occluded is not None else None)

    def occlusion_map(self, r: m.MapReady) -> None:
        w, req = self.w, r.request
        height, width = self.session.image.pixels.shape[:2]
        levels = map_levels(r.prob)
        w.canvas.set_heat(sensitivity_rgb(r.prob, height, width, req.patch, req.stride, *levels), levels)
        w.occlusion.set_running(False)
        w.occlusion.clear_map.setEnabled(True)
        kind = "exact" if r.approximation is None else \
            f"approximate ({r.approximation}; {r.computed:.0%} of positions computed, the rest interpolated)"
        w.occlusion.map_info.setText(f"{kind} map, {req.patch} px square, stride {req.stride}")

    def map_running(self, on: bool) -> None:
        self.w.occlusion.set_running(on)

    def map_progress(self, done: int, total: int) -> None:
        self.w.occlusion.progress.setMaximum(total)
        self.w.occlusion.progress.setValue(done)

    def error(self, text: str) -> None:
        self.w.last_error = text
        self.w.banner.setText(text)
        self.w.banner.show()

    def model_reverted(self, name: str) -> None:
        self.w.model_chooser.setEditText(name)

    # -- pieces the window shares ---------------------------------------------------------------------
    def show_target(self, probs) -> None:
        """Show p(target) of ``probs`` (the probabilities on screen)."""
        target = self.session.target
        if probs is not None and target < len(probs):
            self.w.occlusion.target_prob.setText(f"{float(probs[target]):.4f}")

    def map_total(self, total: float | None) -> None:
        """Show the selected feature map's total activation (– when none)."""
        s = self.session
        where = f"  ({s.layer}, channel {s.channel})" if s.layer is not None and s.channel is not None else ""
        self.w.occlusion.map_total.setText("–" if total is None else f"{total:.4g}{where}")

    def title(self) -> None:
        """Set the window title: deconvviz — model (random weights) — input."""
        loaded, image = self.session.loaded, self.session.image
        model = "" if loaded is None else f"{loaded.name} (random weights)" if loaded.random_weights else loaded.name
        self.w.setWindowTitle(" — ".join(p for p in ["deconvviz", model, image.name if image else ""] if p))
