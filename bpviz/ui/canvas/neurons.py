"""A dense layer (or the input node) opened up: one tile per unit under its node.

A tile shows the unit over the input plane as a small heatmap in the decision-boundary view's
colours, with the training points (2-D data); its curve over the input range (1-D data); or
a bar of its values over the batch. Beside it: the bias and δ = ∂L/∂z summed over the batch.
The gradient view shows ∂L/∂(unit) at each training point instead: dots coloured by sign and
sized by size. The numbers come from `bpviz.model.neurons`; this item only paints them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSceneHoverEvent,
    QGraphicsSceneMouseEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from bpviz.model.neurons import Health, LayerNumbers
from bpviz.ui.boundary import CLASS_COLOURS, NEUTRAL_POINT, binary_image
from bpviz.ui.canvas.numbers import format_number
from bpviz.ui.theme import current_theme

TILE = 48.0  # a tile's side in scene units
GAP = 8.0
HEADER = 22.0
STUBS = 40.0  # left margin: the input stubs when the source is not opened
FAN = 46.0  # room for the weight lines between stubs and tiles
INFO = 88.0  # right of a tile: bias and δ, room for "Σδ −1.00e+300"
BELOW = 8.0  # distance from the node's bottom edge
ROWS = 8  # units per column; more units take more columns (weights pass behind the first)
COL_GAP = 14.0
OVERLAY_SCALE = 2  # the points overlay is drawn this much finer than a tile: sharp when zoomed

SMALL = QFont()
SMALL.setPointSizeF(7.5)
BOLD = QFont(SMALL)
BOLD.setBold(True)
BADGE_COLOURS = {"dead": QColor("#5f6368"), "saturated": QColor("#9334e6")}
PANEL_EDGE = QColor("#b07aa1")


def _body(alpha: int) -> QColor:
    """The theme's node colour, see-through: the weights behind the panel stay visible."""
    colour = QColor(current_theme().node_body)
    colour.setAlpha(alpha)
    return colour


def _text(muted: bool = False) -> QColor:
    theme = current_theme()
    return QColor(theme.muted if muted else theme.text)


def _signed(v: float) -> QColor:
    """The theme's blue for a positive gradient, red for a negative one, text colour for 0."""
    theme = current_theme()
    return QColor(theme.grad_positive if v > 0 else theme.grad_negative if v < 0 else theme.text)


@dataclass
class TileData:
    """What one refresh gives the panel: images (maps), curves or bars, plus points."""

    kind: str  # "map", "curve", "bars" or "none"
    images: list[QImage]
    curves: np.ndarray | None = None  # (points, units) in [-1, 1]
    bars: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # mean, min, max in [-1, 1]


def rgb_image(rgb: np.ndarray) -> QImage:
    """A (rows, cols, 3) uint8 array (row 0 = lowest y) as a QImage with y up, in Qt's
    native 32-bit format (drawn without a conversion on every paint)."""
    c = rgb[::-1].astype(np.uint32)
    argb = np.ascontiguousarray(0xFF000000 | (c[..., 0] << 16) | (c[..., 1] << 8) | c[..., 2])
    h, w = argb.shape
    return QImage(argb.data, w, h, 4 * w, QImage.Format.Format_RGB32).copy()


def unit_scale(activation: str, values: np.ndarray) -> np.ndarray:
    """Values mapped to [-1, 1] for the colour scale: tanh as is, sigmoid around 0.5, relu
    and linear units by the layer's 98th percentile of |a| (one scale for the whole layer, so
    tiles compare)."""
    v = np.asarray(values, dtype=float)
    if activation == "tanh":
        return np.clip(v, -1, 1)
    if activation == "sigmoid":
        return np.clip(2 * v - 1, -1, 1)
    scale = float(np.percentile(np.abs(v), 98)) if v.size else 0.0
    return np.clip(v / scale, -1, 1) if scale > 0 else np.zeros_like(v)


