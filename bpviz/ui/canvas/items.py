"""Canvas items: a node box with its ports, and the wire between two ports.

Items only draw what the document says; they never edit it. Ports are painted by their node
and hit-tested by geometry (no child items), which keeps 500-node scenes light.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from bpviz.engine.graph import Node
from bpviz.engine.ops import REGISTRY

NODE_WIDTH = 160.0
HEADER_HEIGHT = 26.0
ROW_HEIGHT = 22.0
FOOTER_HEIGHT = 8.0
PORT_RADIUS = 5.5
PORT_HIT_RADIUS = 11.0
GRID = 20.0

TITLE_FONT = QFont()
TITLE_FONT.setPointSizeF(9.5)
TITLE_FONT.setBold(True)
SMALL_FONT = QFont()
SMALL_FONT.setPointSizeF(8.5)

BODY_COLOUR = QColor("#ffffff")
OUTLINE_COLOUR = QColor("#9aa0a6")
SELECTED_COLOUR = QColor("#1a73e8")
TEXT_COLOUR = QColor("#202124")
MUTED_TEXT = QColor("#5f6368")
WIRE_COLOUR = QColor("#80868b")
PORT_STATES = {
    None: QColor("#ffffff"),
    "valid": QColor("#34a853"),
    "invalid": QColor("#ea4335"),
    "source": QColor("#fbbc04"),
}


def node_summary(node: Node) -> str:
    """A short line under the title, e.g. 'dense 16 · relu' or 'const 2.5'."""
    a = node.attrs
    if node.op == "dense":
        act = a.get("activation", "none")
        return f"dense {a.get('units', 1)}" + ("" if act == "none" else f" · {act}")
    if node.op in ("const", "param") and a.get("value") is not None:
        v = a["value"]
        return (
            f"{node.op} {v:g}" if isinstance(v, (int, float)) else f"{node.op} [{_shape_text(v)}]"
        )
    if node.op == "pow":
        return f"pow ^{a.get('exponent', 2.0):g}"
    if node.op in ("sum", "mean") and a.get("axis") is not None:
        return f"{node.op} axis {a['axis']}"
    return REGISTRY[node.op].title


def _shape_text(value: object) -> str:
    dims = []
    while isinstance(value, list):
        dims.append(len(value))
        value = value[0] if value else None
    return "×".join(map(str, dims))


class NodeItem(QGraphicsItem):
    """A node: coloured header with its id and op, input ports left, output port right."""

    def __init__(self, node: Node, pos: tuple[float, float]) -> None:
        super().__init__()
        self.node_id = node.id
        self.spec = REGISTRY[node.op]
        self.summary = node_summary(node)
        self.is_output = False
        self.port_state: dict[str, str | None] = {}  # port name ("" = output) -> highlight
        self.edges: list[EdgeItem] = []
        self.snap = False
        self._colour = QColor(self.spec.colour)
        rows = max(1, len(self.spec.inputs))
        self._rect = QRectF(0, 0, NODE_WIDTH, HEADER_HEIGHT + rows * ROW_HEIGHT + FOOTER_HEIGHT)
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
            | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges
        )
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setAcceptHoverEvents(True)
        self.setZValue(1)
        self.setPos(*pos)
        self.setToolTip(f"{node.id}: {self.spec.title} — {self.spec.doc}")

    # ---- geometry ------------------------------------------------------------------------
    def boundingRect(self) -> QRectF:
        pad = PORT_RADIUS + 2
        return self._rect.adjusted(-pad, -pad, pad, pad)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(self._rect, 6, 6)
        return path

    def input_anchor(self, port: str) -> QPointF:
        """Scene position of an input port's centre."""
        i = self.spec.inputs.index(port)
        return self.mapToScene(QPointF(0, HEADER_HEIGHT + (i + 0.5) * ROW_HEIGHT))

    def output_anchor(self) -> QPointF:
        return self.mapToScene(QPointF(NODE_WIDTH, HEADER_HEIGHT + 0.5 * ROW_HEIGHT))

    def port_at(self, scene_pos: QPointF) -> tuple[str, str] | None:
        """('in', port) or ('out', '') if scene_pos is on a port, else None."""
        candidates = [("out", "", self.output_anchor())]
        candidates += [("in", p, self.input_anchor(p)) for p in self.spec.inputs]
        for kind, port, anchor in candidates:
            d = anchor - scene_pos
            if d.x() * d.x() + d.y() * d.y() <= PORT_HIT_RADIUS * PORT_HIT_RADIUS:
                return kind, port
        return None

    # ---- state the scene sets ------------------------------------------------------------
    def refresh(self, node: Node) -> None:
        self.summary = node_summary(node)
        self.update()

    def set_port_state(self, port: str, state: str | None) -> None:
        if self.port_state.get(port) != state:
            self.port_state[port] = state
            self.update()

    def clear_port_states(self) -> None:
        if any(self.port_state.values()):
            self.port_state.clear()
            self.update()

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: object) -> object:
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionChange and self.snap:
            p = value  # QPointF
            return QPointF(round(p.x() / GRID) * GRID, round(p.y() / GRID) * GRID)
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for edge in self.edges:
                edge.update_path()
        return super().itemChange(change, value)

    # ---- painting ------------------------------------------------------------------------
    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        r = self._rect
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        selected = self.isSelected()
        painter.setPen(
            QPen(SELECTED_COLOUR if selected else OUTLINE_COLOUR, 2.5 if selected else 1.0)
        )
        painter.setBrush(BODY_COLOUR)
        painter.drawRoundedRect(r, 6, 6)

        header = QPainterPath()
        header.setFillRule(Qt.FillRule.WindingFill)  # the rect must add to the rounded top
        header.addRoundedRect(QRectF(r.x(), r.y(), r.width(), HEADER_HEIGHT), 6, 6)
        header.addRect(QRectF(r.x(), r.y() + HEADER_HEIGHT / 2, r.width(), HEADER_HEIGHT / 2))
        painter.fillPath(header.simplified(), self._colour)

        painter.setPen(QColor("#ffffff"))
        painter.setFont(TITLE_FONT)
        title_rect = QRectF(8, 0, r.width() - 16, HEADER_HEIGHT)
        title_metrics = QFontMetricsF(TITLE_FONT)
        title = title_metrics.elidedText(self.node_id, Qt.TextElideMode.ElideRight, r.width() * 0.5)
        painter.drawText(
            title_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, title
        )
        painter.setFont(SMALL_FONT)
        room = title_rect.width() - title_metrics.horizontalAdvance(title) - 10
        summary = QFontMetricsF(SMALL_FONT).elidedText(
            self.summary, Qt.TextElideMode.ElideRight, room
        )
        painter.drawText(
            title_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, summary
        )

        painter.setFont(SMALL_FONT)
        for i, port in enumerate(self.spec.inputs):
            y = HEADER_HEIGHT + (i + 0.5) * ROW_HEIGHT
            self._paint_port(painter, QPointF(0, y), self.port_state.get(port))
            painter.setPen(TEXT_COLOUR)
            painter.drawText(
                QRectF(PORT_RADIUS + 5, y - ROW_HEIGHT / 2, r.width() / 2, ROW_HEIGHT),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                port,
            )
        y_out = HEADER_HEIGHT + 0.5 * ROW_HEIGHT
        self._paint_port(painter, QPointF(r.width(), y_out), self.port_state.get(""))
        if self.is_output:
            painter.setPen(MUTED_TEXT)
            painter.drawText(
                QRectF(
                    r.width() / 2,
                    y_out - ROW_HEIGHT / 2,
                    r.width() / 2 - PORT_RADIUS - 5,
                    ROW_HEIGHT,
                ),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                "output",
            )

    def _paint_port(self, painter: QPainter, centre: QPointF, state: str | None) -> None:
        painter.setPen(QPen(self._colour.darker(130), 1.5))
        painter.setBrush(QBrush(PORT_STATES[state]))
        radius = PORT_RADIUS + (1.5 if state else 0.0)
        painter.drawEllipse(centre, radius, radius)


def wire_path(start: QPointF, end: QPointF) -> QPainterPath:
    """A horizontal-tangent cubic: reads left to right like the data flow."""
    dx = max(abs(end.x() - start.x()) * 0.5, 40.0)
    path = QPainterPath(start)
    path.cubicTo(QPointF(start.x() + dx, start.y()), QPointF(end.x() - dx, end.y()), end)
    return path


class EdgeItem(QGraphicsPathItem):
    """The wire from src's output to dst.port; its path is cached and rebuilt only on moves."""

    def __init__(self, src: NodeItem, dst: NodeItem, port: str) -> None:
        super().__init__()
        self.src, self.dst, self.port = src, dst, port
        self.setPen(QPen(WIRE_COLOUR, 2.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        self.setZValue(0)
        src.edges.append(self)
        dst.edges.append(self)
        self.update_path()

    @property
    def key(self) -> tuple[str, str, str]:
        return self.src.node_id, self.dst.node_id, self.port

    def update_path(self) -> None:
        self.setPath(wire_path(self.src.output_anchor(), self.dst.input_anchor(self.port)))

    def detach(self) -> None:
        for item in (self.src, self.dst):
            if self in item.edges:
                item.edges.remove(self)
