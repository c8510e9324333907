"""Whether a view can be seen, and a call when it can be seen again.

Qt keeps the pages of tabified docks that are not raised "visible" (`isVisible()` is True, no
hide or show events) and only moves them outside the window, so a view that asks `isVisible()`
keeps drawing behind another tab; the loss landscape, tabbed behind the model output, computed
its grids through all of Run mode that way. `on_screen` also asks whether the widget lies in its
window; `DockFollower` tells a view when the dock holding it comes on screen again (its tab
raised, the window restored), which the dock hears and the widgets inside it do not.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

from PySide6.QtCore import QPoint, QRect, QTimer
from PySide6.QtWidgets import QDockWidget, QWidget


def on_screen(widget: QWidget) -> bool:
    """Shown, in a window that is not minimized, and inside that window's area."""
    if not widget.isVisible():
        return False
    window = widget.window()
    if window.isMinimized():
        return False
    corner = widget.mapTo(window, QPoint(0, 0))
    return window.rect().intersects(QRect(corner, widget.size()))


class DockFollower:
    """Calls `shown` whenever the dock holding `widget` comes on screen again, once Qt has
    placed it. The widget calls `attach` from its showEvent: a widget is put in a dock after
    it is built, and may be moved to another. Holds the widget weakly: a widget keeping its
    follower must not keep itself alive (collected later, at a random moment, it would be
    deleted in the middle of some other widget's paint)."""

    def __init__(self, widget: QWidget, shown: Callable[[], None]) -> None:
        self._widget = weakref.ref(widget)
        self._shown = weakref.WeakMethod(shown)
        self._dock: QDockWidget | None = None

    def attach(self) -> None:
        widget = self._widget()
        dock = widget.parentWidget() if widget is not None else None
        while dock is not None and not isinstance(dock, QDockWidget):
            dock = dock.parentWidget()
        if dock is self._dock:
            return
        if self._dock is not None:
            self._dock.visibilityChanged.disconnect(self._visibility_changed)
        self._dock = dock
        if dock is not None:
            dock.visibilityChanged.connect(self._visibility_changed)

    def _visibility_changed(self, visible: bool) -> None:
        widget = self._widget()
        if visible and widget is not None:  # Qt may still be moving the page into place
            QTimer.singleShot(0, widget, self._call)  # (dropped if the widget is deleted)

    def _call(self) -> None:
        widget, shown = self._widget(), self._shown()
        if widget is not None and shown is not None:
            shown()
