"""The loss landscape: the loss over a grid of two chosen parameter entries around their
current values, with contour lines, the optimizer's path and the current point.

The grid is computed in slices from a zero-interval QTimer (SLICE_SECONDS per tick), so the
window stays responsive. Bound to a TrainingController, the view follows by itself: every
step extends the path (redrawn at most every REDRAW_MS), and once the grid no longer describes
the session (a step, an edit, a reset) it is recomputed around the new point, at most every
FOLLOW_SECONDS — or less often, so that following takes at most FOLLOW_SHARE of the time
(a grid costs a few hundred milliseconds: during Run that time is training's) — keeping the
old picture until the new one is complete. A hidden view waits until it is shown.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, QTimer
from PySide6.QtGui import QPainter, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QStackedLayout,
    QVBoxLayout,
    QWidget,
)

from bpviz.engine.session import Session
from bpviz.model.landscape import GRID, Landscape, ParamRef, resolve, scalar_params
from bpviz.ui.plot_widget import plot_widget
from bpviz.ui.theme import Theme, current_theme, hint_label, style_plot

SLICE_SECONDS = 0.004  # grid work per timer tick: well inside one frame
REDRAW_MS = 50  # the path is redrawn at most this often while training
FOLLOW_SECONDS = 1.5  # an outdated grid is recomputed around the new point at most this often
FOLLOW_SHARE = 0.05  # ... and at most this share of the time goes into recomputing it
CONTOURS = 8  # contour levels, evenly spaced over the colour range
LOG_RATIO = 100.0  # beyond this max/min ratio of a positive loss, colours follow log10(loss)
LOG_DECADES = 4  # ... down to this many decades below the top of the colour range
COLOUR_MAP = "viridis"  # perceptually uniform; dark = low loss
PATH_COLOUR = "#ffffff"  # on a dark shadow: readable on both ends of the colour map
PATH_SHADOW = (0, 0, 0, 150)
POINT_COLOUR = "#d50000"
CONTOUR_PEN = (255, 255, 255, 110)
DONE_TEXT = "Loss around the current point"
HINT = "Needs at least two trainable numbers"


class _SmoothImage(pg.ImageItem):
    def paint(self, p: QPainter, *args: object) -> None:
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        super().paint(p, *args)


def loss_image(values: np.ndarray, levels: tuple[float, float]) -> np.ndarray:
    """RGBA bytes of the grid through the colour map; NaN (not computed, not finite) clear."""
    lo, hi = levels
    scale = (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)
    finite = np.isfinite(scale)
    rgba = pg.colormap.get(COLOUR_MAP).map(np.clip(np.where(finite, scale, 0.0), 0, 1), "byte")
    rgba = np.array(rgba, dtype=np.uint8).reshape(*values.shape, 4)
    rgba[~finite, 3] = 0
    return rgba


def colour_levels(values: np.ndarray) -> tuple[float, float] | None:
    """Lowest loss to the 98th percentile: one far-off spike does not wash out the picture."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return None
    return float(finite.min()), float(np.quantile(finite, 0.98))


def display_values(values: np.ndarray) -> tuple[np.ndarray, bool]:
    """What the colours show: log10 of the loss when it is positive and spans more than
    LOG_RATIO (a minimum near zero would otherwise swallow the picture), else the loss."""
    finite = values[np.isfinite(values)]
    if not finite.size or finite.min() <= 0:
        return values, False
    top = float(np.quantile(finite, 0.98))
    if top <= LOG_RATIO * finite.min():
        return values, False
    with np.errstate(invalid="ignore"):  # NaN stays NaN
        return np.log10(np.maximum(values, top / 10**LOG_DECADES)), True


def contour_levels(values: np.ndarray, count: int = CONTOURS) -> list[float]:
    """Evenly spaced inside the colour range (quantile levels crowd onto flat plateaus)."""
    levels = colour_levels(values)
    if levels is None or levels[0] == levels[1]:
        return []
    return [float(v) for v in np.linspace(*levels, count + 2)[1:-1]]


