"""Canvas items: a node box with its ports, and the wire between two ports.

Items only draw what the document says; they never edit it. Ports are painted by their node
and hit-tested by geometry (no child items), which keeps big scenes light. Everything a paint
needs (header path, elided title and summary, fitted numbers) is prepared when it changes, not
per paint, and far-zoomed nodes draw as plain boxes (`detail_at`).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum, StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontInfo,
    QFontMetricsF,
    QImage,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsScene,
    QGraphicsSceneHoverEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from bpviz.engine.graph import Node
from bpviz.engine.ops import REGISTRY
from bpviz.ui.canvas.numbers import (
    color_scale,
    describe,
    fit_number,
    fit_scale,
    heatmap,
    is_scalar,
    magnitude,
    scalar_of,
    sign_colour,
    sign_rgba,
)
from bpviz.ui.canvas.wire_lines import WireLines
from bpviz.ui.theme import LIGHT, Theme, current_theme

if TYPE_CHECKING:
    from bpviz.ui.canvas.overlays import Overlays

NODE_WIDTH = 160.0  # the narrowest node; a long id or summary widens its node
HEADER_MAX_WIDTH = 320.0  # beyond this the header is elided (ids may have 64 characters)
HEADER_HEIGHT = 26.0
ROW_HEIGHT = 22.0
FOOTER_HEIGHT = 6.0
NUMBERS_HEIGHT = 30.0  # the value | gradient strip under the ports
SCALE_HEIGHT = 12.0  # under a heatmap: the numbers its colours run between
PORT_RADIUS = 5.5
PORT_HIT_RADIUS = 11.0
GRID = 20.0

TITLE_FONT = QFont()
TITLE_FONT.setPointSizeF(9.5)
TITLE_FONT.setBold(True)
SMALL_FONT = QFont()
SMALL_FONT.setPointSizeF(8.5)
SCALE_FONT = QFont()
SCALE_FONT.setPointSizeF(7.0)
NUMBER_FONT = QFont()
NUMBER_FONT.setPointSizeF(9.0)
NUMBER_FONT.setBold(True)

WIRE_COLOUR = QColor(LIGHT.wire)  # the same in both themes
WIRE_RGBA = WIRE_COLOUR.rgba()
BADGE = 20.0  # a flagged gradient's badge: 14 px and its margin, at the strip's right end


class Detail(IntEnum):
    """How much of a node is drawn at a zoom level."""

    BOX = 0  # a box in the op's colour, its outline if marked: no text, no ports
    FULL = 1  # everything


BOX_BELOW = 0.4  # device pixels per scene unit: below it, 9-point text is under 4 px tall


def detail_at(scale: float) -> Detail:
    """The level of detail at `scale` (QStyleOptionGraphicsItem.levelOfDetailFromTransform)."""
    return Detail.BOX if scale < BOX_BELOW else Detail.FULL


_COLOURS: dict[str, tuple[Theme, dict[str, QColor]]] = {}


def far_view_changed(item: NodeItem | EdgeItem, part: str | None = None) -> None:
    """Something the scene's far view (overview.py) shows changed: it is recorded again, the
    item's `part` of it (by default, its wires or its nodes). (`far` is the scene's overview,
    set when the canvas scene adds the item.)"""
    if item.far is not None:
        item.far.invalidate(part or ("wires" if isinstance(item, EdgeItem) else "nodes"), item)


def theme_colours(theme: Theme) -> dict[str, QColor]:
    """The theme's node colours as QColors, made once per theme rather than per paint."""
    cached = _COLOURS.get(theme.name)
    if cached is None or cached[0] is not theme:
        names = ("node_body", "node_outline", "selected", "text", "muted", "divider")
        cached = theme, {name: QColor(getattr(theme, name)) for name in names + ("cell_border",)}
        _COLOURS[theme.name] = cached
    return cached[1]


class Mark(StrEnum):
    """Why a node is outlined; equal to its plain string ("check_bad")."""

    ACTIVE = "active"  # the next node of a pass stepped node by node
    ERROR = "error"  # the node that produced a non-finite value
    CHECK_OK = "check_ok"  # its gradient agrees with finite differences
    CHECK_BAD = "check_bad"  # it does not


MARK_COLOURS = {
    Mark.ACTIVE: QColor("#fbbc04"),
    Mark.ERROR: QColor("#d93025"),
    Mark.CHECK_OK: QColor("#188038"),
    Mark.CHECK_BAD: QColor("#d93025"),
}
FLAG_COLOURS = {"vanishing": QColor("#9334e6"), "exploding": QColor("#e37400")}
PORT_STATES = {  # None: the node's body colour
    "valid": QColor("#34a853"),
    "invalid": QColor("#ea4335"),
    "source": QColor("#fbbc04"),
}


_METRICS: dict[int, QFontMetricsF] = {}


