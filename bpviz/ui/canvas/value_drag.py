"""Dragging a number sideways changes it: a scalar param or const is scrubbed on the canvas.

While the mouse moves, the document's attr is set directly, so the inspector and (through
the scene's `value_dragged` signal) the computed values follow live; on release the attr goes
back and one SetAttr command takes the final value: the whole drag is one undo step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt

from bpviz.model.commands import SetAttr
from bpviz.model.document import Document

STEP = 0.01  # change per pixel; Shift for 10x finer, Ctrl for 10x coarser


def step_for(modifiers: Qt.KeyboardModifier) -> float:
    if modifiers & Qt.KeyboardModifier.ShiftModifier:
        return STEP / 10
    if modifiers & Qt.KeyboardModifier.ControlModifier:
        return STEP * 10
    return STEP


class ValueDrag:
    """One drag of node `node_id`'s value in `document`, starting at `start` with the mouse at
    screen x `x`; `moved(node_id)` is called after each live change."""

    def __init__(
        self,
        document: Document,
        node_id: str,
        start: float,
        x: float,
        moved: Callable[[str], None],
    ) -> None:
        self.document = document
        self.node_id = node_id
        self.moved = moved
        self.old_attr: Any = document.node(node_id).attrs.get("value")
        self.value = start
        self._x = x

    def move(self, x: float, modifiers: Qt.KeyboardModifier) -> None:
        """Add (mouse travel × step) to the value, rounded to the step's decimals."""
        step = step_for(modifiers)
        value = round(self.value + (x - self._x) * step, max(0, -math.floor(math.log10(step))))
        self._x = x
        if value != self.value:
            self.value = value
            self.document.set_attr(self.node_id, "value", value)
            self.moved(self.node_id)

    def finish(self) -> SetAttr | None:
        """Put the attr back as it was and return the command that sets the final value."""
        doc = self.document
        if doc.node(self.node_id).attrs.get("value") == self.old_attr:
            return None
        doc.set_attr(self.node_id, "value", self.old_attr)
        return SetAttr(self.node_id, "value", self.value)
