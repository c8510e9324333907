"""The canvas scene: mirrors the document as items and turns gestures into commands.

It subscribes to the document's signals and keeps `{node_id: NodeItem}`; it never edits the
document itself. Moving is committed as one MoveNodes command when the mouse is released;
wiring is a small `WireDrag` interaction that ends in Connect/ReplaceConnection/Disconnect.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsPathItem,
    QGraphicsScene,
    QGraphicsSceneContextMenuEvent,
    QGraphicsSceneMouseEvent,
    QMenu,
)

from bpviz.engine.ops import REGISTRY
from bpviz.model.commands import (
    AddNode,
    Command,
    Compound,
    Connect,
    Disconnect,
    MoveNodes,
    ReplaceConnection,
)
from bpviz.model.document import Document
from bpviz.ui.canvas.header_controls import HEADER_OPS, DenseControls
from bpviz.ui.canvas.items import (
    GRID,
    HEADER_HEIGHT,
    NO_CONTENTS,
    PORT_HIT_RADIUS,
    WIRE_COLOUR,
    EdgeItem,
    NodeItem,
    wire_path,
)
from bpviz.ui.canvas.neuron_views import NeuronViews
from bpviz.ui.canvas.overlays import Overlays
from bpviz.ui.canvas.overview import BIG_SCENE, Overview
from bpviz.ui.canvas.pulses import Pulses
from bpviz.ui.canvas.splice import SpliceDrops
from bpviz.ui.canvas.value_drag import ValueDrag
from bpviz.ui.canvas.wires import draw_wires

Problem = Callable[[str, str, str], str | None]
SCENE_MARGIN = 2000.0
"""Room around the nodes in the scene rect (`_fit_scene_rect`), and the least it grows by."""
BSP_DEPTH = 10
"""The item index's depth (1,024 cells). Qt's own choice grows with the item count (14 at
13,000 items: 16,384 cells), and a wire across a big scene is filed in every cell its box
covers: the index of a 5,000-node scene then took 0.4-0.7 s to build, at the first hover
after opening (and again whenever the scene grew), against 30 ms here; lookups cost the same
(at depth 8, 20 ms, but moving a node costs 2-4 times as much)."""
# a node's context-menu entries: (text, what it does, why it is unavailable or None)
MenuEntries = Callable[[str], list[tuple[str, Callable[[], object], str | None]]]


class WireDrag:
    """A wire being dragged from a fixed port to wherever the mouse is.

    `fixed` is ('out', node) when dragging from an output toward inputs, or ('in', node, port)
    toward an output. `detached` is the existing edge picked up by its input end, if any.
    """

    def __init__(
        self, scene: CanvasScene, fixed: tuple, start: QPointF, detached: EdgeItem | None = None
    ) -> None:
        self.scene = scene
        self.fixed = fixed
        self.detached = detached
        self.target: tuple[NodeItem, str] | None = None
        self.problem: str | None = None
        self.item = QGraphicsPathItem()
        pen = QPen(WIRE_COLOUR, 2.0, Qt.PenStyle.DashLine)
        self.item.setPen(pen)
        self.item.setZValue(3)
        scene.addItem(self.item)
        if detached is not None:
            detached.setVisible(False)
        self.move(start)

    def _anchor(self) -> QPointF:
        items = self.scene.node_items
        if self.fixed[0] == "out":
            return items[self.fixed[1]].output_anchor()
        return items[self.fixed[1]].input_anchor(self.fixed[2])

    def move(self, pos: QPointF) -> None:
        anchor = self._anchor()
        want = "in" if self.fixed[0] == "out" else "out"
        hit = self.scene.port_at(pos, want)
        if self.target and (hit is None or hit != self.target):
            self.target[0].set_port_state(self.target[1], None)
            self.target, self.problem = None, None
        if hit is not None and self.target is None:
            self.target = hit
            self.problem = self._problem(*hit)
            hit[0].set_port_state(hit[1], "invalid" if self.problem else "valid")
            self.scene.status.emit(f"Can't connect: {self.problem}" if self.problem else "")
        end = pos
        if self.target is not None:
            node, port = self.target
            end = node.output_anchor() if port == "" else node.input_anchor(port)
        start, finish = (anchor, end) if self.fixed[0] == "out" else (end, anchor)
        self.item.setPath(wire_path(start, finish))

    def _edge_for(self, node: NodeItem, port: str) -> tuple[str, str, str]:
        if self.fixed[0] == "out":
            return self.fixed[1], node.node_id, port
        return node.node_id, self.fixed[1], self.fixed[2]

    def _problem(self, node: NodeItem, port: str) -> str | None:
        src, dst, p = self._edge_for(node, port)
        if self.detached is not None and self.detached.key == (src, dst, p):
            return None
        return self.scene.connection_problem(src, dst, p)

    def finish(self) -> Command | None:
        """The command the drop means, or None (refused, cancelled or unchanged)."""
        self.scene.removeItem(self.item)
        if self.detached is not None:
            self.detached.setVisible(True)
        if self.target is not None:
            self.target[0].set_port_state(self.target[1], None)
        old = self.detached.key if self.detached is not None else None
        if self.target is None:
            return Disconnect(*old) if old else None
        if self.problem:
            self.scene.status.emit(f"Can't connect: {self.problem}")
            return None
        src, dst, port = self._edge_for(*self.target)
        if old == (src, dst, port):
            return None
        occupied = port in self.scene.document.node(dst).inputs
        connect = ReplaceConnection(src, dst, port) if occupied else Connect(src, dst, port)
        if old is None:
            return connect
        return Compound(f"Reconnect {src} → {dst}.{port}", [Disconnect(*old), connect])


class CanvasScene(QGraphicsScene):
    status = Signal(str)  # a message for the status bar (reasons for refusals)
    value_dragged = Signal(str)  # a node's value changed by dragging it (live, and at the end)

    def __init__(
        self,
        push: Callable[[Command], bool],
        explain: Callable[[str], str | None] = lambda node_id: None,
        parent: object = None,
    ) -> None:
        """`push` runs an edit as an undoable command; `explain(node_id)` is the node's
        formula with the current numbers, for its tooltip (None: nothing to add)."""
        super().__init__(parent)
        self.push = push
        self.explain = explain
        self.document: Document | None = None
        self.node_items: dict[str, NodeItem] = {}
        self.edge_items: dict[tuple[str, str, str], EdgeItem] = {}
        self.header_controls: dict[str, DenseControls] = {}  # a dense layer's ± and activation
        self.node_menus: list[MenuEntries] = []  # the parts' entries in a node's context menu
        self.problem_checker: Problem | None = None
        self.snap = False
        self._wire: WireDrag | None = None
        self._value_drag: ValueDrag | None = None
        self._drag_start: dict[str, QPointF] = {}
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self.setBspTreeDepth(BSP_DEPTH)
        self._fit_scene_rect()
        self.pulses = Pulses(self)
        self.overview = Overview(self)  # how a big scene looks from far away
        self.selectionChanged.connect(lambda: self.overview.invalidate("outlines"))
        self.overlays = Overlays()  # a pass's numbers, taken by each item when seen
        self.splices = SpliceDrops(self)  # a node dropped onto a wire goes into it
        self.neurons = NeuronViews(self)  # dense layers opened into their neurons
        self.node_menus.append(self.neurons.menu_entries)

    # ---- document binding ----------------------------------------------------------------
    _SIGNALS = (
        "node_added",
        "node_removed",
        "node_moved",
        "edge_added",
        "edge_removed",
        "attr_changed",
        "output_changed",
    )

    def set_document(self, document: Document) -> None:
        if self.document is not None:
            for name in self._SIGNALS:
                getattr(self.document, name).disconnect(getattr(self, f"_on_{name}"))
        self._wire = None
        self._value_drag = None
        self.pulses.stop_all()
        self.splices.clear()
        self.neurons.set_document(document)  # before clear(): its pulses stop on live items
        self.clear()
        self.node_items.clear()
        self.header_controls.clear()
        self.edge_items.clear()
        self.document = document
        for node_id in document.nodes:  # thousands: what is per scene is done once, below
            self._add_node_item(node_id)
        for edge in document.edges():
            self._add_edge_item(edge.src, edge.dst, edge.port)
        self._fit_scene_rect()
        self.overlays.items_added()
        self.overview.reset()
        for name in self._SIGNALS:
            getattr(document, name).connect(getattr(self, f"_on_{name}"))

    def _fit_scene_rect(self) -> None:
        """The scene rect (the area the item index divides; the view has its own) is set
        here, never grown by Qt: growing it, Qt measured every item after every change
        (13,000 calls into Python as a big scene opens, a tenth of its first frame) and
        rebuilt the item index whenever the items' area grew, even at each step of a drag
        past the edge. It covers the nodes with a margin; a node added or moved beyond it
        grows it (`_cover`)."""
        rect = self.nodes_rect() if self.node_items else QRectF(0, 0, 1, 1)
        m = SCENE_MARGIN
        self.setSceneRect(rect.adjusted(-m, -m, m, m))

    def _cover(self, item: NodeItem) -> None:
        """Grow the scene rect to hold `item`, and a quarter of its size more on each side
        (so a few moves outward cost one rebuild of the item index, not one each)."""
        area = self.sceneRect()
        box = item.mapRectToScene(item.boundingRect() | item.childrenBoundingRect())
        if not area.contains(box):
            grown = area | box
            dx = max(SCENE_MARGIN, grown.width() / 4)
            dy = max(SCENE_MARGIN, grown.height() / 4)
            self.setSceneRect(grown.adjusted(-dx, -dy, dx, dy))

    def _on_node_added(self, node_id: str) -> None:
        self._add_node_item(node_id)
        self._cover(self.node_items[node_id])
        self.overlays.items_added()
        self.overview.invalidate("nodes", self.node_items[node_id])

    def _add_node_item(self, node_id: str) -> None:
        document = self.document
        node = document.node(node_id)
        item = NodeItem(node, document.pos(node_id))
        if node.op in HEADER_OPS:
            self.header_controls[node_id] = DenseControls(item, node)
        item.is_output = node_id == document.output
        self.node_items[node_id] = item
        self.addItem(item)
        item.far = self.overview
        item.overlays = self.overlays

    def _on_node_removed(self, node_id: str) -> None:
        item = self.node_items.pop(node_id)
        self.header_controls.pop(node_id, None)
        for edge in list(item.edges):
            self._on_edge_removed(*edge.key)
        self.removeItem(item)
        self.overview.invalidate("nodes", item)
        if len(self.node_items) == BIG_SCENE - 1:  # small again: wires paint themselves
            for edge in self.edge_items.values():
                edge.setFlag(NO_CONTENTS, False)

    def _on_node_moved(self, node_id: str, pos: tuple[float, float]) -> None:
        item = self.node_items[node_id]
        if (item.x(), item.y()) != tuple(pos):
            item.setPos(*pos)  # the document's position is the truth: not snapped
            item.moved()
        self._cover(item)

    def _on_edge_added(self, src: str, dst: str, port: str) -> None:
        self._add_edge_item(src, dst, port)
        self.overlays.items_added()
        self.overview.invalidate("wires", self.edge_items[src, dst, port])

    def _add_edge_item(self, src: str, dst: str, port: str) -> None:
        edge = EdgeItem(self.node_items[src], self.node_items[dst], port)
        self.edge_items[src, dst, port] = edge
        self.addItem(edge)
        edge.far = self.overview
        edge.overlays = self.overlays

    def _on_edge_removed(self, src: str, dst: str, port: str) -> None:
        edge = self.edge_items.pop((src, dst, port), None)
        if edge is not None:
            edge.detach()
            self.removeItem(edge)
            self.overview.invalidate("wires", edge)

    def _on_attr_changed(self, node_id: str, name: str, value: object) -> None:
        node = self.document.node(node_id)
        self.node_items[node_id].show_node(node)
        if node_id in self.header_controls:
            self.header_controls[node_id].show_node(node)

    def _on_output_changed(self, node_id: str | None) -> None:
        for nid, item in self.node_items.items():
            if item.is_output != (nid == node_id):
                item.is_output = nid == node_id
                item.update()

    def publish(self, *numbers: Any) -> None:
        """A pass's numbers (`Overlays.publish`'s arguments), and the repaint that shows them:
        items take their numbers when painted, and in a window nothing else would repaint
        them (a repaint of what did not change copies cached pictures); a far view, which
        paints no items and so hears of no item's update, records the wires' new colours."""
        self.overlays.publish(*numbers)
        self.update()
        self.overview.ask_repaint()

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        """A big scene's wires, under every item (wires.py), as an export renders them;
        in a smaller scene each wire paints itself. A view draws its grid and then the
        wires itself."""
        super().drawBackground(painter, rect)
        if self.overview.big():
            draw_wires(self, painter, rect)

    def refresh_theme(self) -> None:
        """Repaint every node and wire in the current theme's colours (heatmaps included)."""
        for item in self.node_items.values():
            item.recolour()
        for edge in self.edge_items.values():
            edge.recolour()
        self.overview.invalidate()

    # ---- queries and actions for the window ----------------------------------------------
    def selected_ids(self) -> list[str]:
        """Selected node ids in document order."""
        chosen = {i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)}
        return [nid for nid in self.document.nodes if nid in chosen]

    def select(self, node_ids: list[str]) -> None:
        self.clearSelection()
        for nid in node_ids:
            if nid in self.node_items:
                self.node_items[nid].setSelected(True)

    def nodes_rect(self) -> QRectF:
        """The scene area the nodes take with their ports and what hangs under them (a
        layer opened into neurons); empty without nodes. Worked out in plain numbers, Qt
        asked only about nodes with child items."""
        left = top = math.inf
        right = bottom = -math.inf
        hanging = QRectF()
        for item in self.node_items.values():
            x0, y0, x1, y1 = item.outer_edges()
            if x0 < left:
                left = x0
            if y0 < top:
                top = y0
            if x1 > right:
                right = x1
            if y1 > bottom:
                bottom = y1
            if item.childItems():
                hanging |= item.mapRectToScene(item.childrenBoundingRect())
        if left > right:
            return QRectF()
        return QRectF(left, top, right - left, bottom - top) | hanging

    def set_snap(self, on: bool) -> None:
        """Nodes dragged from now on land on the grid (`_follow_drag`)."""
        self.snap = on

    def add_node_command(self, op: str, scene_pos: QPointF) -> AddNode:
        """A command adding `op` with its required attrs at scene_pos (centred on the title)."""
        spec = REGISTRY[op]
        attrs = {k: a.default for k, a in spec.attrs.items() if not a.optional}
        node_id = self.document.unique_id(op)
        pos = (scene_pos.x() - 80.0, scene_pos.y() - 13.0)
        if self.snap:
            pos = (round(pos[0] / 20) * 20.0, round(pos[1] / 20) * 20.0)
        return AddNode(node_id, op, attrs, pos)

    def connection_problem(self, src: str, dst: str, port: str) -> str | None:
        if self.problem_checker is not None:
            return self.problem_checker(src, dst, port)
        return self.document.graph.connect_problem(src, dst, port, replacing=True)

    def port_at(self, pos: QPointF, kind: str) -> tuple[NodeItem, str] | None:
        """The node and port of the given kind ('in' or 'out') under pos, if any."""
        r = PORT_HIT_RADIUS
        for item in self.items(QRectF(pos.x() - r, pos.y() - r, 2 * r, 2 * r)):
            if isinstance(item, NodeItem):
                hit = item.port_at(pos)
                if hit is not None and hit[0] == kind:
                    return item, hit[1]
        return None

    def _draggable_value_at(self, pos: QPointF) -> NodeItem | None:
        """The topmost node under pos, if pos is on a value that can be dragged."""
        for item in self.items(pos):
            if isinstance(item, NodeItem):
                on_value = item.value_box().contains(item.mapFromScene(pos))
                return item if on_value and item.draggable_value() is not None else None
        return None

    # ---- gestures ------------------------------------------------------------------------
    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.document is not None:
            pos = event.scenePos()
            out = self.port_at(pos, "out")
            if out is not None:
                self._wire = WireDrag(self, ("out", out[0].node_id), pos)
                event.accept()
                return
            inp = self.port_at(pos, "in")
            if inp is not None:
                node, port = inp
                src = self.document.node(node.node_id).inputs.get(port)
                if src is not None:  # pick up the existing wire by its input end
                    edge = self.edge_items[(src, node.node_id, port)]
                    self._wire = WireDrag(self, ("out", src), pos, detached=edge)
                else:
                    self._wire = WireDrag(self, ("in", node.node_id, port), pos)
                event.accept()
                return
            item = self._draggable_value_at(pos)
            if item is not None:
                x = float(event.screenPos().x())  # screen pixels: the same feel at any zoom
                self._value_drag = ValueDrag(
                    self.document, item.node_id, item.draggable_value(), x, self.value_dragged.emit
                )
                self.select([item.node_id])  # the inspector shows the number as it changes
                event.accept()
                return
        super().mousePressEvent(event)
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag_start = {
                i.node_id: i.pos() for i in self.selectedItems() if isinstance(i, NodeItem)
            }

    def _node_at(self, pos: QPointF) -> NodeItem | None:
        return next((i for i in self.items(pos) if isinstance(i, NodeItem)), None)

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        """Double-clicking a layer's (or the input's) header opens or closes its neurons;
        not on the header's own controls (a dense layer's ± and activation)."""
        pos = event.scenePos()
        item = self._node_at(pos) if self.document is not None else None
        top = next(iter(self.items(pos)), None)
        on_header = item is top and item is not None
        on_header = on_header and item.mapFromScene(pos).y() <= HEADER_HEIGHT
        left = event.button() == Qt.MouseButton.LeftButton
        if on_header and left and self.neurons.menu_entries(item.node_id):
            self.neurons.toggle(item.node_id)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def contextMenuEvent(self, event: QGraphicsSceneContextMenuEvent) -> None:
        """Right-click on a node: the entries every part offers for it."""
        pos = event.scenePos()
        item = next((i for i in self.items(pos) if isinstance(i, NodeItem)), None)
        entries = [e for menu in self.node_menus for e in menu(item.node_id)] if item else []
        if not entries:
            super().contextMenuEvent(event)
            return
        menu = QMenu()
        for text, run, problem in entries:
            action = menu.addAction(text)
            action.triggered.connect(run)
            if problem:
                action.setEnabled(False)
                action.setToolTip(problem)
        menu.setToolTipsVisible(True)
        menu.exec(event.screenPos())
        event.accept()

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._wire is not None:
            self._wire.move(event.scenePos())
            event.accept()
            return
        if self._value_drag is not None:
            self._value_drag.move(float(event.screenPos().x()), event.modifiers())
            event.accept()
            return
        super().mouseMoveEvent(event)
        if self._drag_start:
            self._follow_drag()

    def _follow_drag(self) -> None:
        """Qt has moved the dragged nodes (from where they were pressed, by the mouse's way
        since): on the grid if snapping, and their wires with them. A big scene's far view
        keeps its picture meanwhile and draws them over it (`Overview.hold`)."""
        if self.overview.big() and not self.overview.holding():
            self.overview.hold()
        for node_id in self._drag_start:
            item = self.node_items.get(node_id)
            if item is None:
                continue
            if self.snap:
                x, y = round(item.x() / GRID) * GRID, round(item.y() / GRID) * GRID
                if (x, y) != (item.x(), item.y()):
                    item.setPos(x, y)
            item.moved()

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._wire is not None and event.button() == Qt.MouseButton.LeftButton:
            wire, self._wire = self._wire, None
            command = wire.finish()
            if command is not None:
                self.push(command)
            event.accept()
            return
        if self._value_drag is not None and event.button() == Qt.MouseButton.LeftButton:
            drag, self._value_drag = self._value_drag, None
            command = drag.finish()
            if command is not None:
                self.push(command)
                self.value_dragged.emit(drag.node_id)
            event.accept()
            return
        super().mouseReleaseEvent(event)
        if event.button() == Qt.MouseButton.LeftButton and self._drag_start:
            self._commit_move()

    def _commit_move(self) -> None:
        start, self._drag_start = self._drag_start, {}
        self.overview.release()
        moved = {
            nid: (self.node_items[nid].pos().x(), self.node_items[nid].pos().y())
            for nid, p in start.items()
            if nid in self.node_items and self.node_items[nid].pos() != p
        }
        if moved:
            old = {nid: (start[nid].x(), start[nid].y()) for nid in moved}
            self.push(MoveNodes(moved, old))
