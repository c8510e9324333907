"""Dragging a number sideways changes it: a scalar param or const is scrubbed on the canvas.

While the mouse moves, the document's attr is set directly, so the inspector and (through
the scene's `value_dragged` signal) the computed values follow live; on release the attr goes
back and one SetAttr command takes the final value: the whole drag is one undo step.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt

from bpviz.model.commands import SetAttr

if TYPE_CHECKING:
    from bpviz.ui.canvas.scene import CanvasScene

STEP = 0.01  # change per pixel; Shift for 10x finer, Ctrl for 10x coarser


def step_for(modifiers: Qt.KeyboardModifier) -> float:
    if modifiers & Qt.KeyboardModifier.ShiftModifier:
        return STEP / 10
    if modifiers & Qt.KeyboardModifier.ControlModifier:
        return STEP * 10
    return STEP


class ValueDrag:
    """One drag of node `node_id`'s value, starting at `start` with the mouse at scene x `x`."""

    def __init__(self, scene: CanvasScene, node_id: str, start: float, x: float) -> None:
        self.scene = scene
        self.node_id = node_id
        self.old_attr: Any = scene.document.node(node_id).attrs.get("value")
        self.value = start
        self._x = x

    def move(self, x: float, modifiers: Qt.KeyboardModifier) -> None:
        """Add (mouse travel × step) to the value, rounded to the step's decimals."""
        step = step_for(modifiers)
        value = round(self.value + (x - self._x) * step, max(0, -math.floor(math.log10(step))))
        self._x = x
        if value != self.value:
            self.value = value
            self.scene.document.set_attr(self.node_id, "value", value)
            self.scene.value_dragged.emit(self.node_id)

    def finish(self) -> SetAttr | None:
        """Put the attr back as it was and return the command that sets the final value."""
        doc = self.scene.document
        if doc.node(self.node_id).attrs.get("value") == self.old_attr:
            return None
        doc.set_attr(self.node_id, "value", self.old_attr)
        return SetAttr(self.node_id, "value", self.value)