def metrics(font: QFont) -> QFontMetricsF:
    """Metrics of one of the module's fonts, made once (thousands of nodes measure text)."""
    found = _METRICS.get(id(font))
    if found is None:
        found = _METRICS[id(font)] = QFontMetricsF(font)
    return found


_WIDEST: dict[int, float] = {}
_ASCII = "".join(map(chr, range(32, 127)))


def surely_fits(font: QFont, text: str, room: float) -> bool:
    """Whether `text` is certainly no wider than `room` in `font`, judged without shaping it:
    ASCII text is at most its length times the widest ASCII character (a pixel more each,
    for kerning). A scene opening thousands of nodes with short ids measures none of them;
    False only means "measure it"."""
    if not text.isascii():
        return False
    widest = _WIDEST.get(id(font))
    if widest is None:
        advance = metrics(font).horizontalAdvance
        widest = _WIDEST[id(font)] = max(advance(c) for c in _ASCII) + 1.0
    return len(text) * widest <= room


@lru_cache(maxsize=4096)
def summary_width(summary: str) -> float:
    """A summary's width in SMALL_FONT; summaries repeat ("add", "const 1"), so each is
    measured once."""
    return metrics(SMALL_FONT).horizontalAdvance(summary)


@lru_cache(maxsize=256)
def op_colours(colour: str) -> tuple[QColor, QColor, int]:
    """An op's header colour, its ports' rim (darker) and the header as an RGBA number for the
    far view: made once per op colour, shared by every node of it (never changed in place)."""
    header = QColor(colour)
    return header, header.darker(130), header.rgba()


_SCALED: dict[tuple[int, int], QFontMetricsF] = {}


def painted_width(font: QFont, scale: float) -> Callable[[str], float]:
    """Width of a text in item units as Qt paints `font` at `scale`. Drawn scaled, the font's
    pixel size is rounded (12 px at 71 % is drawn at 9 px, not 8.5), so text can be up to 9 %
    wider than at 100 % for any zoom at which text is drawn; fitting with this never clips."""
    if scale == 1.0:
        return metrics(font).horizontalAdvance
    exact = font.pointSizeF() * 96 / 72  # its pixel size at 96 dpi, before Qt rounds it
    px = max(1, round(QFontInfo(font).pixelSize() * scale), round(exact * scale))
    found = _SCALED.get((id(font), px))
    if found is None:
        sized = QFont(font)
        sized.setPixelSize(px)
        found = _SCALED[(id(font), px)] = QFontMetricsF(sized)
    advance = found.horizontalAdvance
    return lambda text: advance(text) / scale


@lru_cache(maxsize=64)
def header_path(width: float) -> QPainterPath:
    """A header's shape: rounded at the top, square where it meets the body; one per width,
    shared by every node of that width."""
    header = QPainterPath()
    header.setFillRule(Qt.FillRule.WindingFill)  # the rect must add to the rounded top
    header.addRoundedRect(QRectF(0, 0, width, HEADER_HEIGHT), 6, 6)
    header.addRect(QRectF(0, HEADER_HEIGHT / 2, width, HEADER_HEIGHT / 2))
    return header.simplified()


def node_width(node_id: str, header_reserve: float = 0.0) -> float:
    """A node's width: NODE_WIDTH, or wider (in steps of 10) when controls on its header
    leave too little room for its id."""
    if not header_reserve:
        return NODE_WIDTH
    title = metrics(TITLE_FONT).horizontalAdvance(node_id)
    return float(
        min(HEADER_MAX_WIDTH, max(NODE_WIDTH, 10 * np.ceil((18 + title + header_reserve) / 10)))
    )


def node_summary(node: Node) -> str:
    """A short line under the title, e.g. 'dense 16 · relu' or 'const 2.5'."""
    return node.spec.summarize(node.attrs)


# what a node's paint uses, made once: an enum's | is a Python call, ~12 a node per paint
_LEFT = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft
_RIGHT = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight
_TOP_LEFT = Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft
_WHITE = QColor("#ffffff")

_NODE_FLAGS = (
    QGraphicsItem.GraphicsItemFlag.ItemIsMovable | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
)
_DEVICE_CACHE = QGraphicsItem.CacheMode.DeviceCoordinateCache
NO_CONTENTS = QGraphicsItem.GraphicsItemFlag.ItemHasNoContents


_PORT_PAD = PORT_RADIUS + 2  # what a node's ports (and a little antialiasing) add around it


def _with_ports(rect: QRectF) -> QRectF:
    """A node's box grown by the ports on its sides."""
    return rect.adjusted(-_PORT_PAD, -_PORT_PAD, _PORT_PAD, _PORT_PAD)


@lru_cache(maxsize=1024)
def node_box(width: float, height: float) -> tuple[QRectF, QRectF]:
    """A node's box and that box with its ports, made once per size and shared by every
    node of it (never changed in place: `NodeItem.boundingRect`)."""
    rect = QRectF(0, 0, width, height)
    return rect, _with_ports(rect)


