"""What the model predicts over its input space: a decision boundary for 2-D classification
data, or the fitted curve for 1-D regression data.

The window calls `redraw()` about ten times a second while training, so one redraw is one
batched forward pass over a small grid plus a numpy colour mapping, nothing more; the view's
range stays fixed to the data so the picture does not jump while the model learns.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QPainter, QShowEvent
from PySide6.QtWidgets import QStackedLayout, QWidget

from bpviz.engine.datasets import Dataset
from bpviz.engine.errors import BpvizError
from bpviz.engine.session import Session
from bpviz.model.plane import CURVE_POINTS, PAD, cell_centres, data_box
from bpviz.ui.plot_widget import plot_widget
from bpviz.ui.theme import Theme, current_theme, hint_label, style_plot

GRID = 80  # cells per side of the decision grid
LOGIT_CLIP = 3.0  # scores beyond ±3 get the full class colour
SHADE = 0.6  # how far the background goes from white towards a class colour
HINT = "Needs 2-D inputs or 1-D regression data"
# Okabe–Ito (colour-blind safe), then Paul Tol's muted tones for more than eight classes
CLASS_COLOURS = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
    "#f0e442",
    "#999999",
    "#882255",
    "#44aa99",
)
REGRESSION_DATA = "#0072b2"
REGRESSION_MODEL = "#d55e00"
NEUTRAL_POINT = "#9aa0a6"
_RGB = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in CLASS_COLOURS], float)
_WHITE = np.array([255.0, 255.0, 255.0])


def class_colour(k: int) -> str:
    return CLASS_COLOURS[k % len(CLASS_COLOURS)]


def _shade(colours: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """White blended towards `colours` (…, 3) by `strength` in [0, 1]; uint8 RGB."""
    rgb = _WHITE + (colours - _WHITE) * (SHADE * strength)[..., None]
    return np.clip(rgb, 0, 255).astype(np.uint8)


def binary_image(scores: np.ndarray) -> np.ndarray:
    """Logit-like scores (0 is the boundary) → blue (class 0) ↔ white ↔ orange (class 1)."""
    t = np.clip(scores / LOGIT_CLIP, -1.0, 1.0)
    colours = np.where((t > 0)[..., None], _RGB[1], _RGB[0])
    return _shade(colours, np.abs(t))


def multiclass_image(probs: np.ndarray) -> np.ndarray:
    """Class probabilities (…, K) → the likeliest class's colour, paler where unsure."""
    k = probs.shape[-1]
    best = probs.argmax(axis=-1)
    confidence = (probs.max(axis=-1) - 1.0 / k) / (1.0 - 1.0 / k)
    return _shade(_RGB[best % len(_RGB)], np.clip(confidence, 0.0, 1.0))


