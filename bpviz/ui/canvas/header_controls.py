"""A dense layer's shape on its own header: − and + step its units, a menu picks its
activation. Each click is one undoable command pushed through the canvas scene.

The controls are a child item in the header's right part, where other nodes show their
summary; the node keeps that room free (`NodeItem.header_reserve`).
"""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QActionGroup, QColor, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSceneHoverEvent,
    QGraphicsSceneMouseEvent,
    QMenu,
    QStyleOptionGraphicsItem,
    QWidget,
)

from bpviz.engine.graph import Node
from bpviz.engine.ops import REGISTRY
from bpviz.model.commands import SetAttr
from bpviz.model.edits import change_units
from bpviz.ui.canvas.items import HEADER_HEIGHT, SMALL_FONT, NodeItem, node_width

BUTTON = 14.0  # a square − or + button
GAP = 3.0
HEIGHT = 18.0
ARROW = " ▾"
BUTTON_FILL = QColor(255, 255, 255, 60)
BUTTON_HOVER = QColor(255, 255, 255, 120)
DISABLED_TEXT = QColor(255, 255, 255, 110)
HEADER_OPS = ("dense",)  # the ops that get these controls


def activations() -> tuple[str, ...]:
    """The activation menu's entries, from the op registry."""
    return REGISTRY["dense"].attrs["activation"].choices


@lru_cache(maxsize=1)
def _widths() -> tuple[float, float]:
    """The units number's and the activation button's widths, measured once (each dense
    node asked three times as it was made)."""
    metrics = QFontMetricsF(SMALL_FONT)
    units = metrics.horizontalAdvance("000") + 4
    act = max(metrics.horizontalAdvance(a + ARROW) for a in activations()) + 8
    return units, act


def controls_width() -> float:
    units, act = _widths()
    return 2 * BUTTON + units + GAP + act


def header_reserve() -> float:
    """The header room the controls take, with their margin."""
    return controls_width() + 6


def width_of_new(node_id: str, op: str) -> float:
    """How wide a node about to be added will be (to make room for it)."""
    return node_width(node_id, header_reserve=header_reserve() if op in HEADER_OPS else 0.0)


