"""The weights into an opened layer as lines: from each input (a stub, or the source layer's
own tile when that is opened too) to each unit's tile.

Colour by sign and width by |w|; after Backward, colour by the sign of ∂L/∂w and width by its
size. Hovering a line shows w, ∂L/∂w and its chain-rule term with numbers; dragging along it
changes that weight live (the document's arrays are set directly, then put back and one
command pushed on release: one undo step, as dragging a scalar param's value). During Next
Node stepping a pulse runs backward along every weight of the layer.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, QVariantAnimation
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSceneHoverEvent,
    QGraphicsSceneMouseEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)
from shiboken6 import Shiboken

from bpviz.model.commands import set_weight_command
from bpviz.model.neurons import LayerNumbers
from bpviz.ui.boundary import CLASS_COLOURS
from bpviz.ui.canvas.value_drag import step_for
from bpviz.ui.theme import current_theme

POSITIVE_W = QColor(CLASS_COLOURS[1])  # orange: pushes towards the map's orange side
NEGATIVE_W = QColor(CLASS_COLOURS[0])  # blue
HIT = 4.0  # scene units from a line that still count as on it
SHADES = 12  # widths (and opacities) a line can take, from 0 to the layer's largest |w|
HIGHLIGHT = QColor("#fbbc04")


def _pen(colour: QColor, width: float) -> QPen:
    return QPen(colour, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)


class WeightsItem(QGraphicsItem):
    """All lines W[i, j] of one layer; `lines[(i, j)] = (start, end)` in scene coordinates."""

    def __init__(self, views, node_id: str) -> None:  # noqa: ANN001
        super().__init__()
        self.views = views
        self.node_id = node_id
        self.lines: dict[tuple[int, int], tuple[QPointF, QPointF]] = {}
        self.numbers: LayerNumbers | None = None
        self.show_grads = False
        self.hovered: tuple[int, int] | None = None
        self._pens: dict[tuple[int, int], QPen] = {}
        self._shades: dict[tuple[bool, int], QPen] = {}
        self._batches: dict[tuple[bool, int], list[QLineF]] = {}
        self._rect = QRectF()
        self._pulse: float | None = None
        self._anim: QVariantAnimation | None = None
        self._drag: dict[str, Any] | None = None
        self.setZValue(0.5)  # above wires, below nodes and the tiles they lead to
        self.setAcceptHoverEvents(True)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    # ---- geometry and numbers ------------------------------------------------------------
    def set_lines(self, lines: dict[tuple[int, int], tuple[QPointF, QPointF]]) -> None:
        self.prepareGeometryChange()
        self.lines = lines
        xs = [p.x() for a, b in lines.values() for p in (a, b)] or [0.0]
        ys = [p.y() for a, b in lines.values() for p in (a, b)] or [0.0]
        self._rect = QRectF(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)).adjusted(
            -8, -8, 8, 8
        )
        self._restyle()

    def set_numbers(self, numbers: LayerNumbers | None, show_grads: bool) -> None:
        self.numbers, self.show_grads = numbers, show_grads
        self._restyle()
        if self.hovered is not None:
            self.setToolTip(self._tip(*self.hovered))

    def _restyle(self) -> None:
        """A pen per line, from a few shades: lines sharing a pen are drawn in one call."""
        n = self.numbers
        self._pens, self._batches = {}, {}
        if n is None:
            self.update()
            return
        grads = self.show_grads and n.dW is not None
        arr = np.asarray(n.dW if grads else n.W, dtype=float)
        top = float(np.max(np.abs(arr))) if arr.size else 0.0
        shades: dict[tuple[bool, int], QPen] = {}
        theme = current_theme()
        for (i, j), (a, b) in self.lines.items():
            if i >= arr.shape[0] or j >= arr.shape[1]:
                continue
            v = float(arr[i, j])
            level = round(SHADES * abs(v) / top) if top > 0 else 0
            key = (v > 0, level)
            if key not in shades:
                if grads:
                    colour = QColor(theme.grad_positive if v > 0 else theme.grad_negative)
                else:
                    colour = QColor(POSITIVE_W if v > 0 else NEGATIVE_W)
                share = level / SHADES
                colour.setAlphaF(0.35 + 0.65 * share)
                shades[key] = _pen(colour, 0.6 + 3.4 * share)
            self._pens[(i, j)] = shades[key]
            self._batches.setdefault(key, []).append(QLineF(a, b))
        self._shades = shades
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect

    def shape(self) -> QPainterPath:
        """Only the lines are hit, so clicks between them reach the tiles and nodes below."""
        path = QPainterPath()
        for a, b in self.lines.values():
            path.moveTo(a)
            path.lineTo(b)
        stroker = QPainterPathStroker()
        stroker.setWidth(2 * HIT)
        return stroker.createStroke(path)

    def line_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """The weight whose line passes nearest `scene_pos`, within HIT."""
        if not self.lines:
            return None
        keys = list(self.lines)
        a = np.array([[p.x(), p.y()] for p, _ in self.lines.values()])
        b = np.array([[q.x(), q.y()] for _, q in self.lines.values()])
        p = np.array([scene_pos.x(), scene_pos.y()])
        ab = b - a
        t = np.clip(((p - a) * ab).sum(1) / np.maximum((ab * ab).sum(1), 1e-12), 0, 1)
        d = np.hypot(*(a + ab * t[:, None] - p).T)
        k = int(np.argmin(d))
        return keys[k] if d[k] <= HIT else None

    # ---- painting ------------------------------------------------------------------------
    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self._batches:  # the item sits at the scene's origin: scene = item coordinates
            for key, lines in self._batches.items():
                painter.setPen(self._shades[key])
                painter.drawLines(lines)
        else:
            painter.setPen(QPen(QColor(128, 134, 139, 120), 0.8))
            painter.drawLines([QLineF(a, b) for a, b in self.lines.values()])
        if self.hovered in self.lines:
            a, b = self.lines[self.hovered]
            width = self._pens[self.hovered].widthF() if self.hovered in self._pens else 0.8
            painter.setPen(_pen(HIGHLIGHT, width + 2.5))
            painter.drawLine(a, b)
        if self._pulse is not None:
            self._paint_pulse(painter, self._pulse)

    def _paint_pulse(self, painter: QPainter, t: float) -> None:
        n = self.numbers
        theme = current_theme()
        painter.setPen(QPen(QColor("#ffffff"), 1))
        for (i, j), (a, b) in self.lines.items():
            g = float(n.dW[i, j]) if n is not None and n.dW is not None else 0.0
            colour = theme.grad_positive if g > 0 else theme.grad_negative if g < 0 else None
            painter.setBrush(HIGHLIGHT if colour is None else QColor(colour))
            painter.drawEllipse(a + (b - a) * t, 3.0, 3.0)

    def pulse(self, duration_ms: int) -> None:
        """A dot on every weight running from the unit back to its input."""
        if self._anim is not None:
            self._anim.stop()
        anim = QVariantAnimation()
        anim.setDuration(duration_ms)
        anim.setStartValue(1.0)
        anim.setEndValue(0.0)
        anim.valueChanged.connect(self._pulse_at)
        anim.finished.connect(self._pulse_done)
        self._anim = anim
        anim.start()

    def pulsing(self) -> bool:
        return self._anim is not None

    def _pulse_at(self, t: object) -> None:
        if not Shiboken.isValid(self):  # the canvas went while the pulse ran
            self._anim.stop()
            return
        self._pulse = float(t)
        self.update()

    def _pulse_done(self) -> None:
        self._pulse, self._anim = None, None
        if Shiboken.isValid(self):
            self.update()

    def stop(self) -> None:
        anim, self._anim = self._anim, None
        if anim is not None:
            anim.stop()
            self._pulse_done()

    # ---- hover ---------------------------------------------------------------------------
    def _tip(self, i: int, j: int) -> str:
        n = self.numbers
        if n is None:
            return f"{self.node_id}.W[{i},{j}] (run Forward to see it)"
        moment = self.views.moment
        if moment is not None:
            return n.weight_text(i, j) + f"\nat step {moment.step} (Latest on the timeline to edit)"
        return n.weight_text(i, j) + "\nDrag along the line to change it (Shift finer)"

    def hoverMoveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        key = self.line_at(event.scenePos())
        if key != self.hovered:
            self.hovered = key
            self.setToolTip("" if key is None else self._tip(*key))
            self.setCursor(Qt.CursorShape.SizeHorCursor if key else Qt.CursorShape.ArrowCursor)
            self.update()

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        if self.hovered is not None:
            self.hovered = None
            self.update()
        super().hoverLeaveEvent(event)

    # ---- dragging a weight ---------------------------------------------------------------
    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        key = self.line_at(event.scenePos())
        n = self.numbers
        if event.button() != Qt.MouseButton.LeftButton or key is None or n is None:
            event.ignore()
            return
        if self.views.moment is not None:  # the weights of an earlier step are history
            self.views.scene.status.emit("Go to Latest on the timeline to change a weight")
            event.accept()
            return
        self.hovered = key
        self._drag = {
            "key": key,
            "old": np.array(n.W),
            "value": float(n.W[key]),
            "x": float(event.screenPos().x()),
        }
        event.accept()

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        d = self._drag
        if d is None:
            return
        step = step_for(event.modifiers())
        x = float(event.screenPos().x())
        value = round(d["value"] + (x - d["x"]) * step, max(0, -math.floor(math.log10(step))))
        d["x"] = x
        if value != d["value"]:
            d["value"] = value
            w = d["old"].copy()
            w[d["key"]] = value
            self.views.document.set_params(self.node_id, {"W": w})
            self.views.weight_dragged(self.node_id)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        d, self._drag = self._drag, None
        if d is None or event.button() != Qt.MouseButton.LeftButton:
            return
        if d["value"] == float(d["old"][d["key"]]):
            return
        doc = self.views.document
        doc.set_params(self.node_id, {"W": d["old"]})  # the command makes the change for good
        command = set_weight_command(self.node_id, "W", d["key"], d["value"], d["old"])
        self.views.push(command)
        self.views.weight_dragged(self.node_id)