def _softmax(v: np.ndarray) -> np.ndarray:
    e = np.exp(v - v.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class _SmoothImage(pg.ImageItem):
    """Bilinear scaling: an 80×80 grid looks like a field, not a mosaic."""

    def paint(self, p: QPainter, *args: object) -> None:
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        super().paint(p, *args)


class BoundaryView(QWidget):
    """The model's output over its input space, or a hint saying why there is none."""

    def __init__(self, parent: QWidget | None = None, grid: int = GRID) -> None:
        super().__init__(parent)
        self.grid = grid
        self.plot = plot_widget()
        style_plot(self.plot, current_theme())
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setToolTip("● training points   ▲ test points")
        item = self.plot.getPlotItem()
        item.showGrid(x=True, y=True, alpha=0.15)
        self.image = _SmoothImage(axisOrder="row-major")
        self.image.setZValue(-10)
        self.curve = pg.PlotDataItem(pen=pg.mkPen(REGRESSION_MODEL, width=2.5), name="model")
        self.curve.setZValue(10)  # the fit over the data it fits
        self.train_points = pg.ScatterPlotItem(name="train", symbol="o", size=7, pxMode=True)
        self.test_points = pg.ScatterPlotItem(name="test", symbol="t1", size=8, pxMode=True)
        for it in (self.image, self.curve, self.train_points, self.test_points):
            item.addItem(it)
        item.getViewBox().disableAutoRange()

        self.hint = hint_label()
        self._stack = QStackedLayout(self)
        self._stack.setContentsMargins(0, 0, 0, 0)
        self._stack.addWidget(self.plot)
        self._stack.addWidget(self.hint)
        self.setMinimumSize(180, 160)

        self.session: Session | None = None
        self.pred_node_id: str | None = None
        self.mode = "hint"  # "boundary", "regression", "data" (points, no model) or "hint"
        self._dataset: Dataset | None = None
        self._kind = "none"  # what the data allows: "boundary", "regression" or "none"
        self._points: np.ndarray | None = None  # the inputs that are evaluated
        self._axes: tuple[np.ndarray, np.ndarray] | None = None
        self._values: np.ndarray | None = None
        self._moment: dict | None = None  # parameters of a scrubbed step; None: the live ones
        self._rect = QRectF()
        self._stale = False
        self._show_hint("No scene loaded.")

    def theme_changed(self, theme: Theme) -> None:
        """The plot's background and axes in the theme's colours (called by `apply_theme`)."""
        style_plot(self.plot, theme)

    def sizeHint(self) -> QSize:
        return QSize(300, 280)

    # ---- binding -------------------------------------------------------------------------
    def set_session(self, session: Session | None, pred_node_id: str | None) -> None:
        """Show `pred_node_id`'s values of `session` (usually the loss node's `pred` input)."""
        self.session = session
        self.pred_node_id = pred_node_id
        self._moment = None
        self._bind_data(session.dataset if session is not None else None)
        self.redraw()

    def _bind_data(self, ds: Dataset | None) -> None:
        """Set up what depends only on the data: grid, points, axes, range."""
        self._dataset = ds
        self._values = None
        self._points = self._axes = None
        self.image.clear()
        self.curve.setData([], [])
        self.train_points.clear()
        self.test_points.clear()
        if ds is None:
            self._kind = "none"
            return
        classify = ds.task in ("binary", "multiclass")
        if ds.n_features == 2:
            self._kind = "boundary"
        elif ds.n_features == 1 and not classify:
            self._kind = "regression"
        else:
            self._kind = "none"
            return
        lo, hi = data_box(ds)
        item = self.plot.getPlotItem()
        names = ds.feature_names
        if self._kind == "boundary":
            xs = cell_centres(lo[0], hi[0], self.grid)
            ys = cell_centres(lo[1], hi[1], self.grid)
            gx, gy = np.meshgrid(xs, ys)  # row j is ys[j], column i is xs[i]
            self._axes = xs, ys
            self._points = np.column_stack([gx.ravel(), gy.ravel()])
            self._rect = QRectF(lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1])
            self._set_points(ds, classify)
            y_range = (lo[1], hi[1])
            item.setLabel("bottom", names[0] if names else "x₁")
            item.setLabel("left", names[1] if len(names) > 1 else "x₂")
        else:
            xs = np.linspace(lo[0], hi[0], CURVE_POINTS)
            self._axes = xs, np.empty(0)
            self._points = xs[:, None]
            self._set_points(ds, classify)
            targets = np.concatenate([ds.y_train, ds.y_test]).astype(float)
            t0, t1 = float(targets.min()), float(targets.max())
            span = t1 - t0 if t1 > t0 else 1.0
            y_range = (t0 - PAD * span, t1 + PAD * span)
            item.setLabel("bottom", names[0] if names else "x")
            item.setLabel("left", "target")
        item.getViewBox().disableAutoRange()
        item.setRange(xRange=(lo[0], hi[0]), yRange=y_range, padding=0)

    def _set_points(self, ds: Dataset, classify: bool) -> None:
        outline = pg.mkPen("#202124", width=0.8)
        size = 7 if self._kind == "boundary" else 6
        for points, x, y, grow in (
            (self.train_points, ds.x_train, ds.y_train, 0),
            (self.test_points, ds.x_test, ds.y_test, 1),  # a triangle looks smaller than a disc
        ):
            if not len(x):
                continue
            if self._kind == "regression":
                pos_y = np.asarray(y, dtype=float).reshape(len(x))
                brushes = pg.mkBrush(REGRESSION_DATA + "b0")
            else:
                pos_y = x[:, 1]
                if classify:
                    cache = {k: pg.mkBrush(class_colour(k)) for k in np.unique(y).tolist()}
                    brushes = [cache[k] for k in np.asarray(y).tolist()]
                else:
                    brushes = pg.mkBrush(NEUTRAL_POINT)
            points.setData(x=x[:, 0], y=pos_y, brush=brushes, pen=outline, size=size + grow)

    # ---- evaluation ----------------------------------------------------------------------
    def show_moment(self, params: dict | None) -> None:
        """Predict with `params` (a timeline snapshot's) until called with None: the view
        shows the model as it was at the scrubbed step."""
        self._moment = params
        self.redraw()

    def redraw(self) -> None:
        """Evaluate the model on the grid (or curve) with the current parameters.

        A hidden view only notes that it is stale and catches up when it is shown."""
        if not self.isVisible():
            self._stale = True
            return
        self._stale = False
        s = self.session
        ds = s.dataset if s is not None else None
        if ds is not self._dataset:
            self._bind_data(ds)
        if s is None:
            self._show_hint("No scene loaded.")
            return
        if ds is None:
            self._show_hint("This scene has no training data.")
            return
        if self._kind == "none":
            n = ds.n_features
            self._show_hint(f"The {ds.task} data has {n} input feature{'s' * (n != 1)}.")
            return
        if self.pred_node_id is None:  # no model yet: the data alone, as soon as it is chosen
            self._values = None
            self._show("data")
            return
        try:
            values = np.asarray(
                s.predict(self._points, self.pred_node_id, self._moment), dtype=float
            )
        except BpvizError as e:
            self._show_hint(f"Cannot compute '{self.pred_node_id}': {e}")
            return
        n = len(self._points)
        if values.ndim == 2 and values.shape == (n, 1):
            values = values[:, 0]
        if values.ndim not in (1, 2) or values.shape[0] != n:
            self._show_hint(
                f"'{self.pred_node_id}' has shape {values.shape}, not one row per input."
            )
            return
        if self._kind == "regression":
            if values.ndim != 1:
                self._show_hint(f"'{self.pred_node_id}' has {values.shape[1]} outputs, not one.")
                return
            self._values = values
            self.curve.setData(self._axes[0], values)
        else:
            xs, ys = self._axes
            self._values = values.reshape(len(ys), len(xs), *values.shape[1:])
            self.image.setImage(self._colours(self._values), autoLevels=False)
            self.image.setRect(self._rect)  # after setImage: the scale needs the image size
        self._show(self._kind)

    def _colours(self, grid: np.ndarray) -> np.ndarray:
        """RGB image of the grid's predictions, read the way the output node makes them."""
        op, activation = self._pred_op()
        if grid.ndim == 3:
            probs = grid if op == "softmax" else _softmax(grid)
            return multiclass_image(probs)
        if op == "sigmoid" or activation == "sigmoid":  # a probability: 0.5 is the boundary
            p = np.clip(grid, 1e-6, 1 - 1e-6)
            return binary_image(np.log(p / (1 - p)))
        if self._dataset is not None and self._dataset.task == "regression":
            scale = float(np.percentile(np.abs(grid), 98)) or 1.0
            return binary_image(grid * (LOGIT_CLIP / scale))
        return binary_image(grid)

    def _pred_op(self) -> tuple[str | None, str | None]:
        graph = self.session.graph if self.session is not None else None
        node = graph.nodes.get(self.pred_node_id) if graph is not None else None
        if node is None:
            return None, None
        return node.op, node.attrs.get("activation")

    def _show(self, mode: str) -> None:
        self.mode = mode
        self.image.setVisible(mode == "boundary")
        self.curve.setVisible(mode == "regression")
        self._stack.setCurrentWidget(self.plot)

    def _show_hint(self, reason: str) -> None:
        self.mode = "hint"
        self._values = None
        self.hint.setText(f"<b>{HINT}</b><br><br>{reason}")
        self._stack.setCurrentWidget(self.hint)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.redraw()

    # ---- reading back (tests) ------------------------------------------------------------
    def grid_values(self) -> np.ndarray | None:
        """The last evaluated predictions: (rows, cols) or (rows, cols, K) over `grid_axes`
        for a boundary (row j is y = ys[j], column i is x = xs[i]); (n,) for a curve."""
        return self._values

    def grid_axes(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(xs, ys) of the grid cell centres; for a curve, (xs, empty)."""
        return self._axes

    def curve_data(self) -> tuple[np.ndarray, np.ndarray] | None:
        if self.mode != "regression":
            return None
        return self.curve.getOriginalDataset()

    def hint_text(self) -> str:
        return self.hint.text() if self.mode == "hint" else ""
