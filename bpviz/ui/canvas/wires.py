"""Wires at full detail, drawn under the nodes in one pass per repainted area.

At 100 % a big scene's long wires were most of a frame: Qt called each wire whose bounding
box touched the repainted area (hundreds, most not even crossing it) and stroked its whole
antialiased curve. Here each wire is flattened once into short straight segments in runs, and
a repaint draws, for the wires touching the area, only the runs that touch it, as lines with
square caps, which Qt's antialiased line rasterizer draws several times faster than a curve's
stroke. The wire items stay in the scene for hovering, tooltips and the far view; they paint
nothing themselves (items.py `EdgeItem.paint`), but their updates still mark the areas to
repaint.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QPaintEngine, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QStyleOptionGraphicsItem

from bpviz.ui.canvas.items import Detail, detail_at

if TYPE_CHECKING:
    from bpviz.ui.canvas.scene import CanvasScene

_BOUNDS = Qt.ItemSelectionMode.IntersectsItemBoundingRect
_UP = Qt.SortOrder.AscendingOrder  # the order Qt stacks them
RUN = 12  # segments per run: what a repaint keeps or skips at once
THIN = 3.0  # device pixels: a wire at most this wide is drawn as segments


def fineness(scale: float) -> float:
    """How finely wires are flattened at `scale`: a power of two at least 0.45 of it (at
    most 2: the closest zoom is 4), so a segment strays at most about half a device pixel
    from the curve, as in Qt's own flattening of a curve; the steps fall between the zooms
    people use (100 % and a wheel step either side of it are one step)."""
    return 2.0 ** min(1, max(-4, math.ceil(math.log2(max(scale, 1e-3) * 0.45))))


class WireLines:
    """A one-cubic wire as straight segments, fine enough that no point strays more than a
    quarter of a unit from the curve at `fine` (the chord error of n even steps of t is at
    most max|B''| / 8n²), in runs of RUN with the box each spans."""

    def __init__(self, path: QPainterPath, fine: float) -> None:
        self.fine = fine
        p = np.array([[path.elementAt(i).x, path.elementAt(i).y] for i in range(4)])
        bend = 6 * max(np.hypot(*(p[0] - 2 * p[1] + p[2])), np.hypot(*(p[1] - 2 * p[2] + p[3])))
        n = max(1, math.ceil(math.sqrt(bend * fine / 2)))  # bend / 8n² <= 1 / (4 fine)
        t = np.linspace(0.0, 1.0, n + 1)[:, None]
        u = 1.0 - t
        self.points = u**3 * p[0] + 3 * u * u * t * p[1] + 3 * u * t * t * p[2] + t**3 * p[3]
        starts = np.arange(0, n, RUN)
        ends = self.points[np.minimum(starts + RUN, n)]
        low = np.minimum(np.minimum.reduceat(self.points, starts), ends)
        high = np.maximum(np.maximum.reduceat(self.points, starts), ends)
        self.boxes = np.hstack((low, high)).tolist()
        self._runs: list[list[QLineF] | None] = [None] * len(self.boxes)

    def within(self, rect: QRectF) -> list[QLineF]:
        """The segments of the runs touching `rect`; a run's lines are made when it is
        first drawn (only what has been on screen is ever made)."""
        left, top, right, bottom = rect.left(), rect.top(), rect.right(), rect.bottom()
        out: list[QLineF] = []
        for k, (x0, y0, x1, y1) in enumerate(self.boxes):
            if x0 <= right and x1 >= left and y0 <= bottom and y1 >= top:
                lines = self._runs[k]
                if lines is None:
                    run = self.points[k * RUN : k * RUN + RUN + 1].tolist()
                    lines = [QLineF(*a, *b) for a, b in zip(run, run[1:], strict=False)]
                    self._runs[k] = lines
                out += lines
        return out


def draw_wires(scene: CanvasScene, painter: QPainter, rect: QRectF) -> None:
    """In a big scene (overview.py `big`: below that, Qt paints each wire, under a cached
    grid, which Run mode's frequent small repaints need) at full detail, every visible
    wire touching `rect` (scene coordinates), in its pen:
    one that crosses the edge of `rect`, thin (at most THIN device pixels) and on a raster
    device as the segments touching `rect`; any other as the curve itself (wholly inside,
    a thick wire close up, where the segments' square caps would show at the joints, or an
    SVG export). Zoomed out, where a wire is a few pixels of curve, its item paints it."""
    scale = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
    if not scene.overview.big() or detail_at(scale) is Detail.BOX:
        return
    raster = painter.paintEngine().type() == QPaintEngine.Type.Raster
    fine = fineness(scale)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    for item in scene.items(rect, _BOUNDS, _UP):
        wire_lines = getattr(item, "wire_lines", None)  # the wires (items.py EdgeItem)
        if wire_lines is None:  # (hidden items are not among them)
            continue
        pen = item.pen()
        w = pen.widthF()
        if not raster or w * scale > THIN or rect.contains(item.boundingRect()):
            painter.setPen(pen)
            painter.drawPath(item.path())
            continue
        lines = wire_lines(fine).within(rect.adjusted(-w, -w, w, w))
        if lines:
            pen = QPen(pen)
            pen.setCapStyle(Qt.PenCapStyle.SquareCap)  # the segments meet without gaps
            painter.setPen(pen)
            painter.drawLines(lines)