class NodeItem(QGraphicsItem):
    """A node: coloured header with its id and op, input ports left, output port right."""

    # what every node starts with, shared until it is set (a scene opens thousands of nodes)
    is_output = False
    far = None  # the overview of the canvas scene showing this node, if any
    overlays: Overlays | None = None  # where a pass publishes its numbers, if any
    _seen = 0  # the generation of overlays this node shows
    header_reserve = 0.0  # room kept on the header's right for child controls
    _value: np.ndarray | None = None
    _grad: np.ndarray | None = None
    _stale = False
    mark: Mark | None = None
    _flag: str | None = None  # "vanishing" or "exploding" gradient
    _title: str | None = None  # the elided id, made on first paint at full detail
    _summary_shown = ""
    _cached = False  # its picture cached (DeviceCoordinateCache) since first pulled

    def __init__(self, node: Node, pos: tuple[float, float]) -> None:
        super().__init__()
        self.node_id = node.id
        self.spec = REGISTRY[node.op]
        self.summary = node_summary(node)
        self.port_state: dict[str, str | None] = {}  # port name ("" = output) -> highlight
        self.edges: list[EdgeItem] = []
        self._colour, self._port_rim, self.header_rgba = op_colours(self.spec.colour)
        self._rows = max(1, len(self.spec.inputs))
        # measured again only when id, summary or controls change
        self._width = self._header_width()
        self._rect, self._outer = node_box(self._width, self._height(False))
        self._images: dict[str, QImage] = {}
        self._folded: dict[str, tuple[tuple[int, int], QImage]] = {}  # heatmaps fit to pixels
        self._texts: dict[str, tuple[float, str]] = {}  # fitted numbers and their zoom
        self._attr_value = node.attrs.get("value")  # the tooltip is made on hover
        self.setPos(*pos)
        self.setFlags(_NODE_FLAGS)
        self.setAcceptHoverEvents(True)  # its picture is cached once it is seen (`pull`)
        self.setZValue(1)

    # ---- geometry ------------------------------------------------------------------------
    def _header_width(self) -> float:
        """Wide enough for the id and the summary side by side (or the id and the header's
        controls), in steps of 10."""
        if self.header_reserve:
            return node_width(self.node_id, self.header_reserve)
        summary = summary_width(self.summary)
        if surely_fits(TITLE_FONT, self.node_id, NODE_WIDTH - (8 + 12 + summary + 8)):
            return NODE_WIDTH  # what measuring the id would give: the narrowest node
        title = metrics(TITLE_FONT).horizontalAdvance(self.node_id)
        need = 8 + title + 12 + summary + 8
        return min(HEADER_MAX_WIDTH, max(NODE_WIDTH, 10 * np.ceil(need / 10)))

    def _height(self, scales: bool) -> float:
        rows = HEADER_HEIGHT + self._rows * ROW_HEIGHT + NUMBERS_HEIGHT + FOOTER_HEIGHT
        return rows + (SCALE_HEIGHT if scales else 0.0)

    def _resize(self) -> None:
        """New width or height (summary or heatmaps changed); wires follow the output port."""
        rect, outer = node_box(self._width, self._height(bool(self._images)))
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect, self._outer = rect, outer
            self._layout()
            far_view_changed(self)
            for edge in self.edges:
                edge.update_path()

    def _layout(self) -> None:
        """Size or summary changed: the header's text is elided again and the numbers refit,
        on the next paint at full detail (a far-zoomed node never needs them)."""
        self._title = None
        self._texts = {}

    def _ensure_layout(self) -> None:
        """What the header shows at this width: the elided id and summary."""
        if self._title is not None:
            return
        r = self._rect
        title_rect = QRectF(8, 0, r.width() - 16, HEADER_HEIGHT)
        title_metrics, small = metrics(TITLE_FONT), metrics(SMALL_FONT)
        if self.header_reserve:
            room = r.width() - self.header_reserve - 18
        else:  # the node was made wide enough for the id and the summary side by side
            room = max(
                r.width() * 0.5, title_rect.width() - small.horizontalAdvance(self.summary) - 12
            )
        self._title = title_metrics.elidedText(self.node_id, Qt.TextElideMode.ElideRight, room)
        self._summary_shown = ""
        if not self.header_reserve:
            room = title_rect.width() - title_metrics.horizontalAdvance(self._title) - 10
            self._summary_shown = small.elidedText(self.summary, Qt.TextElideMode.ElideRight, room)

    def boundingRect(self) -> QRectF:
        """The box and the ports sticking out of it. The same rect every time, not a copy:
        Qt asks for it tens of thousands of times while a big scene opens (and copies it);
        callers must not change it."""
        return self._outer

    def scene_box(self) -> QRectF:
        """The node's box (without its ports) in scene coordinates."""
        return self._rect.translated(self.x(), self.y())

    def outer_edges(self) -> tuple[float, float, float, float]:
        """Left, top, right and bottom of `boundingRect` in the scene, as plain numbers
        (fitting the view to 5,000 nodes asks every node)."""
        x, y, pad = self.x(), self.y(), _PORT_PAD
        return x - pad, y - pad, x + self._width + pad, y + self._rect.height() + pad

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(self._rect, 6, 6)
        return path

    def input_anchor(self, port: str) -> QPointF:
        """Scene position of an input port's centre."""
        return QPointF(*self.input_xy(port))

    def output_anchor(self) -> QPointF:
        return QPointF(*self.output_xy())

    # the anchors as plain numbers: a scene opening 8,000 wires asks for 16,000 of them
    # (a node is a top-level item without a transform: its scene position is pos + offset)
    def input_xy(self, port: str) -> tuple[float, float]:
        i = self.spec.inputs.index(port)
        return self.x(), self.y() + HEADER_HEIGHT + (i + 0.5) * ROW_HEIGHT

    def output_xy(self) -> tuple[float, float]:
        return self.x() + self._width, self.y() + HEADER_HEIGHT + 0.5 * ROW_HEIGHT

    def reserve_header(self, width: float) -> None:
        """Keep `width` on the header's right for child controls (a dense layer's ± and
        activation) instead of the summary; the node widens so its id still fits."""
        self.header_reserve = width
        self._width = self._header_width()
        self._resize()
        self._layout()

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
    def show_node(self, node: Node) -> None:
        self.summary = node_summary(node)
        self._attr_value = node.attrs.get("value")
        self._width = self._header_width()
        self._resize()
        self._layout()
        self.update()

    def number_box(self, key: str) -> QRectF:
        """Where the value ("value") or gradient ("grad") is drawn with its label, in item
        coordinates; a flagged gradient ends before its badge, so the badge hides nothing."""
        top = HEADER_HEIGHT + self._rows * ROW_HEIGHT
        half = (self._rect.width() - 12) / 2
        left = 6 if key == "value" else 6 + half
        box = QRectF(left, top + 4, half - 4, NUMBERS_HEIGHT - 6)
        if key == "grad" and self.flag:
            box.setRight(self._rect.width() - BADGE - 2)
        return box

    def value_box(self) -> QRectF:
        """Where the value (v) is drawn, in item coordinates."""
        return self.number_box("value")

    def draggable_value(self) -> float | None:
        """The number a drag on the value starts from: a scalar param's or const's value as
        shown (or as set, before any pass); None when the value is not one number."""
        if not self.spec.draggable:  # only param and const values can be dragged
            return None
        if self.value is not None:
            return float(scalar_of(self.value)) if is_scalar(self.value) else None
        v = self._attr_value
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    def hoverMoveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        """A sideways-arrows cursor over a value that can be dragged."""
        over = self.value_box().contains(event.pos()) and self.draggable_value() is not None
        if over:
            self.setCursor(Qt.CursorShape.SizeHorCursor)
        else:
            self.unsetCursor()

    # ---- numbers: set directly, or taken from the overlays when seen (overlays.py) ------
    def pull(self) -> None:
        """Show the overlays' latest numbers if they were published since this node last
        took them. The view pulls what it is about to paint: from then on the node's
        picture is cached (a scene opened far out, drawn from its overview, sets up no
        cache for thousands of nodes it never paints)."""
        if not self._cached:
            self._cached = True
            self.setCacheMode(_DEVICE_CACHE)
        o = self.overlays
        if o is not None and self._seen != o.generation:
            self._seen = o.generation
            o.pulls += 1
            value, grad, stale, flag = o.node(self.node_id)
            self._set_flag(flag)
            self._set_numbers(value, grad, stale)

    @property
    def value(self) -> np.ndarray | None:
        self.pull()
        return self._value

    @property
    def grad(self) -> np.ndarray | None:
        self.pull()
        return self._grad

    @property
    def stale(self) -> bool:
        self.pull()
        return self._stale

    @property
    def flag(self) -> str | None:
        """"vanishing" or "exploding" gradient, or None."""
        self.pull()
        return self._flag

    def set_numbers(
        self, value: np.ndarray | None, grad: np.ndarray | None, stale: bool = False
    ) -> None:
        """What the value | gradient strip shows; arrays become heatmaps. Numbers equal to
        those shown change nothing: a pass repaints only the nodes whose numbers moved."""
        self.pull()  # what is set here wins over what was published before
        self._set_numbers(value, grad, stale)

    def _set_numbers(
        self, value: np.ndarray | None, grad: np.ndarray | None, stale: bool
    ) -> None:
        if (
            stale == self._stale
            and same_numbers(value, self._value)
            and same_numbers(grad, self._grad)
        ):
            return
        self._value, self._grad, self._stale = value, grad, stale
        self._make_images()
        self._resize()
        self._texts = {}
        self.update()

    def _make_images(self) -> None:
        self._images, self._folded = {}, {}
        neutral = QColor(current_theme().heat_neutral)
        for key, array, diverging in (("value", self._value, False), ("grad", self._grad, True)):
            if array is not None and not is_scalar(array):
                self._images[key] = heatmap(array, diverging, neutral)

    def heatmap_at(self, key: str, cells: tuple[int, int]) -> QImage:
        """The heatmap of `key` with at most `cells` (rows, columns): drawn into that many
        device pixels, it is only ever scaled up, so no row or column is dropped."""
        image = self._images[key]
        if image.height() <= cells[0] and image.width() <= cells[1]:
            return image
        found = self._folded.get(key)
        if found is None or found[0] != cells:
            array = self._value if key == "value" else self._grad
            neutral = QColor(current_theme().heat_neutral)
            found = self._folded[key] = cells, heatmap(array, key == "grad", neutral, cells)
        return found[1]

    def recolour(self) -> None:
        """Draw the same numbers again in the current theme's colours (heatmaps included)."""
        self._make_images()
        self.update()

    def shown_text(self, key: str, scale: float = 1.0) -> str | None:
        """What the value ("value") or gradient ("grad") box shows as text at zoom `scale`:
        a number fitted to its box, or an array's colour scale; None before the first pass.
        Fitted once per change of numbers, size, flag or zoom, not per paint."""
        array = self.value if key == "value" else self.grad
        if array is None:
            return None
        found = self._texts.get(key)
        if found is not None and found[0] == scale:
            return found[1]
        box = self.number_box(key)
        if key in self._images:  # the scale under a heatmap may use the label's room too
            lo, hi = color_scale(array, key == "grad")
            width_of = painted_width(SCALE_FONT, scale)
            text = fit_scale(lo, hi, key == "grad", box.width(), width_of)
        else:
            width_of = painted_width(NUMBER_FONT, scale)
            text = fit_number(scalar_of(array), box.width() - 12, width_of)
        self._texts[key] = scale, text
        return text

    def hoverEnterEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        """Tooltip text is built when the mouse arrives: formatting every array at every
        refresh would cost more than drawing them."""
        tip = [f"{self.node_id}: {self.spec.title} — {self.spec.doc}"]
        scene = self.scene()
        if scene is not None and (text := scene.explain(self.node_id)):
            tip.append(text)
        if self.value is not None:
            tip.append(f"value: {describe(self.value)}")
        if self.draggable_value() is not None:
            tip.append("Drag the value sideways to change it (Shift: finer, Ctrl: coarser)")
        if self.grad is not None:
            tip.append(f"gradient ∂L/∂{self.node_id}: {describe(self.grad)}")
        if self.flag:
            tip.append(f"{self.flag} gradient")
        self.setToolTip("\n".join(tip))
        super().hoverEnterEvent(event)

    def set_mark(self, mark: Mark | None) -> None:
        if mark != self.mark:
            self.mark = mark
            far_view_changed(self, "outlines")
            self.update()

    def set_flag(self, flag: str | None) -> None:
        self.pull()
        self._set_flag(flag)

    def _set_flag(self, flag: str | None) -> None:
        if flag != self._flag:
            self._flag = flag
            self._texts = {}  # the gradient's room changed
            self.update()

    def set_port_state(self, port: str, state: str | None) -> None:
        if self.port_state.get(port) != state:
            self.port_state[port] = state
            self.update()

    def clear_port_states(self) -> None:
        if any(self.port_state.values()):
            self.port_state.clear()
            self.update()

    def moved(self) -> None:
        """The node has moved: its wires follow, the far view and the overlays learn of it.
        The canvas scene calls this after every move it makes or lets Qt make (a drag, the
        document's position). There is no itemChange override: Qt would call it from Python
        eight times per node while a scene opens, a tenth of the time to the first frame."""
        for edge in self.edges:
            edge.update_path()
        far_view_changed(self)
        if self.overlays is not None:
            self.overlays.shifted([self, *self.edges])

    # ---- painting ------------------------------------------------------------------------
    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        r = self._rect
        colours = theme_colours(current_theme())
        outline, width = (
            (colours["selected"], 2.5) if self.isSelected() else (colours["node_outline"], 1.0)
        )
        if self.mark in MARK_COLOURS:
            outline, width = MARK_COLOURS[self.mark], 3.5
        scale = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        if detail_at(scale) is Detail.BOX:
            painter.fillRect(r, colours["node_body"])
            painter.fillRect(QRectF(r.x(), r.y(), r.width(), HEADER_HEIGHT), self._colour)
            # the outline at least a device pixel wide (a mark: 2.5), whatever the zoom
            wide = width > 1.0
            painter.setPen(QPen(outline, max(width, (2.5 if wide else 1.0) / max(scale, 1e-6))))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(r)
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(outline, width))
        painter.setBrush(colours["node_body"])
        painter.drawRoundedRect(r, 6, 6)
        painter.fillPath(header_path(r.width()), self._colour)
        self._ensure_layout()

        painter.setPen(_WHITE)
        painter.setFont(TITLE_FONT)
        title_rect = QRectF(8, 0, r.width() - 16, HEADER_HEIGHT)
        painter.drawText(title_rect, _LEFT, self._title)
        if self._summary_shown:
            painter.setFont(SMALL_FONT)
            painter.drawText(title_rect, _RIGHT, self._summary_shown)

        painter.setFont(SMALL_FONT)
        for i, port in enumerate(self.spec.inputs):
            y = HEADER_HEIGHT + (i + 0.5) * ROW_HEIGHT
            self._paint_port(painter, QPointF(0, y), self.port_state.get(port), colours)
            painter.setPen(colours["text"])
            painter.drawText(
                QRectF(PORT_RADIUS + 5, y - ROW_HEIGHT / 2, r.width() / 2, ROW_HEIGHT),
                _LEFT,
                port,
            )
        y_out = HEADER_HEIGHT + 0.5 * ROW_HEIGHT
        self._paint_port(painter, QPointF(r.width(), y_out), self.port_state.get(""), colours)
        if self.is_output:
            painter.setPen(colours["muted"])
            painter.drawText(
                QRectF(
                    r.width() / 2,
                    y_out - ROW_HEIGHT / 2,
                    r.width() / 2 - PORT_RADIUS - 5,
                    ROW_HEIGHT,
                ),
                _RIGHT,
                "output",
            )

        self._paint_numbers(painter, colours, scale)

    def _paint_numbers(
        self, painter: QPainter, colours: dict[str, QColor], scale: float
    ) -> None:
        r = self._rect
        top = HEADER_HEIGHT + self._rows * ROW_HEIGHT
        muted = colours["muted"]
        painter.setPen(QPen(colours["divider"], 1.0))
        painter.drawLine(QPointF(6, top + 1), QPointF(r.width() - 6, top + 1))
        for key, label, array in (("value", "v", self.value), ("grad", "∇", self.grad)):
            box = self.number_box(key)
            painter.setFont(SMALL_FONT)
            painter.setPen(muted)
            painter.drawText(box, _LEFT, label)
            inner = box.adjusted(12, 0, 0, 0)
            if array is None:
                painter.drawText(inner, _LEFT, "—")
                continue
            if key in self._images:
                # fill the box: a (batch, features) matrix reads as a strip of cells
                target = inner.adjusted(0, 2, -4, -2)
                painter.setPen(QPen(colours["cell_border"], 1))
                painter.drawRect(target)
                pixels = (max(int(target.height() * scale), 1), max(int(target.width() * scale), 1))
                painter.drawImage(target, self.heatmap_at(key, pixels))
                # and say what the colours mean: the scale, or that it is all zero
                painter.setFont(SCALE_FONT)
                painter.setPen(muted)
                below = QRectF(box.left(), box.bottom(), box.width(), SCALE_HEIGHT)
                painter.drawText(below, _TOP_LEFT, self.shown_text(key, scale))
                continue
            painter.setPen(sign_colour(array) if key == "grad" else colours["text"])
            painter.setFont(NUMBER_FONT)
            painter.drawText(inner, _LEFT, self.shown_text(key, scale) or "")
        if self.stale and (self.value is not None or self.grad is not None):
            veil = NUMBERS_HEIGHT - 2 + (SCALE_HEIGHT if self._images else 0.0)
            painter.fillRect(QRectF(1, top + 2, r.width() - 2, veil), current_theme().stale_veil)
        if self.flag:
            painter.setPen(QPen(FLAG_COLOURS[self.flag], 1))
            painter.setBrush(FLAG_COLOURS[self.flag])
            badge = QRectF(r.width() - BADGE, top + 6, 14, 14)
            painter.drawEllipse(badge)
            painter.setPen(_WHITE)
            painter.setFont(SMALL_FONT)
            painter.drawText(
                badge, Qt.AlignmentFlag.AlignCenter, "0" if self.flag == "vanishing" else "!"
            )

    def _paint_port(
        self, painter: QPainter, centre: QPointF, state: str | None, colours: dict[str, QColor]
    ) -> None:
        painter.setPen(QPen(self._port_rim, 1.5))
        painter.setBrush(PORT_STATES[state] if state else colours["node_body"])
        radius = PORT_RADIUS + (1.5 if state else 0.0)
        painter.drawEllipse(centre, radius, radius)


