"""The loss plot: training and test loss per step, and accuracy for classifiers.

Training can produce thousands of steps a second, so the live path is split in two: `append`
only writes one point into growing numpy buffers (no copies of the history), and `redraw`,
called by the window at display rate, hands views of those buffers to the curves. pyqtgraph then
clips to the visible x range and peak-downsamples, so 100 000 points still draw quickly.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QToolButton, QVBoxLayout, QWidget

from bpviz.engine.training import History, StepResult, downsample
from bpviz.ui.plot_widget import adopt_menu, plot_widget
from bpviz.ui.theme import Theme, current_theme, style_legend, style_plot

TRAIN_COLOUR = "#1a73e8"
TEST_COLOUR = "#e8710a"
ACCURACY_COLOUR = "#188038"
TEST_ACCURACY_COLOUR = "#81c995"  # a lighter green: the same quantity, on the test set
HINT_TEXT = "Train the graph to see its loss here"
_EMPTY_RANGE = ((0.0, 100.0), (0.0, 1.0))
_MIN_CAPACITY = 1024
MAX_POINTS = 1 << 17  # per curve: beyond, runs of points keep only their extremes


class Series:
    """x and y values in numpy buffers that double when full: O(1) amortised appends, and
    reading is a view of the filled part (no copy). A curve may keep a view of the old
    buffers after a grow; they are never written again, so what it shows stays valid."""

    def __init__(self, x: np.ndarray | None = None, y: np.ndarray | None = None) -> None:
        if x is not None and y is not None:
            x, y = downsample(x, y, MAX_POINTS // 2)
        n = 0 if x is None else len(x)
        capacity = max(_MIN_CAPACITY, 1 << max(n - 1, 0).bit_length())
        self.x = np.empty(capacity)
        self.y = np.empty(capacity)
        self.n = n
        if n:
            self.x[:n] = x
            self.y[:n] = y

    def __len__(self) -> int:
        return self.n

    def append(self, x: float, y: float) -> None:
        n = self.n
        if n >= MAX_POINTS:  # a long Run: keep each run of neighbours' extremes, memory bounded
            self.__init__(*downsample(self.x[:n], self.y[:n], MAX_POINTS // 2))
            n = self.n
        if n == len(self.x):
            self.x = np.concatenate([self.x, np.empty(n)])
            self.y = np.concatenate([self.y, np.empty(n)])
        self.x[n] = x
        self.y[n] = y
        self.n = n + 1

    def extend(self, x: np.ndarray, y: np.ndarray) -> None:
        """Many points at once (a slice of Run mode), as that many `append`s would keep them."""
        n, k = self.n, len(x)
        if n + k > MAX_POINTS:  # keep each run of neighbours' extremes, memory bounded
            self.__init__(np.concatenate([self.x[:n], x]), np.concatenate([self.y[:n], y]))
            return
        if n + k > len(self.x):
            capacity = 1 << (n + k - 1).bit_length()
            self.x = np.concatenate([self.x[:n], np.empty(capacity - n)])
            self.y = np.concatenate([self.y[:n], np.empty(capacity - n)])
        self.x[n : n + k] = x
        self.y[n : n + k] = y
        self.n = n + k

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        return self.x[: self.n], self.y[: self.n]


def _columns(h: History) -> dict:
    """Each curve's (x, y) history columns."""
    return {
        "train": (h.step, h.loss),
        "test": (h.test_step, h.test_loss),
        "accuracy": (h.step, h.accuracy),
        "test_accuracy": (h.test_step, h.test_accuracy),
    }


def _series(x: list, y: list) -> Series:
    """A series from history lists; x is aligned to the end if y is shorter (never longer)."""
    y_arr = np.asarray(y, dtype=float)
    x_arr = np.asarray(x[len(x) - len(y_arr) :], dtype=float) if len(y_arr) else np.empty(0)
    return Series(x_arr, y_arr)