class DenseControls(QGraphicsItem):
    """[−] units [+] [activation ▾] on a dense node's header."""

    def __init__(self, node_item: NodeItem, node: Node) -> None:
        super().__init__(node_item)
        self.node_item = node_item
        self.units, self.activation = 1, "none"
        self.menu: QMenu | None = None  # the activation menu while it is open
        self._hover: str | None = None
        self._units_w, self._act_w = _widths()
        self._rect = QRectF(0, 0, controls_width(), HEIGHT)
        node_item.reserve_header(header_reserve())
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        # a pixmap, redrawn only when it changes (update()): Run mode repaints the canvas
        # at display rate and the buttons' text and rounded shapes cost more than the copy
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.show_node(node)

    # ---- geometry ------------------------------------------------------------------------
    def place(self) -> None:
        """Right-aligned in the header of the node, whatever its width."""
        right = self.node_item.shape().boundingRect().right()
        self.setPos(right - self._rect.width() - 6, (HEADER_HEIGHT - HEIGHT) / 2)

    def boundingRect(self) -> QRectF:
        return self._rect

    def part_rects(self) -> dict[str, QRectF]:
        """Where each control is, in item coordinates: 'minus', 'units', 'plus', 'activation'."""
        x_units = BUTTON
        x_plus = x_units + self._units_w
        x_act = x_plus + BUTTON + GAP
        return {
            "minus": QRectF(0, 1, BUTTON, HEIGHT - 2),
            "units": QRectF(x_units, 0, self._units_w, HEIGHT),
            "plus": QRectF(x_plus, 1, BUTTON, HEIGHT - 2),
            "activation": QRectF(x_act, 1, self._act_w, HEIGHT - 2),
        }

    def part_at(self, pos: QPointF) -> str | None:
        for name, rect in self.part_rects().items():
            if rect.contains(pos) and name != "units":
                return name
        return None

    def scene_centre(self, part: str) -> QPointF:
        """Where a click on `part` lands, in scene coordinates (tests aim here)."""
        return self.mapToScene(self.part_rects()[part].center())

    # ---- state ---------------------------------------------------------------------------
    def show_node(self, node: Node) -> None:
        self.units = int(node.attrs.get("units", 1))
        self.activation = str(node.attrs.get("activation", "none"))
        self.place()
        self.update()

    def tip(self, part: str | None) -> str:
        if part == "minus":
            if self.units <= 1:
                return "A layer has at least one unit"
            return f"One unit fewer ({self.units} → {self.units - 1})"
        if part == "plus":
            return f"One unit more ({self.units} → {self.units + 1})"
        if part == "activation":
            return f"Activation: {self.activation} — click to choose another"
        return f"{self.units} unit{'s' if self.units != 1 else ''}, activation {self.activation}"

    # ---- events --------------------------------------------------------------------------
    def hoverMoveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        part = self.part_at(event.pos())
        if part != self._hover:
            self._hover = part
            self.setToolTip(self.tip(part))
            self.update()

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self._hover = None
        self.update()

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        """Act on the press, so the node neither starts a move nor changes selection."""
        part = self.part_at(event.pos())
        if event.button() != Qt.MouseButton.LeftButton or part is None:
            event.ignore()
            return
        event.accept()
        if part == "activation":
            self.open_menu(event.screenPos())
        elif part == "plus" or self.units > 1:
            self._push_units(1 if part == "plus" else -1)

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        """A quick second click on − or + is one more step, not a double-click on the node."""
        self.mousePressEvent(event)

    def _push_units(self, delta: int) -> None:
        scene, node_id = self.scene(), self.node_item.node_id
        if scene.push(change_units(scene.document, node_id, delta)):
            n = scene.document.node(node_id).attrs["units"]
            scene.status.emit(
                f"{node_id} has {n} unit{'s' if n != 1 else ''}: its weights and those of the "
                "layers it feeds start afresh"
            )

    def open_menu(self, screen_pos: QPoint) -> None:
        """The activation menu (not modal: the canvas keeps running while it is open)."""
        menu = QMenu()
        menu.setToolTipsVisible(True)
        group = QActionGroup(menu)  # one of them: shown as radio buttons
        for name in activations():
            action = menu.addAction(name)
            action.setCheckable(True)
            action.setActionGroup(group)
            action.setChecked(name == self.activation)
            action.triggered.connect(lambda _=False, a=name: self._set_activation(a))
        menu.aboutToHide.connect(lambda: setattr(self, "menu", None))
        self.menu = menu
        menu.popup(screen_pos)

    def _set_activation(self, name: str) -> None:
        scene, node_id = self.scene(), self.node_item.node_id
        if name == self.activation or scene is None:
            return
        if scene.push(SetAttr(node_id, "activation", name)):
            scene.status.emit(f"{node_id} uses {name}: its weights start afresh")

    # ---- painting ------------------------------------------------------------------------
    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setFont(SMALL_FONT)
        parts = self.part_rects()
        centre = Qt.AlignmentFlag.AlignCenter
        for name, label in (("minus", "−"), ("plus", "+"), ("activation", None)):
            rect = parts[name]
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(BUTTON_HOVER if self._hover == name else BUTTON_FILL)
            painter.drawRoundedRect(rect, 4, 4)
            enabled = not (name == "minus" and self.units <= 1)
            painter.setPen(QPen(QColor("#ffffff") if enabled else DISABLED_TEXT))
            if label is not None:
                painter.drawText(rect, centre, label)
            else:
                painter.drawText(rect.adjusted(5, 0, -3, 0),
                                 Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                                 self.activation + ARROW)  # fmt: skip
        painter.setPen(QColor("#ffffff"))
        painter.drawText(parts["units"], centre, str(self.units))
