"""A side panel's body in a vertical scroll area that is never narrower than the body."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLayout, QScrollArea, QWidget


def vertical_scroll(body: QWidget) -> QScrollArea:
    """Scroll `body` up and down, never squeeze it: the area asks for the body's minimum width
    (plus the scroll bar), so a dock widens instead of cutting thumbnails or fields off."""
    if body.layout() is not None:
        body.layout().setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setWidget(body)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setMinimumWidth(
        body.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 2
    )
    return scroll
