"""A big scene seen from far away: every node a box, every wire a straight line, replayed from
one recorded picture.

At 5,000 nodes Qt's own work per item (index lookup, sorting, a paint call) costs several
frames even when the items draw nothing, so a scene of at least BIG_SCENE nodes, zoomed out
to where nodes are boxes anyway (`detail_at`), is painted by the view from this picture. It
is recorded again only after something it shows changed (a node moved, selected or marked,
a wire recoloured, an item added or removed). The items stay in the scene, so clicks,
rubber-band selection and drags still find them.
"""

from __future__ import annotations

from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPicture
from PySide6.QtWidgets import QGraphicsScene

from bpviz.ui.canvas.items import (
    HEADER_HEIGHT,
    MARK_COLOURS,
    Detail,
    detail_at,
    theme_colours,
)
from bpviz.ui.theme import current_theme

BIG_SCENE = 1000  # nodes: from here on a far-zoomed scene is drawn as one picture


class Overview:
    """The far view of a canvas scene: a picture of its wires and one of its nodes, each
    recorded again only after something it shows changed (a pass recolours wires only)."""

    def __init__(self, scene: QGraphicsScene) -> None:
        self.scene = scene
        self._wires: QPicture | None = None
        self._nodes: QPicture | None = None
        self.recordings = 0  # how often it was brought up to date (for tests and benchmarks)

    def wanted(self, scale: float) -> bool:
        """Whether a view at `scale` shows this scene as the picture."""
        return len(self.scene.node_items) >= BIG_SCENE and detail_at(scale) is Detail.BOX

    def invalidate(self, part: str = "all") -> None:
        """`part` changed: "wires", "nodes" or (the default) both."""
        if part != "nodes":
            self._wires = None
        if part != "wires":
            self._nodes = None

    def pictures(self) -> tuple[QPicture, QPicture]:
        """The wires and the nodes drawn over them, recorded where out of date."""
        if self._wires is None or self._nodes is None:
            self.recordings += 1
            if self._wires is None:
                self._wires = self._record_wires()
            if self._nodes is None:
                self._nodes = self._record_nodes()
        return self._wires, self._nodes

    def _record_wires(self) -> QPicture:
        """Straight wires grouped by colour: one call draws thousands."""
        wires: dict[int, list[QLineF]] = {}
        for edge in self.scene.edge_items.values():
            if edge.isVisible():
                wires.setdefault(edge.far_rgba, []).append(edge.line)
        picture = QPicture()
        painter = QPainter(picture)
        for rgba, lines in wires.items():
            painter.setPen(QPen(QColor.fromRgba(rgba), 0))  # cosmetic: one pixel at any zoom
            painter.drawLines(lines)
        painter.end()
        return picture

    def _record_nodes(self) -> QPicture:
        """Node bodies, headers grouped by op colour, and the outlines of selected and
        marked nodes."""
        colours = theme_colours(current_theme())
        bodies: list[QRectF] = []
        headers: dict[int, list[QRectF]] = {}
        outlined: dict[tuple[int, float], list[QRectF]] = {}
        selected = colours["selected"].rgba()
        for item in self.scene.node_items.values():
            box = item.scene_box()
            bodies.append(box)
            headers.setdefault(item.header_rgba, []).append(
                QRectF(box.x(), box.y(), box.width(), HEADER_HEIGHT)
            )
            if item.mark in MARK_COLOURS:
                outlined.setdefault((MARK_COLOURS[item.mark].rgba(), 3.0), []).append(box)
            elif item.isSelected():
                outlined.setdefault((selected, 2.0), []).append(box)
        picture = QPicture()
        painter = QPainter(picture)
        painter.setPen(QPen(colours["node_outline"], 0))
        painter.setBrush(colours["node_body"])
        painter.drawRects(bodies)
        painter.setPen(Qt.PenStyle.NoPen)
        for rgba, rects in headers.items():
            painter.setBrush(QColor.fromRgba(rgba))
            painter.drawRects(rects)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for (rgba, width), rects in outlined.items():
            pen = QPen(QColor.fromRgba(rgba), width)
            pen.setCosmetic(True)  # device pixels: visible however far out
            painter.setPen(pen)
            painter.drawRects(rects)
        painter.end()
        return picture
