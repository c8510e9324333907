"""Animated pulses along wires: a value travelling forward, a gradient travelling backward.

Animations run on Qt's animation timer and never block input; they can be turned off or sped
up, and `stop_all` leaves no timer running (closing or editing the graph calls it)."""

from __future__ import annotations

from PySide6.QtCore import QEasingCurve, QObject, QPointF, QRectF, Qt, QVariantAnimation
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QStyleOptionGraphicsItem, QWidget

from bpviz.ui.canvas.items import EdgeItem

LABEL_FONT = QFont()
LABEL_FONT.setPointSizeF(8.5)
LABEL_FONT.setBold(True)


class PulseItem(QGraphicsItem):
    """A dot with a label (the number it carries), drawn above nodes and wires."""

    def __init__(self, label: str, colour: QColor) -> None:
        super().__init__()
        self.label = label
        self.colour = colour
        self.setZValue(5)
        width = QFontMetricsF(LABEL_FONT).horizontalAdvance(label) + 10
        self._label_rect = QRectF(8, -22, width, 16)

    def boundingRect(self) -> QRectF:
        return QRectF(-8, -8, 16, 16).united(self._label_rect)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("#ffffff"), 2))
        painter.setBrush(self.colour)
        painter.drawEllipse(QPointF(0, 0), 6, 6)
        if self.label:
            painter.setPen(QPen(self.colour, 1))
            painter.setBrush(QColor(255, 255, 255, 235))
            painter.drawRoundedRect(self._label_rect, 4, 4)
            painter.setFont(LABEL_FONT)
            painter.setPen(self.colour)
            painter.drawText(self._label_rect, Qt.AlignmentFlag.AlignCenter, self.label)


class Pulses(QObject):
    def __init__(self, scene: QGraphicsScene) -> None:
        super().__init__(scene)
        self.scene = scene
        self.enabled = True
        self.duration_ms = 700
        self._running: dict[QVariantAnimation, PulseItem] = {}

    def send(self, edge: EdgeItem, label: str, colour: QColor, backward: bool) -> None:
        """Move a labelled pulse along `edge`: src → dst, or dst → src when backward."""
        if not self.enabled or edge.scene() is not self.scene:
            return
        item = PulseItem(label, colour)
        path = edge.path()
        self.scene.addItem(item)
        anim = QVariantAnimation(self)
        anim.setDuration(self.duration_ms)
        anim.setStartValue(1.0 if backward else 0.0)
        anim.setEndValue(0.0 if backward else 1.0)
        anim.setEasingCurve(QEasingCurve.Type.InOutSine)
        anim.valueChanged.connect(lambda t: item.setPos(path.pointAtPercent(float(t))))
        anim.finished.connect(lambda: self._finish(anim))
        item.setPos(path.pointAtPercent(1.0 if backward else 0.0))
        self._running[anim] = item
        anim.start()

    def _finish(self, anim: QVariantAnimation) -> None:
        item = self._running.pop(anim, None)
        if item is not None and item.scene() is self.scene:
            self.scene.removeItem(item)
        anim.deleteLater()

    def running(self) -> int:
        return len(self._running)

    def stop_all(self) -> None:
        for anim in list(self._running):
            anim.stop()
            self._finish(anim)