LEVELS = 511  # shades of the colour scale: finer than a screen shows
# the boundary view's colours for t in [-1, 1] (binary_image saturates at ±3), looked up
# instead of blended per pixel: colouring 24 maps is then a single indexing pass
_LUT = binary_image(np.linspace(-3.0, 3.0, LEVELS))


def map_images(activation: str, grid: np.ndarray) -> list[QImage]:
    """One image per unit from a (rows, cols, units) grid, the boundary view's colours."""
    t = unit_scale(activation, grid)
    rgb = _LUT[np.rint((t + 1.0) * ((LEVELS - 1) / 2)).astype(np.intp)]
    return [rgb_image(rgb[:, :, j]) for j in range(grid.shape[2])]


class NeuronLayerItem(QGraphicsItem):
    """The tiles of node `node_id`, hung under its NodeItem (so it moves with it)."""

    def __init__(self, node_item: QGraphicsItem, views, units: int, input_names: list[str]) -> None:  # noqa: ANN001
        super().__init__(node_item)
        self.node_id: str = node_item.node_id
        self.views = views
        self.units = units
        self.input_names = input_names  # shown as stubs when the source is not opened
        self.is_input = node_item.spec.name == "input"
        self.stubs_shown = not self.is_input
        self.data = TileData("none", [])
        self.numbers: LayerNumbers | None = None
        self.health: Health | None = None
        self.points: np.ndarray | None = None  # (N, 2) training points in [0, 1]² of the box
        self._overlay: QImage | None = None
        self.point_colours: list[QColor] = []
        self.gradient_view = False
        self.stale = False  # the numbers are from before an edit: veiled, as a node's are
        self.hovered_tile: int | None = None
        self.cols = -(-units // ROWS)
        self.rows = -(-units // self.cols)
        width = self.tiles_left() + self.cols * (TILE + INFO) + (self.cols - 1) * COL_GAP
        height = HEADER + 6 + self.rows * (TILE + GAP)
        self._rect = QRectF(0, 0, width, height)
        self.setPos(0, node_item.boundingRect().bottom() + BELOW)
        self.setAcceptHoverEvents(True)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemSendsScenePositionChanges)
        # painted again only when its numbers change, not on every frame of the canvas
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._tiles = _Tiles(self)

    # ---- geometry ------------------------------------------------------------------------
    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-1, -1, 1, 1)

    def tiles_left(self) -> float:
        return STUBS + FAN if not self.is_input else 8.0

    def tile_rect(self, j: int) -> QRectF:
        """Units fill the first column top to bottom, then the next."""
        col, row = divmod(j, self.rows)
        x = self.tiles_left() + col * (TILE + INFO + COL_GAP)
        return QRectF(x, HEADER + 6 + row * (TILE + GAP), TILE, TILE)

    def shape(self) -> QPainterPath:
        """Header, tiles and their numbers: the weight lines between them stay hoverable."""
        path = QPainterPath()
        path.addRect(QRectF(0, 0, self._rect.width(), HEADER))
        for j in range(self.units):
            path.addRect(self.tile_rect(j).adjusted(-2, -6, INFO, 2))
        return path

    def toggle_rect(self) -> QRectF:
        """The '∇ view' chip in the header: a click switches the gradient view."""
        return QRectF(self._rect.width() - 52, 3, 48, HEADER - 6)

    def tile_in(self, j: int) -> QPointF:
        r = self.tile_rect(j)
        return self.mapToScene(QPointF(r.left(), r.center().y()))

    def tile_out(self, j: int) -> QPointF:
        """Where weights leave unit j: past its numbers, so no line hides them."""
        r = self.tile_rect(j)
        return self.mapToScene(QPointF(r.right() + INFO - 2, r.center().y()))

    def stub(self, i: int, n: int) -> QPointF:
        """Input i of n, spread over the tiles' height at the left margin."""
        top, bottom = self.tile_rect(0).top(), self.tile_rect(self.rows - 1).bottom()
        spacing = min(TILE + GAP, (bottom - top) / max(n, 1))
        y = (top + bottom) / 2 + (i - (n - 1) / 2) * spacing
        return self.mapToScene(QPointF(STUBS, y))

    def tile_at(self, pos: QPointF) -> int | None:
        for j in range(self.units):
            if self.tile_rect(j).adjusted(-2, -2, INFO, 2).contains(pos):
                return j
        return None

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: object) -> object:
        if change == QGraphicsItem.GraphicsItemChange.ItemScenePositionHasChanged:
            self.views.moved(self.node_id)
        return super().itemChange(change, value)

    # ---- state ---------------------------------------------------------------------------
    def set_tiles(self, data: TileData) -> None:
        self.data = data
        self._tiles.update()  # only the pictures: the numbers beside them have not changed

    def set_numbers(self, numbers: LayerNumbers | None, health: Health | None) -> None:
        self.numbers, self.health = numbers, health
        self.update()
        self._tiles.update()  # the gradient view's dots read the numbers

    def set_points(self, points: np.ndarray | None, colours: list[QColor]) -> None:
        """The training points, drawn once into an overlay that every tile reuses."""
        self.points, self.point_colours = points, colours
        self._overlay = None
        if points is not None and len(points):
            side = int(TILE * OVERLAY_SCALE)
            overlay = QImage(side, side, QImage.Format.Format_ARGB32_Premultiplied)
            overlay.fill(Qt.GlobalColor.transparent)
            painter = QPainter(overlay)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            fallback = QColor(NEUTRAL_POINT)
            r = 1.1 * OVERLAY_SCALE
            for k, (x, y) in enumerate(points.tolist()):
                painter.setBrush(colours[k] if k < len(colours) else fallback)
                painter.drawEllipse(QPointF(x * side, (1 - y) * side), r, r)
            painter.end()
            self._overlay = overlay
        self._tiles.update()

    def set_stale(self, stale: bool) -> None:
        if stale != self.stale:
            self.stale = stale
            self.update()
            self._tiles.update()

    def set_stubs_shown(self, shown: bool) -> None:
        if shown != self.stubs_shown:
            self.stubs_shown = shown
            self.update()

    def set_gradient_view(self, on: bool) -> None:
        self.gradient_view = on
        self.update()
        self._tiles.update()

    def badge(self, j: int) -> str | None:
        h = self.health
        if h is None or j >= len(h.dead):
            return None
        return "dead" if h.dead[j] else "saturated" if h.saturated[j] else None

    def tooltip_for(self, j: int) -> str:
        if self.is_input:
            name = self.input_names[j] if j < len(self.input_names) else str(j)
            return f"feature {name}: its value over the input plane"
        if self.numbers is None:
            return f"{self.node_id} unit {j}"
        text = self.numbers.unit_text(j)
        return text + "\n(from before the last edit: run a pass to update)" if self.stale else text

    # ---- events --------------------------------------------------------------------------
    def hoverMoveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        j = self.tile_at(event.pos())
        if j != self.hovered_tile:
            self.hovered_tile = j
            if j is None:
                tip = "Click ∇ view to show ∂L/∂(unit) at each training point"
                self.setToolTip("" if self.is_input else tip)
            else:
                self.setToolTip(self.tooltip_for(j))

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if (
            event.button() == Qt.MouseButton.LeftButton
            and not self.is_input
            and self.toggle_rect().contains(event.pos())
        ):
            self.views.set_gradient_view(self.node_id, not self.gradient_view)
            event.accept()
            return
        event.ignore()  # anything else moves or selects the node, as on its body

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self.toggle_rect().contains(event.pos()):
            event.accept()  # a fast second click on the chip is not a collapse
            return
        self.views.collapse(self.node_id)
        event.accept()

    # ---- painting ------------------------------------------------------------------------
    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = self._rect
        painter.setPen(QPen(PANEL_EDGE, 1.0, Qt.PenStyle.DashLine))
        painter.setBrush(_body(90))
        painter.drawRoundedRect(r, 6, 6)
        painter.fillRect(QRectF(1, 1, r.width() - 2, HEADER - 1), _body(235))
        self._paint_header(painter)
        if self.stubs_shown:
            self._paint_stubs(painter)
        for j in range(self.units):
            self._paint_tile(painter, j)

    def _paint_header(self, painter: QPainter) -> None:
        painter.setFont(BOLD)
        painter.setPen(_text())
        what = "feature" if self.is_input else "neuron"
        what += "" if self.units == 1 else "s"
        head = f"{self.node_id} · {self.units} {what}"
        if self.health is not None and (summary := self.health.summary()):
            head += f" · {summary}"
        room = self._rect.width() - (16 if self.is_input else 64)  # the chip's place
        painter.drawText(
            QRectF(8, 0, room, HEADER),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            head,
        )
        if self.is_input:
            return
        chip = self.toggle_rect()
        on = self.gradient_view
        accent = _signed(1.0)
        painter.setPen(QPen(accent if on else _text(muted=True), 1))
        painter.setBrush(accent if on else _body(255))
        painter.drawRoundedRect(chip, 7, 7)
        painter.setPen(QColor("#ffffff") if on else _text(muted=True))
        painter.setFont(SMALL)
        painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, "∇ view")

    def _paint_stubs(self, painter: QPainter) -> None:
        n = len(self.input_names)
        painter.setFont(SMALL)
        for i, name in enumerate(self.input_names):
            p = self.mapFromScene(self.stub(i, n))
            painter.setPen(QPen(PANEL_EDGE.darker(130), 1))
            painter.setBrush(_body(255))
            painter.drawEllipse(p, 3.5, 3.5)
            painter.setPen(_text())
            painter.drawText(
                QRectF(2, p.y() - 8, STUBS - 8, 16),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                name,
            )

    def _paint_tile(self, painter: QPainter, j: int) -> None:
        """The panel's part of a tile: its numbers and badge (the picture is `_Tiles`')."""
        t = self.tile_rect(j)
        self._paint_info(painter, t, j)
        kind = self.badge(j)
        if kind is not None:
            badge = QRectF(t.right() + INFO - 22, t.top() + 2, 18, 12)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(BADGE_COLOURS[kind])
            painter.drawRoundedRect(badge, 4, 4)
            painter.setPen(QColor("#ffffff"))
            painter.setFont(BOLD)
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, "✕" if kind == "dead" else "S")
        if self.stale and not self.is_input:  # the veil a node's numbers get after an edit
            veil = QRectF(t.right() + 1, t.top(), INFO - 2, TILE)
            painter.fillRect(veil, current_theme().stale_veil)

    def paint_picture(self, painter: QPainter, j: int) -> None:
        """Tile j's map, curve or bar with its frame (painted by `_Tiles`)."""
        t = self.tile_rect(j)
        d = self.data
        if d.kind == "map" and j < len(d.images):
            painter.drawImage(t, d.images[j])
            if self.gradient_view:
                painter.fillRect(t, QColor(255, 255, 255, 170))
            self._paint_points(painter, t, j)
        elif d.kind == "curve" and d.curves is not None:
            painter.fillRect(t, QColor("#fafafa"))
            self._paint_curve(painter, t, d.curves[:, j])
            if self.gradient_view:
                self._paint_points(painter, t, j)
        elif d.kind == "bars" and d.bars is not None:
            painter.fillRect(t, QColor("#fafafa"))
            self._paint_bar(painter, t, *(a[j] for a in d.bars))
        else:
            painter.fillRect(t, QColor("#f1f3f4"))
        if self.stale and (self.gradient_view or d.kind == "bars"):
            painter.fillRect(t, current_theme().stale_veil)  # a pass's numbers, not the maps'
        painter.setPen(QPen(QColor("#80868b"), 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(t)

    def _paint_points(self, painter: QPainter, t: QRectF, j: int) -> None:
        pts = self.points
        if pts is None or not len(pts):
            return
        xs = t.left() + pts[:, 0] * t.width()
        ys = t.bottom() - pts[:, 1] * t.height()
        painter.setPen(Qt.PenStyle.NoPen)
        grad = self.numbers.grad_out if self.numbers is not None else None
        if self.gradient_view and grad is not None and grad.shape[0] == len(pts):
            g = grad[:, j]
            top = float(np.max(np.abs(grad))) or 1.0
            for x, y, v in zip(xs, ys, g, strict=True):
                if v == 0:
                    continue
                radius = 0.8 + 3.2 * (abs(float(v)) / top) ** 0.5
                painter.setBrush(_signed(float(v)))
                painter.drawEllipse(QPointF(x, y), radius, radius)
            return
        if self._overlay is not None and self.data.kind == "map":
            painter.drawImage(t, self._overlay)

    def _paint_curve(self, painter: QPainter, t: QRectF, ys: np.ndarray) -> None:
        n = len(ys)
        poly = QPolygonF(
            [
                QPointF(
                    t.left() + k * t.width() / max(n - 1, 1), t.center().y() - y * t.height() / 2
                )
                for k, y in enumerate(ys)
            ]
        )
        painter.setPen(QPen(QColor(CLASS_COLOURS[5]), 1.5))
        path = QPainterPath()
        path.addPolygon(poly)
        painter.drawPath(path)

    def _paint_bar(self, painter: QPainter, t: QRectF, mean: float, lo: float, hi: float) -> None:
        mid = t.center().x()
        scale = t.width() / 2
        painter.setPen(QPen(QColor("#c4c7c5"), 1))
        painter.drawLine(QPointF(mid, t.top()), QPointF(mid, t.bottom()))
        colour = QColor(CLASS_COLOURS[1] if mean >= 0 else CLASS_COLOURS[0])
        bar = QRectF(min(mid, mid + mean * scale), t.center().y() - 7, abs(mean) * scale, 14)
        painter.fillRect(bar, colour)
        painter.setPen(QPen(_text(), 1))
        y = t.center().y()
        painter.drawLine(QPointF(mid + lo * scale, y), QPointF(mid + hi * scale, y))

    def _paint_info(self, painter: QPainter, t: QRectF, j: int) -> None:
        painter.fillRect(QRectF(t.right() + 1, t.top(), INFO - 2, TILE), _body(235))
        painter.setFont(SMALL)
        x = t.right() + 5
        if self.is_input:
            name = self.input_names[j] if j < len(self.input_names) else ""
            painter.setPen(_text())
            painter.setFont(BOLD)
            painter.drawText(QRectF(x, t.top(), INFO, TILE), Qt.AlignmentFlag.AlignVCenter, name)
            return
        n = self.numbers
        painter.setPen(_text(muted=True))
        painter.drawText(QRectF(x, t.top() + 2, INFO, 14), Qt.AlignmentFlag.AlignLeft, f"unit {j}")
        if n is None:
            return
        painter.setPen(_text())
        b = f"b {format_number(float(n.b[j]))}"
        painter.drawText(QRectF(x, t.top() + 16, INFO, 14), Qt.AlignmentFlag.AlignLeft, b)
        ds = n.delta_sum
        if ds is not None:
            v = float(ds[j])
            painter.setPen(_signed(v))
            painter.drawText(
                QRectF(x, t.top() + 30, INFO, 14),
                Qt.AlignmentFlag.AlignLeft,
                f"Σδ {format_number(v)}",
            )


class _Tiles(QGraphicsItem):
    """The tiles' pictures as their own cached item: a map refresh repaints these, not the
    panel's text. Mouse and hover go to the panel underneath."""

    def __init__(self, panel: NeuronLayerItem) -> None:
        super().__init__(panel)
        self.panel = panel
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        first, last = panel.tile_rect(0), panel.tile_rect(panel.units - 1)
        self._rect = (
            QRectF(first.topLeft(), last.bottomRight())
            .united(panel.tile_rect(min(panel.rows, panel.units) - 1))
            .adjusted(-2, -2, 2, 2)
        )

    def boundingRect(self) -> QRectF:
        return self._rect

    def shape(self) -> QPainterPath:
        return QPainterPath()  # never hit: the panel answers for the tiles

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for j in range(self.panel.units):
            self.panel.paint_picture(painter, j)