class LandscapeView(QWidget):
    """Two parameter choosers over a heat image of the loss, or a hint saying why there is none."""

    def __init__(self, parent: QWidget | None = None, grid: int = GRID) -> None:
        super().__init__(parent)
        self.grid = grid
        self.landscape = Landscape()
        self.session: Session | None = None
        self.controller: Any = None

        self.combo_a = QComboBox()
        self.combo_b = QComboBox()
        for combo, axis in ((self.combo_a, "horizontal"), (self.combo_b, "vertical")):
            combo.setEditable(True)  # any entry of a large matrix can be typed: h1.W[12,3]
            combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            combo.setToolTip(f"The parameter entry on the {axis} axis")
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.activated.connect(self._choice_changed)
            combo.lineEdit().editingFinished.connect(self._choice_changed)
        choosers = QHBoxLayout()
        choosers.setContentsMargins(4, 4, 4, 0)
        choosers.addWidget(QLabel("x:"))
        choosers.addWidget(self.combo_a, 1)
        choosers.addWidget(QLabel("y:"))
        choosers.addWidget(self.combo_b, 1)

        self.plot = plot_widget()
        style_plot(self.plot, current_theme())
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        item = self.plot.getPlotItem()
        self.image = _SmoothImage()  # col-major: image[i, j] is at (xs[i], ys[j])
        self.image.setZValue(-10)
        self.contours: list[pg.IsocurveItem] = []
        self.path_shadow = pg.PlotDataItem(pen=pg.mkPen(PATH_SHADOW, width=4))
        self.path_curve = pg.PlotDataItem(pen=pg.mkPen(PATH_COLOUR, width=2))
        self.start_marker = pg.ScatterPlotItem(
            symbol="o", size=8, pen=pg.mkPen("k", width=1.5), brush=pg.mkBrush("w")
        )
        self.point_marker = pg.ScatterPlotItem(
            symbol="star", size=18, pen=pg.mkPen("w", width=1.5), brush=pg.mkBrush(POINT_COLOUR)
        )
        items = (self.image, self.path_shadow, self.path_curve, self.start_marker)
        for it in (*items, self.point_marker):
            item.addItem(it)
        self.path_shadow.setZValue(9)
        self.path_curve.setZValue(10)
        self.start_marker.setZValue(11)
        self.point_marker.setZValue(12)
        item.getViewBox().disableAutoRange()
        self.plot.scene().sigMouseMoved.connect(self._hover)

        self.status = QLabel()
        self.status.setContentsMargins(6, 0, 6, 4)
        self.status.setProperty("role", "muted")
        self.status.setWordWrap(True)

        page = QWidget()
        column = QVBoxLayout(page)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addLayout(choosers)
        column.addWidget(self.plot, 1)
        column.addWidget(self.status)
        self.hint = hint_label()
        self._stack = QStackedLayout(self)
        self._stack.setContentsMargins(0, 0, 0, 0)
        self._stack.addWidget(page)
        self._stack.addWidget(self.hint)
        self.setMinimumSize(200, 200)

        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._compute_slice)
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(REDRAW_MS)
        self._redraw_timer.timeout.connect(self._follow)
        self._labels: list[str] = []
        self._shown_refs: tuple[ParamRef, ParamRef] | None = None  # what the image shows
        self._finished_at = 0.0
        self._grid_seconds = 0.0  # computing time of the grid under way (or the last one)
        self._grid_stamp: tuple | None = None  # graph version, optimizer step, point of the grid
        self.log_colours = False  # whether the image shows log10(loss)
        self._stale = False
        self._show_hint("No scene loaded.")

    def theme_changed(self, theme: Theme) -> None:
        """The plot's background and axes in the theme's colours (called by `apply_theme`)."""
        style_plot(self.plot, theme)

    def sizeHint(self) -> QSize:
        return QSize(320, 320)

    # ---- binding -------------------------------------------------------------------------
    def set_controller(self, controller: Any) -> None:
        """Follow a TrainingController: its session, each step, and a reset of training."""
        if self.controller is not None:
            self.controller.trained.disconnect(self._on_trained)
            self.controller.history_reset.disconnect(self._on_history_reset)
            self.controller.values_changed.disconnect(self._schedule_follow)
        self.controller = controller
        if controller is not None:
            controller.trained.connect(self._on_trained)
            controller.history_reset.connect(self._on_history_reset)
            controller.values_changed.connect(self._schedule_follow)  # e.g. after an edit
        self.set_session(controller.session if controller is not None else None)

    def set_session(self, session: Session | None) -> None:
        self.session = session
        self.landscape = Landscape()
        self._shown_refs = None
        self._labels = []
        self.redraw()

    def _on_trained(self, result: object = None) -> None:
        # a step whose parameters are no longer current has no point to add
        step = getattr(result, "step", None)
        if step is None or self.session is None or step == self.session.trainer.step_count:
            self.record_point()

    def _on_history_reset(self) -> None:
        if self.session is not None:
            self.landscape.clear_path(self.session)
        self.redraw()

    # ---- the grid ------------------------------------------------------------------------
    def redraw(self) -> None:
        """Recompute the grid around the current point (after a step, on pause, on a new
        choice). Never raises: problems are shown in the view."""
        if not self.isVisible():
            self._stale = True
            return
        self._stale = False
        try:
            self._start()
        except Exception as e:  # noqa: BLE001 - a view shows what went wrong, it does not crash
            self._timer.stop()
            self._set_status(f"Cannot compute the landscape: {e}", error=True)

    def _start(self) -> None:
        s = self.session
        if s is None:
            self._show_hint("No scene loaded.")
            return
        self._fill_choosers(scalar_params(s))
        if len(self._labels) < 2:
            self._show_hint("This graph has fewer than two trainable numbers to vary.")
            return
        self._stack.setCurrentIndex(0)
        a, b = resolve(s, self.combo_a.currentText()), resolve(s, self.combo_b.currentText())
        for ref, combo in ((a, self.combo_a), (b, self.combo_b)):
            if ref is None:
                self._timer.stop()
                self._set_status(f"No parameter entry '{combo.currentText()}'.", error=True)
                return
        if a == b:
            self._timer.stop()
            self._set_status("Choose two different parameters.", error=True)
            return
        self.landscape.start(s, a, b, n=self.grid)
        self._grid_seconds = 0.0
        self._grid_stamp = (s.graph.version, s.trainer.step_count, self.landscape.point(s))
        if self._shown_refs != (a, b):
            self._shown_refs = None  # the old image is of other axes: show the new one grow
            self.image.clear()
            self._clear_contours()
            item = self.plot.getPlotItem()
            item.setLabel("bottom", a.label)
            item.setLabel("left", b.label)
        self._draw_path()
        self._set_status(self._progress_text())
        self._timer.start()

    def _fill_choosers(self, refs: list[ParamRef]) -> None:
        labels = [r.label for r in refs]
        if labels == self._labels:
            return
        keep = [c.currentText() for c in (self.combo_a, self.combo_b)] if self._labels else []
        self._labels = labels
        for i, combo in enumerate((self.combo_a, self.combo_b)):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(labels)
            if keep and keep[i] in labels:
                combo.setCurrentText(keep[i])
            elif i < len(labels):
                combo.setCurrentIndex(i)
            combo.blockSignals(False)

    def _choice_changed(self, *_args: object) -> None:
        a, b = self.landscape.a, self.landscape.b
        texts = (self.combo_a.currentText(), self.combo_b.currentText())
        if a is None or b is None or texts != (a.label, b.label):
            self.redraw()

    def _compute_slice(self) -> None:
        s = self.session
        if s is not None and s.graph.version != self.landscape.graph_version:
            self.redraw()  # the graph was edited under the grid: start again on the new one
            return
        try:
            started = time.perf_counter()
            done = self.landscape.compute_some(SLICE_SECONDS)
            self._grid_seconds += time.perf_counter() - started
        except Exception as e:  # noqa: BLE001
            self._timer.stop()
            self._set_status(f"Cannot compute the landscape: {e}", error=True)
            return
        if done:
            self._timer.stop()
            self._finished_at = time.monotonic()
            if self.landscape.error:
                self._set_status(f"Cannot compute the loss: {self.landscape.error}", error=True)
                return
            self._shown_refs = (self.landscape.a, self.landscape.b)
            self._draw_grid(contours=True)
            self._set_status(self._done_text())
        else:
            if self._shown_refs is None:
                self._draw_grid(contours=False)  # the first picture of these axes grows row by row
            self._set_status(self._progress_text())

    def _draw_grid(self, contours: bool) -> None:
        L = self.landscape
        shown, self.log_colours = display_values(L.values)
        finite = shown[np.isfinite(shown)]
        levels = colour_levels(shown)
        if levels is not None:
            self.image.setImage(loss_image(shown, levels), autoLevels=False)
        else:
            self.image.clear()
        dx = (L.xs[-1] - L.xs[0]) / (len(L.xs) - 1)
        dy = (L.ys[-1] - L.ys[0]) / (len(L.ys) - 1)
        rect = QRectF(L.xs[0] - dx / 2, L.ys[0] - dy / 2, dx * len(L.xs), dy * len(L.ys))
        self.image.setRect(rect)
        self.plot.getPlotItem().setRange(rect=rect, padding=0)
        self._clear_contours()
        if contours and finite.size:
            data = np.where(np.isfinite(shown), shown, float(finite.max()))
            for level in contour_levels(shown):
                iso = pg.IsocurveItem(data, level, pen=pg.mkPen(CONTOUR_PEN, width=1))
                iso.setParentItem(self.image)  # in the image's pixel coordinates ...
                iso.setPos(0.5, 0.5)  # ... where grid point i is the centre of pixel i
                self.contours.append(iso)

    def _clear_contours(self) -> None:
        for iso in self.contours:
            iso.setParentItem(None)
            if iso.scene() is not None:
                iso.scene().removeItem(iso)
        self.contours = []

    # ---- the path ------------------------------------------------------------------------
    def record_point(self) -> None:
        """Extend the path with the session's current point (cheap; redrawn at display rate)."""
        if self.session is None:
            return
        self.landscape.record(self.session)
        self._schedule_follow()

    def _schedule_follow(self) -> None:
        if not self._redraw_timer.isActive():
            self._redraw_timer.start(REDRAW_MS)

    def _follow(self) -> None:
        """Redraw the path; recompute the grid once it no longer describes the session (the
        other parameters moved too, so the surface did), at most every FOLLOW_SECONDS and
        so that recomputing takes at most FOLLOW_SHARE of the time."""
        self._draw_path()
        if self._timer.isActive() or not self._grid_outdated():
            return
        every = max(FOLLOW_SECONDS, self._grid_seconds / FOLLOW_SHARE)
        wait = every - (time.monotonic() - self._finished_at)
        if wait <= 0:
            self.redraw()
        else:  # training stopped soon after the last grid: still catch up with where it ended
            self._redraw_timer.start(max(REDRAW_MS, int(wait * 1000)))

    def _grid_outdated(self) -> bool:
        s, L = self.session, self.landscape
        if s is None or not L.started or not self.isVisible():
            return False
        stamp = (s.graph.version, s.trainer.step_count, L.point(s))
        return stamp != self._grid_stamp

    def show_moment(self, params: dict | None) -> None:
        """Put the current-point marker where `params` (a timeline snapshot's) place it;
        None returns to the live point."""
        self._moment = params
        self._draw_path()

    def _draw_path(self) -> None:
        path = np.array(self.landscape.path, dtype=float).reshape(-1, 2)
        self.path_shadow.setData(path[:, 0], path[:, 1], connect="finite")
        self.path_curve.setData(path[:, 0], path[:, 1], connect="finite")
        self.start_marker.setData(path[:1, 0], path[:1, 1])
        moment, L = getattr(self, "_moment", None), self.landscape
        if (
            moment is not None
            and L.a is not None
            and L.a.exists_in(moment)
            and L.b.exists_in(moment)
        ):
            p = (L.a.get(moment), L.b.get(moment))
        else:
            p = self.landscape.point(self.session) if self.session is not None else None
        if p is None and len(path):
            p = tuple(path[-1])
        self.point_marker.setData([p[0]] if p else [], [p[1]] if p else [])
        if p is not None and self.landscape.a is not None:
            self.point_marker.setToolTip(
                f"{self.landscape.a.label} = {p[0]:.4g}, {self.landscape.b.label} = {p[1]:.4g}"
            )

    def _hover(self, pos: object) -> None:
        """The loss at the grid point under the cursor, as the plot's tooltip."""
        self.plot.setToolTip(self.loss_text_at(self.plot.getPlotItem().vb.mapSceneToView(pos)))

    def loss_text_at(self, point: object) -> str:
        L = self.landscape
        if not L.started or L.a is None or len(L.xs) < 2:
            return ""
        x, y = point.x(), point.y()
        i = int(round((x - L.xs[0]) / (L.xs[1] - L.xs[0])))
        j = int(round((y - L.ys[0]) / (L.ys[1] - L.ys[0])))
        if not (0 <= i < len(L.xs) and 0 <= j < len(L.ys)):
            return ""
        v = L.values[i, j]
        loss = "not computed or not finite" if math.isnan(v) else f"{v:.5g}"
        return f"{L.a.label} = {L.xs[i]:.4g}\n{L.b.label} = {L.ys[j]:.4g}\nloss {loss}"

    # ---- status --------------------------------------------------------------------------
    def _progress_text(self) -> str:
        return f"Computing… {math.floor(self.landscape.progress * 100)} %"

    def _done_text(self) -> str:
        finite = self.landscape.values[np.isfinite(self.landscape.values)]
        if not finite.size:
            return f"{DONE_TEXT}: not finite anywhere on the grid"
        scale = "log colours, " if self.log_colours else ""
        return f"{DONE_TEXT} (loss {finite.min():.4g} – {finite.max():.4g}; {scale}dark is low)"

    def _set_status(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setProperty("role", "error" if error else "muted")
        self.status.style().unpolish(self.status)  # a changed property needs a re-polish
        self.status.style().polish(self.status)

    def _show_hint(self, reason: str) -> None:
        self._timer.stop()
        self.hint.setText(f"<b>{HINT}</b><br><br>{reason}")
        self._stack.setCurrentWidget(self.hint)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale or self._grid_outdated():
            self.redraw()

    # ---- reading back (tests) ------------------------------------------------------------
    @property
    def computing(self) -> bool:
        return self._timer.isActive()

    def status_text(self) -> str:
        return self.status.text()

    def hint_text(self) -> str:
        return self.hint.text() if self._stack.currentWidget() is self.hint else ""

    def axis_labels(self) -> tuple[str, str]:
        item = self.plot.getPlotItem()
        return item.getAxis("bottom").labelText, item.getAxis("left").labelText
