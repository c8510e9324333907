"""A big scene seen from far away: every node a box, every wire a straight line, replayed from
one recorded picture.

At 5,000 nodes Qt's own work per item (index lookup, sorting, a paint call) costs several
frames even when the items draw nothing, so a scene of at least BIG_SCENE nodes, zoomed out
to where nodes are boxes anyway (`detail_at`), is painted by the view from this picture. It
is recorded again only after something it shows changed (a node moved, a wire recoloured, an
item added or removed); the outlines of selected and marked nodes are drawn over it. The items
stay in the scene, so clicks, rubber-band selection and drags still find them.
"""

from __future__ import annotations

from collections.abc import Callable

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


PIECE = 500  # lines or boxes per recorded piece: a raster plays a few pieces per tick


def _pieces(
    state: Callable[[QPainter], None], draw: Callable[[QPainter, list], None], items: list
) -> list[QPicture]:
    """`draw` of `items`, recorded PIECE at a time, each piece with the painter `state`."""
    pictures = []
    for i in range(0, len(items), PIECE):
        picture = QPicture()
        painter = QPainter(picture)
        state(painter)
        draw(painter, items[i : i + PIECE])
        painter.end()
        pictures.append(picture)
    return pictures


def _pen(colour: QColor, width: float = 0.0, cosmetic: bool = False) -> Callable:
    def state(painter: QPainter) -> None:
        pen = QPen(colour, width)
        if cosmetic:
            pen.setCosmetic(True)  # device pixels: visible however far out
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)

    return state


def _brush(colour: QColor) -> Callable:
    def state(painter: QPainter) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)

    return state


class Overview:
    """The far view of a canvas scene: pictures of its wires and of its nodes, each recorded
    again only after something it shows changed (a pass recolours wires only). Both are
    recorded in pieces of PIECE lines or boxes, so a raster can be spread over several
    ticks (far_raster.py); played in order they paint what one picture would."""

    def __init__(self, scene: QGraphicsScene) -> None:
        self.scene = scene
        self._wires: list[QPicture] | None = None
        self._nodes: list[QPicture] | None = None
        self._outlines: QPicture | None = None
        self._moving: list = []  # nodes being dragged (`hold`), drawn over the pictures
        self._pending: set[str] = set()  # what changed while they were
        self.recordings = 0  # how often it was brought up to date (for tests and benchmarks)

    def big(self) -> bool:
        """Whether the scene has BIG_SCENE nodes or more: then it is drawn as the picture far
        out, and its wires by the canvas close up (wires.py)."""
        return len(self.scene.node_items) >= BIG_SCENE

    def wanted(self, scale: float) -> bool:
        """Whether a view at `scale` shows this scene as the picture."""
        return self.big() and detail_at(scale) is Detail.BOX

    def hold(self, moving: list) -> None:
        """A drag of the node items `moving` begins: until `release`, the recorded pictures
        (and the raster made of them) stay as they are and the moving nodes are drawn over
        them with their wires, each drag step a few boxes and lines instead of a new
        recording and raster of the whole scene; their old place shows until the drop."""
        self._moving, self._pending = list(moving), set()
        self._outlines = None

    def holding(self) -> bool:
        return bool(self._moving)

    def release(self) -> None:
        """The drag ended: what changed meanwhile is recorded again."""
        moving, self._moving = self._moving, []
        if moving:
            for part in self._pending:
                self.invalidate(part)
            self._outlines = None

    def invalidate(self, part: str = "all") -> None:
        """`part` changed: "wires", "nodes", "outlines" (which nodes are selected or marked)
        or (the default) all. Nodes moving moves their outlines too."""
        if self._moving and part != "outlines":
            self._pending.add(part)
            self._outlines = None
            return
        if part in ("wires", "all"):
            self._wires = None
        if part in ("nodes", "all"):
            self._nodes = None
        if part != "wires":
            self._outlines = None

    def outlines(self) -> QPicture:
        """The outlines of the selected and marked nodes, drawn over the raster at every
        paint: selecting a node or stepping the pass's mark far out costs a few boxes, not a
        new raster of the whole scene."""
        if self._outlines is None:
            colours = theme_colours(current_theme())
            outlined: dict[tuple[int, float], list[QRectF]] = {}
            selected = {id(item) for item in self.scene.selectedItems()}
            for item in self.scene.node_items.values():
                if item.mark in MARK_COLOURS:
                    key = (MARK_COLOURS[item.mark].rgba(), 3.0)
                elif id(item) in selected:
                    key = (colours["selected"].rgba(), 2.0)
                else:
                    continue
                outlined.setdefault(key, []).append(item.scene_box())
            picture = QPicture()
            painter = QPainter(picture)
            if self._moving:
                self._draw_moving(painter, colours)
            for (rgba, width), rects in outlined.items():
                _pen(QColor.fromRgba(rgba), width, cosmetic=True)(painter)
                painter.drawRects(rects)
            painter.end()
            self._outlines = picture
        return self._outlines

    def pictures(self) -> list[QPicture]:
        """The pieces of the wires and then of the nodes drawn over them, recorded where out
        of date, in the order they are played."""
        if self._wires is None or self._nodes is None:
            self.recordings += 1
            if self._wires is None:
                self._wires = self._record_wires()
            if self._nodes is None:
                self._nodes = self._record_nodes()
        return self._wires + self._nodes

    def _draw_moving(self, painter: QPainter, colours: dict) -> None:
        """The dragged nodes where they are now, as `pictures` draws nodes, and their wires."""
        for item in self._moving:
            for edge in item.edges:
                painter.setPen(QPen(QColor.fromRgba(edge.far_rgba), 0))
                painter.drawLine(edge.line)
        for item in self._moving:
            box = item.scene_box()
            painter.setPen(QPen(colours["node_outline"], 0))
            painter.setBrush(colours["node_body"])
            painter.drawRect(box)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor.fromRgba(item.header_rgba))
            painter.drawRect(QRectF(box.x(), box.y(), box.width(), HEADER_HEIGHT))
        painter.setBrush(Qt.BrushStyle.NoBrush)

    def _record_wires(self) -> list[QPicture]:
        """Straight wires grouped by colour: one call draws hundreds."""
        wires: dict[int, list[QLineF]] = {}
        for edge in self.scene.edge_items.values():
            if edge.isVisible():
                wires.setdefault(edge.far_rgba, []).append(edge.line)
        pictures = []
        for rgba, lines in wires.items():  # cosmetic: one pixel at any zoom
            pictures += _pieces(_pen(QColor.fromRgba(rgba)), QPainter.drawLines, lines)
        return pictures

    def _record_nodes(self) -> list[QPicture]:
        """Node bodies (all filled, then all outlined, as one drawRects call paints them) and
        headers grouped by op colour; selected and marked nodes are outlined over the raster
        (`outlines`)."""
        colours = theme_colours(current_theme())
        bodies: list[QRectF] = []
        headers: dict[int, list[QRectF]] = {}
        for item in self.scene.node_items.values():
            box = item.scene_box()
            bodies.append(box)
            headers.setdefault(item.header_rgba, []).append(
                QRectF(box.x(), box.y(), box.width(), HEADER_HEIGHT)
            )
        pictures = _pieces(_brush(colours["node_body"]), QPainter.drawRects, bodies)
        pictures += _pieces(_pen(colours["node_outline"]), QPainter.drawRects, bodies)
        for rgba, rects in headers.items():
            pictures += _pieces(_brush(QColor.fromRgba(rgba)), QPainter.drawRects, rects)
        return pictures