def same_numbers(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    """Whether two shown numbers are the same (NaN equal to NaN): then nothing repaints."""
    if a is None or b is None:
        return a is b
    if a is b:
        return True
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.size == 1:  # most nodes of a big graph: plain numbers, compared without numpy
        x, y = a.item(), b.item()
        return x == y or (x != x and y != y)
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))


def wire_path(start: QPointF, end: QPointF) -> QPainterPath:
    """A horizontal-tangent cubic: reads left to right like the data flow."""
    return wire_path_xy(start.x(), start.y(), end.x(), end.y())


def wire_path_xy(x1: float, y1: float, x2: float, y2: float) -> QPainterPath:
    """`wire_path` from (x1, y1) to (x2, y2)."""
    dx = max(abs(x2 - x1) * 0.5, 40.0)
    path = QPainterPath()
    path.moveTo(x1, y1)
    path.cubicTo(x1 + dx, y1, x2 - dx, y2, x2, y2)
    return path


_SOLID, _ROUND = Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap  # looked up once: 8,000 wires


def wire_pen(colour: QColor, width: float) -> QPen:
    return QPen(colour, width, _SOLID, _ROUND)


def segment_pen(pen: QPen) -> QPen:
    """`pen` with square caps, for a wire drawn as straight segments (wires.py): they meet
    without gaps."""
    square = QPen(pen)
    square.setCapStyle(Qt.PenCapStyle.SquareCap)
    return square


