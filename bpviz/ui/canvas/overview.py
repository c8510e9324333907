"""A big scene seen from far away: every node a box, every wire a straight line, replayed from
recorded pictures.

At 5,000 nodes Qt's own work per item (index lookup, sorting, a paint call) costs several
frames even when the items draw nothing, so a scene of at least BIG_SCENE nodes, zoomed out
to where nodes are boxes anyway (`detail_at`), is painted by the view from these pictures
rastered into an image (view.py). They are recorded again only after something they show
changed (a node moved, a wire recoloured, an item added or removed, a pass published), and
then a few pieces per event-loop tick (`stream`, played by far_raster.py): meanwhile the view
keeps its last raster and draws over it what changed since (`over_raster`: each changed item
painted out in the canvas colour where the pictures drew it and drawn where it is now), with
the outlines of selected and marked nodes. The items stay in the scene, so clicks,
rubber-band selection and drags still find them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import shiboken6
from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPicture
from PySide6.QtWidgets import QGraphicsScene

from bpviz.ui.canvas.items import (
    HEADER_HEIGHT,
    MARK_COLOURS,
    Detail,
    EdgeItem,
    NodeItem,
    detail_at,
    theme_colours,
)
from bpviz.ui.theme import current_theme

BIG_SCENE = 1000  # nodes: from here on a far-zoomed scene is drawn as one picture


PIECE = 500  # lines or boxes per recorded piece: a raster plays a few pieces per tick
GATHER = 500  # items looked at between two pauses of a recording (`stream`)
TRACKED = 300  # changed items drawn over the last raster; beyond, it shows as it was


def _pieces(
    state: Callable[[QPainter], None], draw: Callable[[QPainter, list], None], items: list
) -> Iterator[QPicture]:
    """`draw` of `items`, recorded PIECE at a time, each piece with the painter `state`."""
    for i in range(0, len(items), PIECE):
        picture = QPicture()
        painter = QPainter(picture)
        state(painter)
        draw(painter, items[i : i + PIECE])
        painter.end()
        yield picture


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
    recorded in pieces of PIECE lines or boxes, so a recording and its raster can be spread
    over several ticks (`stream`, far_raster.py); played in order they paint what one
    picture would.

    `version` counts the changes of what the pictures show. A change made through an item
    (`invalidate` with the item) is drawn over the last raster until a new one is shown; one
    that is not (a pass's wire colours), or one of more than TRACKED (a theme), shows once the
    new raster is done."""

    def __init__(self, scene: QGraphicsScene) -> None:
        self.scene = scene
        self._wires: list[QPicture] | None = None
        self._nodes: list[QPicture] | None = None
        self._over: QPicture | None = None  # `over_raster`, until something in it changes
        self._moving = False  # nodes are being dragged (`hold`): no new recording meanwhile
        self._pending: set[str] = set()  # what changed while they were
        self._version = 0
        self._changed_at = {"wires": 0, "nodes": 0}  # the version each part last changed at
        self._recorded_at = {"wires": -1, "nodes": -1}  # ...and was last recorded at
        self._generation = 0  # the pass (`Overlays.generation`) the wires were recorded with
        self._changes: dict[int, tuple[int, NodeItem | EdgeItem]] = {}  # id: (version, item)
        self._untracked_at: int | None = None  # too many changes to draw over, up to here
        self._drawn_boxes: dict[int, QRectF] = {}  # what the recorded pictures show of a node
        self._drawn_lines: dict[int, QLineF] = {}  # ... and of a wire
        # a node's box and header in the scene, until it changes (moves, resizes): a recording
        # makes no new rects for the nodes that stayed
        self._boxes: dict[int, tuple[QRectF, QRectF]] = {}
        self._repaint_asked = False  # since the last paint (`ask_repaint`)
        self.scenes = 0  # new scenes shown (`reset`): their first raster is painted at once
        self.recordings = 0  # how often it was brought up to date (for tests and benchmarks)

    def big(self) -> bool:
        """Whether the scene has BIG_SCENE nodes or more: then it is drawn as the picture far
        out, and its wires by the canvas close up (wires.py)."""
        return len(self.scene.node_items) >= BIG_SCENE

    def wanted(self, scale: float) -> bool:
        """Whether a view at `scale` shows this scene as the picture."""
        return self.big() and detail_at(scale) is Detail.BOX

    def version(self) -> int:
        """What the pictures show, counted up at each change (a pass published since the
        wires were recorded is one: their colours come from it)."""
        overlays = getattr(self.scene, "overlays", None)
        if overlays is not None and overlays.generation != self._generation:
            self._generation = overlays.generation
            self.invalidate("wires")
        return self._version

    def reset(self) -> None:
        """The scene shows another document: nothing of the old pictures is worth showing."""
        self._wires = self._nodes = self._over = None
        self._moving, self._pending = False, set()
        self._changes.clear()
        self._untracked_at = None
        self._drawn_boxes, self._drawn_lines, self._boxes = {}, {}, {}
        self.scenes += 1
        self.invalidate()

    def hold(self) -> None:
        """A drag of nodes begins: until `release`, the recorded pictures (and the raster made
        of them) stay as they are and the moving nodes are drawn over them with their wires
        (`over_raster`), each drag step a few boxes and lines instead of a new recording and
        raster of the whole scene."""
        self._moving, self._pending = True, set()

    def holding(self) -> bool:
        return self._moving

    def release(self) -> None:
        """The drag ended: what changed meanwhile is recorded again."""
        if self._moving:
            self._moving = False
            if self._pending:
                self._bump(self._pending)

    def invalidate(self, part: str = "all", item: NodeItem | EdgeItem | None = None) -> None:
        """`part` changed: "wires", "nodes", "outlines" (which nodes are selected or marked)
        or (the default) all; by way of `item` (a node or wire added, moved, recoloured or
        removed), if given: until the pictures show it, it is drawn over the raster. Nodes
        moving moves their outlines too."""
        self._over = None
        self.ask_repaint()
        if part == "outlines":
            return
        if item is not None:
            self._boxes.pop(id(item), None)
            self._track(item)
        if self._moving:
            self._pending.add(part)
        else:
            self._bump(("wires", "nodes") if part == "all" else (part,))

    def ask_repaint(self) -> None:
        """Views showing the pictures repaint (`far_changed`): Qt forwards an item's update
        only to the views that painted the item, and such a view paints none."""
        if self._repaint_asked or not shiboken6.isValid(self.scene):  # (a scene closing)
            return
        self._repaint_asked = True
        for view in self.scene.views():
            far_changed = getattr(view, "far_changed", None)
            if far_changed is not None:
                far_changed()

    def _bump(self, parts: Iterable[str]) -> None:
        self._version += 1
        for part in parts:
            self._changed_at[part] = self._version

    def _track(self, item: NodeItem | EdgeItem) -> None:
        """`item` changed with the next version: drawn over the raster until then shown."""
        stamp = self._version + 1
        if self._untracked_at is None and (
            len(self._changes) < TRACKED or id(item) in self._changes
        ):
            self._changes[id(item)] = (stamp, item)
        else:  # a pass or a theme changes everything: drawn over, it would cost a raster
            self._changes.clear()
            self._untracked_at = stamp  # the old raster shows until one shows this

    def current(self) -> bool:
        """Whether the recorded pictures show the scene as it is."""
        self.version()
        return all(self._recorded_at[p] >= self._changed_at[p] for p in ("wires", "nodes"))

    def pictures(self) -> list[QPicture]:
        """The pieces of the wires and then of the nodes drawn over them, recorded here where
        out of date, in the order they are played."""
        for _ in self.stream():
            pass
        return self._wires + self._nodes

    def stream(self) -> Iterator[QPicture | None]:
        """The pieces `pictures` returns, recorded where out of date as they are asked for:
        between two, at most PIECE boxes or lines are drawn or GATHER items looked at (None
        when no piece is ready yet). Once all are, they are the pictures, labelled with the
        version they began at: what changed meanwhile is recorded again next time."""
        start, scene = self.version(), self.scenes
        parts = {"wires": self._wires, "nodes": self._nodes}
        drawn = {"wires": self._drawn_lines, "nodes": self._drawn_boxes}
        record = {"wires": self._record_wires, "nodes": self._record_nodes}
        fresh: dict[str, tuple[list[QPicture], dict]] = {}
        for part in ("wires", "nodes"):
            kept = parts[part]
            if kept is not None and self._recorded_at[part] >= self._changed_at[part]:
                yield from kept
                continue
            pieces: list[QPicture] = []
            geometry: dict = {}
            for piece in record[part](geometry):
                if piece is not None:
                    pieces.append(piece)
                yield piece
            fresh[part] = pieces, geometry
        if scene != self.scenes or start < max(self._recorded_at.values()):
            return  # another document since, or a newer recording done meanwhile
        for part, (pieces, geometry) in fresh.items():
            parts[part], drawn[part] = pieces, geometry
            self._recorded_at[part] = start
        self._wires, self._nodes = parts["wires"], parts["nodes"]
        self._drawn_lines, self._drawn_boxes = drawn["wires"], drawn["nodes"]
        self._shown(start)  # every part was current at `start` or is recorded again
        self.recordings += bool(fresh)

    def _shown(self, version: int) -> None:
        """The pictures show every change up to `version`: those need not be drawn over."""
        self._changes = {k: c for k, c in self._changes.items() if c[0] > version}
        if self._untracked_at is not None and self._untracked_at <= version:
            self._untracked_at = None
        self._over = None

    def over_raster(self) -> QPicture:
        """What is drawn over the raster at every paint: the items changed since the pictures
        were recorded (painted out where the pictures drew them, in the canvas colour, and
        drawn where they are now; a node removed leaves, for a moment, a gap in the wires
        under it), then the outlines of the selected and marked nodes. Selecting a node,
        stepping the pass's mark or a drag step far out costs a few boxes, not a new raster
        of the whole scene."""
        self._repaint_asked = False  # painting: the next change asks again
        if self._over is None:
            colours = theme_colours(current_theme())
            picture = QPicture()
            painter = QPainter(picture)
            if self._untracked_at is None and self._changes:
                self._draw_changes(painter, colours)
            self._draw_outlines(painter, colours)
            painter.end()
            self._over = picture
        return self._over

    def _draw_changes(self, painter: QPainter, colours: dict) -> None:
        """Changed items painted out where the pictures drew them, then drawn as `stream`
        draws them where they are now (wires first, then nodes)."""
        canvas = QColor(current_theme().canvas)
        items = [change[1] for change in self._changes.values()]
        painter.setPen(QPen(canvas, 0))
        painter.setBrush(canvas)
        lines, boxes = self._drawn_lines, self._drawn_boxes
        painter.drawLines([lines[id(i)] for i in items if id(i) in lines])
        painter.drawRects([boxes[id(i)] for i in items if id(i) in boxes])
        here = [i for i in items if i.scene() is self.scene and i.isVisible()]
        for edge in here:
            if isinstance(edge, EdgeItem):
                painter.setPen(QPen(QColor.fromRgba(edge.far_rgba), 0))
                painter.drawLine(edge.line)
        for node in here:
            if isinstance(node, NodeItem):
                box, header = self._rects(node)
                painter.setPen(QPen(colours["node_outline"], 0))
                painter.setBrush(colours["node_body"])
                painter.drawRect(box)
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(QColor.fromRgba(node.header_rgba))
                painter.drawRect(header)
        painter.setBrush(Qt.BrushStyle.NoBrush)

    def _draw_outlines(self, painter: QPainter, colours: dict) -> None:
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
        for (rgba, width), rects in outlined.items():
            _pen(QColor.fromRgba(rgba), width, cosmetic=True)(painter)
            painter.drawRects(rects)

    def _rects(self, item: NodeItem) -> tuple[QRectF, QRectF]:
        """The node's box and header in the scene, kept until it changes (`invalidate`)."""
        rects = self._boxes.get(id(item))
        if rects is None:
            box = item.scene_box()
            rects = box, QRectF(box.x(), box.y(), box.width(), HEADER_HEIGHT)
            self._boxes[id(item)] = rects
        return rects

    def _record_wires(self, drawn: dict[int, QLineF]) -> Iterator[QPicture | None]:
        """Straight wires grouped by colour: one call draws hundreds."""
        wires: dict[int, list[QLineF]] = {}
        for n, edge in enumerate(list(self.scene.edge_items.values()), 1):
            if edge.isVisible():
                line = edge.line
                wires.setdefault(edge.far_rgba, []).append(line)
                drawn[id(edge)] = line
            if n % GATHER == 0:
                yield None
        for rgba, lines in wires.items():  # cosmetic: one pixel at any zoom
            yield from _pieces(_pen(QColor.fromRgba(rgba)), QPainter.drawLines, lines)

    def _record_nodes(self, drawn: dict[int, QRectF]) -> Iterator[QPicture | None]:
        """Node bodies (all filled, then all outlined, as one drawRects call paints them) and
        headers grouped by op colour; selected and marked nodes are outlined over the raster
        (`over_raster`)."""
        colours = theme_colours(current_theme())
        bodies: list[QRectF] = []
        headers: dict[int, list[QRectF]] = {}
        cached = self._boxes
        for n, item in enumerate(list(self.scene.node_items.values()), 1):
            rects = cached.get(id(item)) or self._rects(item)  # (the call only when not kept)
            bodies.append(rects[0])
            drawn[id(item)] = rects[0]
            rgba = item.header_rgba
            if rgba in headers:
                headers[rgba].append(rects[1])
            else:
                headers[rgba] = [rects[1]]
            if n % GATHER == 0:
                yield None
        yield from _pieces(_brush(colours["node_body"]), QPainter.drawRects, bodies)
        yield from _pieces(_pen(colours["node_outline"]), QPainter.drawRects, bodies)
        for rgba, rects in headers.items():
            yield from _pieces(_brush(QColor.fromRgba(rgba)), QPainter.drawRects, rects)