def _round_up(x: float) -> float:
    """The next 1-2-5 number at or above x (10, 20, 50, 100, ...)."""
    if x <= 0:
        return 1.0
    base = 10.0 ** np.floor(np.log10(x))
    return float(next(m * base for m in (1, 2, 5, 10) if m * base >= x))


FEW_POINTS = 30


PLOT_MEANING = (
    "Each point is one optimizer step: the loss (and accuracy) on the whole training set, and"
    " on the test set, with the parameters after that step's update"
)


class LossPlot(QWidget):
    """Loss curves (left axis, optionally log scale) and accuracy (right axis, 0–1)."""

    log_scale_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        pg.setConfigOptions(antialias=True)
        self.plot = plot_widget()
        self.plot.setToolTip(PLOT_MEANING)
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "step")
        item.setLabel("left", "loss")
        item.getAxis("left").enableAutoSIPrefix(False)  # "loss (x0.001)" reads as a unit
        item.showGrid(x=True, y=True, alpha=0.2)
        item.setClipToView(True)
        item.setDownsampling(auto=True, mode="peak")
        # right middle: loss ends low and accuracy high, so that is where curves rarely are
        self.legend = item.addLegend(colCount=2)
        self.legend.anchor(itemPos=(1, 0.5), parentPos=(1, 0.5), offset=(-10, 0))
        self.train = self._curve(item, "train loss", pg.mkPen(TRAIN_COLOUR, width=2))
        self.test = self._curve(item, "test loss", pg.mkPen(TEST_COLOUR, width=2))
        self._listed: tuple[str, ...] = ()  # the curves the legend names, in their order

        # accuracy: its own view box sharing the x axis, drawn against the right axis
        self.accuracy_view = pg.ViewBox(enableMouse=False)
        adopt_menu(self.plot, self.accuracy_view.menu)
        item.scene().addItem(self.accuracy_view)
        right = item.getAxis("right")
        right.linkToView(self.accuracy_view)
        right.setLabel("accuracy", color=ACCURACY_COLOUR)
        right.setTicks([[(0.0, "0"), (0.5, "0.5"), (1.0, "1")], [(0.25, ""), (0.75, "")]])
        right.setStyle(hideOverlappingLabels=False)
        # an axis drawing grid lines clips its labels to the plot: the "1" at the top would go
        right.setGrid(False)
        self.accuracy_view.setXLink(item)
        self.accuracy_view.setYRange(0.0, 1.0, padding=0.05)
        self.accuracy_view.disableAutoRange(pg.ViewBox.YAxis)
        # accuracy on a few points jumps between a handful of levels at every step: solid thin
        # steps (held until the next step) read as a staircase, where a dash pattern over
        # the jumps flickered as a band
        self.accuracy = self._curve(None, "accuracy", pg.mkPen(ACCURACY_COLOUR, width=1))
        self.test_accuracy = self._curve(
            None, "test accuracy", pg.mkPen(TEST_ACCURACY_COLOUR, width=1)
        )
        for curve in (self.accuracy, self.test_accuracy):
            curve.setData(stepMode="left")
            self.accuracy_view.addItem(curve)
        item.vb.sigResized.connect(self._align_accuracy_view)
        self._accuracy_shown = True  # so that the first _show_accuracy(False) hides it

        self.hint = pg.TextItem(HINT_TEXT, color="#80868b", anchor=(0.5, 0.5))
        item.addItem(self.hint, ignoreBounds=True)

        self.log_button = QToolButton(self.plot)
        self.log_button.setText("log")
        self.log_button.setCheckable(True)
        self.log_button.setAutoRaise(True)
        self.log_button.setToolTip("Logarithmic loss axis")
        self.log_button.toggled.connect(self.set_log_scale)
        item.ctrl.logYCheck.toggled.connect(self._log_mode_changed)  # also the context menu

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self.setMinimumHeight(140)
        self._series: dict[str, Series] = {}
        self._dirty = False
        self._empty = True
        self.clear()
        self.theme_changed(current_theme())

    def theme_changed(self, theme: Theme) -> None:
        """Background, axes and legend in the theme's colours (called by `apply_theme`)."""
        style_plot(self.plot, theme)
        style_legend(self.legend, theme)

    def _curve(self, item: pg.PlotItem | None, name: str, pen: object) -> pg.PlotDataItem:
        curve = pg.PlotDataItem(name=name, pen=pen, skipFiniteCheck=True, connect="all")
        if item is None:  # not managed by the PlotItem: set its drawing options directly
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
        else:
            item.addItem(curve)
            item.legend.removeItem(curve)  # listed by `_list_curves` once it has points
        return curve

    def sizeHint(self) -> QSize:
        return QSize(600, 190)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_log_button()

    def _place_log_button(self) -> None:
        """Bottom-left corner, under the loss axis, where the plot has no content."""
        self.log_button.adjustSize()
        self.log_button.move(2, self.plot.height() - self.log_button.height() - 2)

    def _align_accuracy_view(self) -> None:
        item = self.plot.getPlotItem()
        self.accuracy_view.setGeometry(item.vb.sceneBoundingRect())
        self.accuracy_view.linkedViewChanged(item.vb, self.accuracy_view.XAxis)

    # ---- data ----------------------------------------------------------------------------
    def set_history(self, history: History) -> None:
        """Show a whole history at once (a new scene, a reset); the following `append`s
        continue it."""
        self._series = {name: _series(x, y) for name, (x, y) in _columns(history).items()}
        self._taken = {name: len(y) for name, (_, y) in _columns(history).items()}
        self._dirty = True
        self.redraw()

    def catch_up(self, history: History) -> None:
        """Take the steps `history` recorded since `set_history` or the last `catch_up`
        (Run mode announces only the last step of each slice); drawn at the next `redraw`."""
        for name, (xs, ys) in _columns(history).items():
            taken, n = self._taken[name], len(ys)
            if n > taken:
                # x aligned to the end, as recorded: y may have started later than x
                self._series[name].extend(xs.since(len(xs) - n + taken), ys.since(taken))
                self._taken[name] = n
                self._dirty = True

    def clear(self) -> None:
        self.set_history(History())

    def append(self, result: StepResult) -> None:
        """Record one step; nothing is drawn until the next `redraw`."""
        s = self._series
        step = result.step
        s["train"].append(step, result.loss)
        if result.accuracy is not None:
            s["accuracy"].append(step, result.accuracy)
        if result.test_loss is not None:
            s["test"].append(step, result.test_loss)
        if result.test_accuracy is not None:
            s["test_accuracy"].append(step, result.test_accuracy)
        self._dirty = True

    def redraw(self) -> None:
        """Hand the points appended since the last redraw to the curves (cheap if none)."""
        if not self._dirty:
            return
        self._dirty = False
        for name, curve in self._curves().items():
            x, y = self._series[name].data()
            # a handful of steps (Step pressed by hand) shows as dots: one point draws no line
            dots = name in ("train", "test") and 0 < len(x) <= FEW_POINTS
            curve.setData(
                x,
                y,
                symbol="o" if dots else None,
                symbolSize=5,
                symbolBrush=curve.opts["pen"].color(),
                symbolPen=None,
            )
        empty = len(self._series["train"]) == 0
        self.hint.setVisible(empty)
        self.legend.setVisible(not empty)
        if empty:
            self._show_empty_frame()
        else:
            self._grow_range()
        self._empty = empty
        self._show_accuracy(len(self._series["accuracy"]) > 0)
        self._list_curves()

    def _list_curves(self) -> None:
        """The legend names only curves that have points: no "test loss" for a scene without
        a test split, no accuracy for a regression."""
        curves = self._curves()
        listed = tuple(name for name in curves if len(self._series[name]))
        if listed == self._listed:
            return
        self._listed = listed
        self.legend.clear()
        for name in listed:
            self.legend.addItem(curves[name], curves[name].name())

    def legend_names(self) -> list[str]:
        """The legend's labels, top to bottom and left to right (tests, status)."""
        return [label.text for _, label in self.legend.items]

    def _grow_range(self) -> None:
        """Live ranges that only grow, in round steps: the axes then keep their cached
        pictures between refreshes, which is most of what a repaint costs."""
        item = self.plot.getPlotItem()
        if self.log_scale():
            self._range = None
            item.enableAutoRange()
            return
        xs, ys = self._series["train"].data()
        _, ts = self._series["test"].data()
        finite = np.concatenate([ys[np.isfinite(ys)], ts[np.isfinite(ts)]])
        x_hi = _round_up(max(float(xs[-1]), 10.0) * 1.1)
        y_hi = _round_up(float(finite.max()) * 1.05) if finite.size else 1.0
        y_lo = min(0.0, float(finite.min())) if finite.size else 0.0
        if (x_hi, y_lo, y_hi) != getattr(self, "_range", None):
            self._range = (x_hi, y_lo, y_hi)
            item.disableAutoRange()
            item.setRange(xRange=(0, x_hi), yRange=(y_lo, y_hi), padding=0)

    def set_marker(self, step: int | None) -> None:
        """A vertical line at `step` (the moment the timeline shows), or none."""
        if getattr(self, "_marker", None) is None:
            self._marker = pg.InfiniteLine(
                angle=90, pen=pg.mkPen("#5f6368", width=1.5, style=Qt.PenStyle.DashLine)
            )
            self.plot.addItem(self._marker)
        self._marker.setVisible(step is not None)
        if step is not None:
            self._marker.setPos(step)

    def _curves(self) -> dict[str, pg.PlotDataItem]:
        return {
            "train": self.train,
            "test": self.test,
            "accuracy": self.accuracy,
            "test_accuracy": self.test_accuracy,
        }

    def _show_empty_frame(self) -> None:
        """A tidy empty frame instead of pyqtgraph's default ±0.5 range."""
        (x0, x1), (y0, y1) = _EMPTY_RANGE
        self.plot.getPlotItem().setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        self.hint.setPos((x0 + x1) / 2, (y0 + y1) / 2)

    def _show_accuracy(self, show: bool) -> None:
        if show == self._accuracy_shown:
            return
        self._accuracy_shown = show
        item = self.plot.getPlotItem()
        item.showAxis("right", show)
        self.accuracy_view.setVisible(show)

    # ---- reading back (tests, status) ------------------------------------------------------
    def train_data(self) -> tuple[np.ndarray, np.ndarray]:
        """Steps and training losses recorded so far (views; do not modify)."""
        return self._series["train"].data()

    def test_data(self) -> tuple[np.ndarray, np.ndarray]:
        return self._series["test"].data()

    def accuracy_data(self) -> tuple[np.ndarray, np.ndarray]:
        return self._series["accuracy"].data()

    def accuracy_shown(self) -> bool:
        return self._accuracy_shown

    # ---- log scale -----------------------------------------------------------------------
    def log_scale(self) -> bool:
        return self.log_button.isChecked()

    def set_log_scale(self, on: bool) -> None:
        """Logarithmic loss axis (accuracy stays linear). Zero losses leave gaps."""
        self.plot.getPlotItem().setLogMode(y=bool(on))

    def _log_mode_changed(self, on: bool) -> None:
        """After pyqtgraph applied the mode: keep the button, the accuracy axis and the empty
        frame in step, whichever way (button, method, context menu) it was changed."""
        # log10 of a zero loss is NaN: let the path skip gaps instead of assuming all finite
        for name in ("train", "test"):
            curve = self._curves()[name]
            curve.setSkipFiniteCheck(not on)
            curve.setData(*self._series[name].data(), connect="finite" if on else "all")
        self.plot.getAxis("right").setLogMode(False, False)
        if self._empty:
            self._show_empty_frame()
        if self.log_button.isChecked() != on:
            self.log_button.blockSignals(True)
            self.log_button.setChecked(on)
            self.log_button.blockSignals(False)
        self.log_scale_changed.emit(on)
