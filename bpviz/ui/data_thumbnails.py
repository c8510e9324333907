"""The dataset kind chooser: one button per generated kind showing a small picture of the
points its real generator makes (the seed and, for the chosen kind, the noise and own keys
of the document's data), plus a button for a CSV file.

Pictures are cached per generator spec (bounded), so moving a spin box redraws one picture,
not seven.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QGridLayout, QToolButton, QWidget

from bpviz.engine.data_options import GENERATED_KINDS, number_settings
from bpviz.engine.datasets import Dataset, make_dataset
from bpviz.engine.errors import BpvizError
from bpviz.ui.boundary import REGRESSION_DATA, class_colour

THUMB = 64  # side of a picture, in pixels
MARGIN = 4  # pixels between the outermost point's centre and the picture's edge
DOT = 2.0  # radius of a point
THUMB_POINTS = 500  # at most this many points in a picture (more only make a blot)
CACHE_SIZE = 64
COLUMNS = 4
KIND_TIPS = {
    "xor": "XOR: four blobs, opposite corners share a class",
    "circles": "Circles: a ring around an inner circle",
    "moons": "Moons: two interleaving half circles",
    "spiral": "Spiral: arms winding out from the centre",
    "gauss": "Gauss: two overlapping blobs",
    "linear": "Linear: a noisy straight line (regression)",
    "sine": "Sine: a noisy sine wave (regression)",
    "csv": "CSV: your own table of numbers",
}


def thumbnail_spec(kind: str, data: Mapping[str, Any] | None) -> dict[str, Any]:
    """The generator spec a kind's picture is drawn from: the document's seed, and for the
    document's own kind its noise and own keys; never more than THUMB_POINTS points."""
    data = data or {}
    spec: dict[str, Any] = {"kind": kind, "seed": data.get("seed", 0), "test_fraction": 0.0}
    if data.get("kind") == kind:
        for s in number_settings(kind):
            if s.key not in ("seed", "test_fraction", "n") and s.key in data:
                spec[s.key] = data[s.key]
        spec["n"] = min(int(data.get("n", 200)), THUMB_POINTS)
        if "classes" in spec:
            spec["classes"] = min(spec["classes"], spec["n"])
    return spec


def plot_points(ds: Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(x, y, class per point or None) as drawn: the two features of 2-D data, or the first
    feature against the target for regression."""
    x = ds.x_train
    if ds.task == "regression":
        return x[:, 0], np.asarray(ds.y_train, dtype=float), None
    return x[:, 0], x[:, 1], np.asarray(ds.y_train)


def to_pixels(x: np.ndarray, y: np.ndarray, size: int = THUMB) -> tuple[np.ndarray, np.ndarray]:
    """Pixel columns and rows of points: the data's bounding box fills the picture inside
    MARGIN, y pointing up."""
    span = size - 1 - 2 * MARGIN

    def scale(v: np.ndarray) -> np.ndarray:
        lo, hi = float(v.min()), float(v.max())
        return (v - lo) / (hi - lo if hi > lo else 1.0) * span

    return np.rint(MARGIN + scale(x)).astype(int), np.rint(size - 1 - MARGIN - scale(y)).astype(int)


def render_points(ds: Dataset, size: int = THUMB) -> QPixmap:
    """A picture of the dataset: each point a dot in its class colour on white."""
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor("white"))
    x, y, classes = plot_points(ds)
    cols, rows = to_pixels(x, y, size)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(Qt.PenStyle.NoPen)
    colours = (
        [REGRESSION_DATA] * len(x) if classes is None else [class_colour(int(k)) for k in classes]
    )
    for c, r, colour in zip(cols.tolist(), rows.tolist(), colours, strict=True):
        painter.setBrush(QColor(colour))
        painter.drawEllipse(QPointF(c + 0.5, r + 0.5), DOT, DOT)  # centred on the pixel
    painter.setPen(QPen(QColor("#dadce0")))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(0, 0, size - 1, size - 1)
    painter.end()
    return pixmap


def csv_picture(size: int = THUMB) -> QPixmap:
    """A small table: the CSV button's picture."""
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor("white"))
    painter = QPainter(pixmap)
    painter.setPen(QPen(QColor("#5f6368")))
    top, left, step = 10, 8, (size - 16) // 4
    for i in range(5):
        painter.drawLine(left, top + i * (size - 20) // 4, size - left, top + i * (size - 20) // 4)
    for j in range(5):
        painter.drawLine(left + j * step, top, left + j * step, size - 10)
    painter.setPen(QPen(QColor("#dadce0")))
    painter.drawRect(0, 0, size - 1, size - 1)
    painter.end()
    return pixmap


class ThumbnailCache:
    """Pictures by generator spec, the least recently used dropped beyond `capacity`."""

    def __init__(self, capacity: int = CACHE_SIZE) -> None:
        self.capacity = capacity
        self._items: OrderedDict[tuple, QPixmap] = OrderedDict()

    def get(self, spec: Mapping[str, Any]) -> QPixmap | None:
        """The picture of `spec`'s points, or None when the generator refuses the spec."""
        key = tuple(sorted(spec.items()))
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        try:
            pixmap = render_points(make_dataset(spec))
        except BpvizError:
            return None
        self._items[key] = pixmap
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)
        return pixmap

    def __len__(self) -> int:
        return len(self._items)


class KindStrip(QWidget):
    """A grid of kind buttons; `chosen(kind)` when one is clicked. The checked button is the
    document's kind — set by `show_data`, never by the click itself."""

    chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cache = ThumbnailCache()
        self.buttons: dict[str, QToolButton] = {}
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(4)
        for i, kind in enumerate((*GENERATED_KINDS, "csv")):
            button = QToolButton(self)
            button.setText("CSV…" if kind == "csv" else kind)
            button.setCheckable(True)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            button.setIconSize(QSize(THUMB, THUMB))
            button.setToolTip(KIND_TIPS[kind])
            button.setAutoRaise(True)
            button.clicked.connect(lambda _=False, k=kind: self._clicked(k))
            self.buttons[kind] = button
            grid.addWidget(button, i // COLUMNS, i % COLUMNS)
        self.buttons["csv"].setIcon(QIcon(csv_picture()))
        self._kind: str | None = None
        self.show_data(None)

    def _clicked(self, kind: str) -> None:
        self._check(self._kind)  # the document decides which kind is checked
        self.chosen.emit(kind)

    def _check(self, kind: str | None) -> None:
        for k, button in self.buttons.items():
            button.setChecked(k == kind)

    def show_data(self, data: Mapping[str, Any] | None) -> None:
        """Check the document's kind and redraw the pictures for its seed and settings."""
        self._kind = (data or {}).get("kind")
        self._check(self._kind)
        for kind in GENERATED_KINDS:
            pixmap = self.cache.get(thumbnail_spec(kind, data))
            self.buttons[kind].setIcon(QIcon(pixmap) if pixmap is not None else QIcon())

    def picture(self, kind: str) -> QPixmap:
        """The picture a kind's button shows (tests read its pixels)."""
        return self.buttons[kind].icon().pixmap(QSize(THUMB, THUMB))
