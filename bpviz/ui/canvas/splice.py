"""Dropping a node onto a wire splices it in, as node editors do.

While a palette entry is dragged over the canvas, the wire under the cursor is outlined:
blue when the node fits there, red and dashed when it does not (the status bar says why).
On drop the node goes into that wire as one undo step (`SpliceNode`), or is just added when
no wire is under the cursor or its ports or shapes do not fit. The Tab search uses the same
rule at the point where it was opened. A loss put into a graph that has no output yet
becomes its output in the same step: training needs one, and a newcomer would not know.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from bpviz.engine.graph import Edge
from bpviz.engine.ops import REGISTRY
from bpviz.model.commands import AddNode, Command, Compound, MoveNodes, SetOutput
from bpviz.model.document import Document
from bpviz.model.edits import SpliceNode, splice_problem
from bpviz.ui.canvas.header_controls import width_of_new
from bpviz.ui.canvas.items import EdgeItem


class Canvas(Protocol):
    """What of the canvas scene a drop needs (the scene imports this module)."""

    document: Document
    status: object  # Signal(str)
    node_items: dict  # node id -> NodeItem

    def push(self, command: Command) -> bool: ...
    def add_node_command(self, op: str, scene_pos: QPointF) -> AddNode: ...
    def items(self, rect: QRectF) -> list[QGraphicsItem]: ...
    def addItem(self, item: QGraphicsItem) -> None: ...
    def removeItem(self, item: QGraphicsItem) -> None: ...


# op, attrs, src, dst, port, the new node's port -> why the shapes would not fit, or None
SpliceCheck = Callable[[str, dict, str, str, str, str], str | None]
FITS_COLOUR = QColor("#1a73e8")
REFUSED_COLOUR = QColor("#d93025")
WIRE_REACH = 8.0  # how far from a wire (scene units) the cursor still counts as on it
ROOM = 40.0  # the gap a spliced node keeps from its neighbours


class SpliceDrops:
    """Decides what a node dropped at a point becomes, and shows it while dragging."""

    def __init__(self, scene: Canvas) -> None:
        self.scene = scene
        self.checker: SpliceCheck | None = None  # shapes, beyond the ports (ShapeOracle)
        self.target: EdgeItem | None = None  # the wire outlined now
        self.problem: str | None = None  # why the dragged node would not fit there
        self._outline: QGraphicsPathItem | None = None
        self._checked: tuple[str, tuple[str, str, str]] | None = None

    def wire_at(self, pos: QPointF) -> EdgeItem | None:
        """The topmost wire within reach of `pos`."""
        r = WIRE_REACH
        for item in self.scene.items(QRectF(pos.x() - r, pos.y() - r, 2 * r, 2 * r)):
            if not isinstance(item, EdgeItem) or not item.isVisible():
                continue
            if item.contains(item.mapFromScene(pos)):
                return item
        return None

    def why_not(self, op: str, edge: EdgeItem) -> str | None:
        """Why `op` cannot go into `edge` (ports first, then shapes), or None if it fits."""
        doc = self.scene.document
        src, dst, port = edge.key
        problem = splice_problem(doc, op, Edge(src, dst, port))
        if problem is None and self.checker is not None:
            spec = REGISTRY[op]
            attrs = {k: a.default for k, a in spec.attrs.items() if not a.optional}
            problem = self.checker(op, attrs, src, dst, port, spec.inputs[0])
        return problem

    # ---- while dragging ------------------------------------------------------------------
    def hover(self, op: str, pos: QPointF) -> None:
        """Outline the wire a drop at `pos` would go into."""
        edge = self.wire_at(pos)
        if edge is None:
            self.clear()
            return
        key = (op, edge.key)
        if self._checked != key:
            self._checked = key
            self.problem = self.why_not(op, edge)
            src, dst, port = edge.key
            self.scene.status.emit(
                f"Won't splice into {src} → {dst}.{port}: {self.problem}"
                if self.problem
                else f"Drop to insert {op} into {src} → {dst}.{port}"
            )
        self.target = edge
        self._draw_outline(edge)

    def _draw_outline(self, edge: EdgeItem) -> None:
        if self._outline is None:
            self._outline = QGraphicsPathItem()
            self._outline.setZValue(0.5)  # over its wire, under the nodes
            self.scene.addItem(self._outline)
        colour = REFUSED_COLOUR if self.problem else FITS_COLOUR
        style = Qt.PenStyle.DashLine if self.problem else Qt.PenStyle.SolidLine
        self._outline.setPen(QPen(colour, 5.0, style, Qt.PenCapStyle.RoundCap))
        self._outline.setPath(edge.path())

    def clear(self) -> None:
        """Nothing outlined (the drag left the canvas, was dropped, or left the wire)."""
        if self._outline is not None:
            self.scene.removeItem(self._outline)
            self._outline = None
        self.target, self.problem, self._checked = None, None, None

    # ---- the drop ------------------------------------------------------------------------
    def drop(self, op: str, pos: QPointF, splice: bool = True) -> bool:
        """Add `op` at `pos`, into the wire there when it fits (and `splice`); one undo step."""
        self.clear()
        command, message = self.command(op, pos, splice)
        done = self.scene.push(command)
        if done and message:
            self.scene.status.emit(message)
        return done

    def command(self, op: str, pos: QPointF, splice: bool = True) -> tuple[Command, str | None]:
        """The command a drop of `op` at `pos` means, and what to tell the person."""
        add: AddNode = self.scene.add_node_command(op, pos)
        edge = self.wire_at(pos) if splice else None
        if edge is None:
            return self._with_output(add, op, add.node_id, None)
        src, dst, port = edge.key
        problem = self.why_not(op, edge)
        if problem:
            message = f"Added {add.node_id} beside the wire {src} → {dst}.{port}: {problem}"
            return self._with_output(add, op, add.node_id, message)
        x, moves = self.room_after(src, add.pos[0], [dst], width_of_new(add.node_id, op))
        command: Command = SpliceNode(
            add.node_id, op, Edge(src, dst, port), add.attrs, (x, add.pos[1])
        )
        if moves is not None:
            command = Compound(command.text, [command, moves])
        message = f"Inserted {add.node_id} into {src} → {dst}.{port}"
        return self._with_output(command, op, add.node_id, message)

    def room_after(
        self, src: str, x: float, heads: list[str], width: float
    ) -> tuple[float, MoveNodes | None]:
        """Where a node `width` wide put after `src` goes (at `x` or further right, clear of
        `src`), and the move that shifts `heads` and everything after them right when the
        node would cover them, as node editors do (None: there is room)."""
        items = self.scene.node_items
        x = max(x, items[src].pos().x() + items[src].shape().boundingRect().width() + ROOM)
        if not heads:
            return x, None
        shift = x + width + ROOM - min(items[h].pos().x() for h in heads)
        if shift <= 0:
            return x, None
        doc = self.scene.document
        after, todo = set(heads), list(heads)
        while todo:  # the heads and their descendants, iteratively
            for edge in doc.consumers(todo.pop()):
                if edge.dst not in after:
                    after.add(edge.dst)
                    todo.append(edge.dst)
        new = {n: (doc.pos(n)[0] + shift, doc.pos(n)[1]) for n in doc.nodes if n in after}
        return x, MoveNodes(new, text="Make room")

    def _with_output(
        self, command: Command, op: str, node_id: str, message: str | None
    ) -> tuple[Command, str | None]:
        """A loss in a graph without an output becomes the output, in the same step."""
        if REGISTRY[op].category != "losses" or self.scene.document.output is not None:
            return command, message
        said = f"{node_id} is the output: training minimises it"
        return Compound(command.text, [command, SetOutput(node_id)]), (
            f"{message}; {said}" if message else said
        )
