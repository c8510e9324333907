"""Wires at full detail, drawn under the nodes in one pass per repainted area.

At 100 % a big scene's long wires were most of a frame: Qt called each wire whose bounding
box touched the repainted area (hundreds, most not even crossing it) and stroked its whole
antialiased curve. Here each wire is flattened once into short straight segments in runs, and
a repaint draws, for the wires touching the area, only the runs that touch it, as lines with
square caps, which Qt's antialiased line rasterizer draws several times faster than a curve's
stroke. The wire items stay in the scene for hovering, tooltips and the far view; they paint
nothing themselves (items.py `EdgeItem.paint`). A view keeps what this draws in its cached
background with the grid (view.py), drawn again where a wire changes (`EdgeItem._redraw_under`).
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPaintEngine, QPainter
from PySide6.QtWidgets import QGraphicsScene, QStyleOptionGraphicsItem

from bpviz.ui.canvas.items import Detail, detail_at
from bpviz.ui.canvas.wire_lines import fineness

_BOUNDS = Qt.ItemSelectionMode.IntersectsItemBoundingRect
_UP = Qt.SortOrder.AscendingOrder  # the order Qt stacks them
THIN = 3.0  # device pixels: a wire at most this wide is drawn as segments


def draw_wires(scene: QGraphicsScene, painter: QPainter, rect: QRectF) -> None:
    """For a big scene (the callers ask overview.py `big`: below that, Qt paints each wire,
    under a cached grid, which Run mode's frequent small repaints need), every visible wire
    touching `rect` (scene coordinates), in its pen: one that crosses the edge of `rect`,
    thin (at most THIN device pixels), at full detail and on a raster device as the segments
    touching `rect`; any other as the curve itself (wholly inside, a thick wire close up,
    where the segments' square caps would show at the joints, an SVG export, or zoomed out,
    which only an export draws: a view shows the overview there)."""
    scale = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
    segments = detail_at(scale) is Detail.FULL
    segments = segments and painter.paintEngine().type() == QPaintEngine.Type.Raster
    fine = fineness(scale)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    for item in scene.items(rect, _BOUNDS, _UP):
        wire_lines = getattr(item, "wire_lines", None)  # the wires (items.py EdgeItem)
        if wire_lines is None:  # (hidden items are not among them)
            continue
        item.pull()  # the latest pass's colour and width
        w = item.pen_width
        if not segments or w * scale > THIN or rect.contains(item.boundingRect()):
            painter.setPen(item.pen())
            painter.drawPath(item.path())
            continue
        lines = wire_lines(fine).within(rect.adjusted(-w, -w, w, w))
        if lines:
            painter.setPen(item.segment_pen)  # square caps: the segments meet without gaps
            painter.drawLines(lines)