PLAIN_WIRE_PEN = wire_pen(WIRE_COLOUR, 2.0)  # a wire without a gradient, in either theme
PLAIN_SEGMENT_PEN = segment_pen(PLAIN_WIRE_PEN)
WIDEST_WIRE = 7.0  # the pen of the largest gradient (`EdgeItem._set_gradient`)
HOVER_BAND = 10.0  # wider than any wire: where hovering and clicking find it
_UNDER = QGraphicsScene.SceneLayer.BackgroundLayer  # where a big scene's wires are drawn


class EdgeItem(QGraphicsPathItem):
    """The wire from src's output to dst.port; its path is cached and rebuilt only on moves."""

    # what every wire starts with, shared until it is set (a scene opens thousands of wires)
    _shown: tuple[np.ndarray | None, float] = (None, 0.0)  # the gradient and largest shown
    far = None  # the overview of the canvas scene showing this wire, if any
    overlays: Overlays | None = None  # where a pass publishes its numbers, if any
    _seen = 0  # the generation of overlays this wire shows
    _far_rgba = WIRE_RGBA  # its colour in the far view
    # its pen's width and square-capped copy, kept for the canvas drawing it (wires.py), which
    # asks hundreds of wires per paint
    pen_width = PLAIN_WIRE_PEN.widthF()
    segment_pen = PLAIN_SEGMENT_PEN
    _term: Callable[[], str | None] | str | None = None  # the chain term, for hover
    # the hover band is stroked when Qt first asks for it (hover, a click, a rubber band
    # by shape), not for every wire of an opening scene
    _shape: QPainterPath | None = None
    _lines: dict[float, WireLines] | None = None  # the path as segments (wires.py), by fineness
    line: QLineF  # from port to port: the far view draws the wire straight
    _bounds: QRectF  # the path's bounds and half the hover band around them

    def __init__(self, src: NodeItem, dst: NodeItem, port: str) -> None:
        super().__init__()
        self.src, self.dst, self.port = src, dst, port
        self.setPen(PLAIN_WIRE_PEN)
        self.setAcceptHoverEvents(True)  # the tooltip is made when the mouse arrives
        # z stays 0: under the nodes (z 1)
        src.edges.append(self)
        dst.edges.append(self)
        self._set_path()  # not in a scene yet: nothing to tell Qt or the far view

    @property
    def key(self) -> tuple[str, str, str]:
        return self.src.node_id, self.dst.node_id, self.port

    # ---- the gradient carried: set directly, or taken from the overlays when seen -------
    def pull(self) -> None:
        """Show the overlays' latest gradient if it was published since this wire last
        took it."""
        o = self.overlays
        if o is not None and self._seen != o.generation:
            self._seen = o.generation
            o.pulls += 1
            key = self.key
            grad = o.wire(key)
            largest = o.largest() if grad is not None else 0.0
            self._set_gradient(grad, largest, lambda: o.term(key))

    @property
    def far_rgba(self) -> int:
        """The wire's colour in the far view; a wire not yet brought up to date is not
        restyled for it (only its colour is worked out)."""
        o = self.overlays
        if o is not None and self._seen != o.generation:  # (8,000 wires for a first picture)
            grad = o.wire((self.src.node_id, self.dst.node_id, self.port))
            return WIRE_RGBA if grad is None else sign_rgba(grad)  # as `_set_gradient`
        return self._far_rgba

    def pen(self) -> QPen:
        self.pull()
        return super().pen()

    def toolTip(self) -> str:
        """The chain-rule product the wire carries, numbers filled in (or the gradient)."""
        self.pull()
        grad = self._shown[0]
        if grad is None:
            return ""
        term = self._term() if callable(self._term) else self._term
        return term or f"gradient carried: {describe(grad)}"

    def hoverEnterEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self.setToolTip(self.toolTip())
        super().hoverEnterEvent(event)

    def set_gradient(
        self, grad: np.ndarray | None, largest: float, term: str | None = None
    ) -> None:
        """Colour by the sign of the gradient the wire carries, thickness by its size
        relative to the largest on the canvas; no gradient: the plain grey wire."""
        self.pull()  # what is set here wins over what was published before
        self._set_gradient(grad, largest, term)

    def _set_gradient(
        self,
        grad: np.ndarray | None,
        largest: float,
        term: Callable[[], str | None] | str | None,
    ) -> None:
        self._term = term
        shown = self._shown
        if same_numbers(grad, shown[0]) and largest == shown[1]:
            return  # the same wire as shown: nothing to repaint
        self._shown = (grad, largest)
        far_view_changed(self)
        self._redraw_under()
        if grad is None:
            self._far_rgba = WIRE_RGBA
            self.setPen(PLAIN_WIRE_PEN)
            self.pen_width, self.segment_pen = PLAIN_WIRE_PEN.widthF(), PLAIN_SEGMENT_PEN
            return
        size = magnitude(grad)
        share = min(size / largest, 1.0) if largest > 0 and np.isfinite(size) else 1.0
        width = 1.5 + (WIDEST_WIRE - 1.5) * share**0.5
        colour = sign_colour(grad)
        self._far_rgba = colour.rgba()
        pen = wire_pen(colour, width)
        self.setPen(pen)
        self.pen_width, self.segment_pen = width, segment_pen(pen)

    def recolour(self) -> None:
        """Show the same gradient again, in the current theme's colours."""
        self.pull()
        shown, self._shown = self._shown, (None, -1.0)  # nothing equals it: redone
        self._set_gradient(*shown, self._term)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        """The curve; in a big scene nothing: the canvas draws its wires under the nodes
        (wires.py) and redraws them where this one changes (`_redraw_under`). There it
        tells Qt it has nothing to paint, which spares the call into Python for each of the
        hundreds of wires a repaint at 100 % touches, most of such a repaint's time; the
        canvas takes the flag off again when the scene gets small (scene.py)."""
        if self.far is None or not self.far.big():
            super().paint(painter, option, widget)
            return
        self.setFlag(NO_CONTENTS)

    def wire_lines(self, fine: float) -> WireLines:
        """The path as straight segments, flattened for `fine` (wires.py `fineness`), made
        when first drawn at it after the path changed. Two finenesses are kept: wheeling
        to and fro across a step makes nothing again."""
        made = self._lines
        if made is None:
            made = self._lines = {}
        lines = made.get(fine)
        if lines is None:
            if len(made) >= 2:
                del made[next(iter(made))]  # the one made first
            lines = made[fine] = WireLines(self.path(), fine)
        return lines

    def shape(self) -> QPainterPath:
        """A band around the wire, so hovering near it shows its tooltip; stroked once per
        path, when first asked."""
        if self._shape is None:
            stroker = QPainterPathStroker()
            stroker.setWidth(HOVER_BAND)
            self._shape = stroker.createStroke(self.path())
        return self._shape

    def boundingRect(self) -> QRectF:
        """The path's exact bounds with half the hover band around them (the pen is
        narrower); QGraphicsPathItem would stroke the band of every new path for this.
        The same rect every time, as a node's: callers must not change it."""
        return self._bounds

    def update_path(self) -> None:
        """Its ends moved: a new path, its hover band and segments made again when asked."""
        self._redraw_under()  # where it was
        self.prepareGeometryChange()  # Qt still knows the old bounds
        self._set_path()
        self._shape = None
        self._lines = None
        far_view_changed(self)
        self._redraw_under()

    def _set_path(self) -> None:
        """The path from port to port, with its straight line and bounds."""
        x1, y1 = self.src.output_xy()
        x2, y2 = self.dst.input_xy(self.port)
        self.line = QLineF(x1, y1, x2, y2)
        path = wire_path_xy(x1, y1, x2, y2)
        pad = HOVER_BAND / 2
        self._bounds = path.boundingRect().adjusted(-pad, -pad, pad, pad)
        self.setPath(path)

    def _redraw_under(self) -> None:
        """A big scene's wires are drawn under the nodes, into its views' cached background
        (wires.py, view.py): that is drawn again where this wire lies. Qt repaints only
        what an item paints itself, and this one paints nothing there."""
        far = self.far
        if far is not None and far.big():
            scene = self.scene()
            if scene is not None:
                scene.invalidate(self._bounds, _UNDER)

    def setVisible(self, visible: bool) -> None:  # noqa: N802 - Qt's name
        """Hidden while it is picked up to connect elsewhere (scene.py), or shown again."""
        super().setVisible(visible)
        self._redraw_under()

    def detach(self) -> None:
        self._redraw_under()  # before it leaves the scene
        for item in (self.src, self.dst):
            if self in item.edges:
                item.edges.remove(self)
