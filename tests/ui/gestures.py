"""What a person does with the window, as real mouse and keyboard events: open a menu path,
drag a palette entry onto the canvas, drag between two points of the canvas."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QAction, QDragEnterEvent, QDragLeaveEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu

from bpviz.ui.main_window import MainWindow

LEFT = Qt.MouseButton.LeftButton
NONE = Qt.KeyboardModifier.NoModifier


def click_menu_item(menu: QMenu, action: QAction) -> None:
    """A left click in the middle of `action`'s row of the open `menu`."""
    rect = menu.actionGeometry(action)
    assert rect.isValid(), f"{action.text()} has no row in {menu.title()}"
    QTest.mouseMove(menu, rect.center())
    QTest.mouseClick(menu, LEFT, NONE, rect.center())


def choose_from_menu_bar(qtbot, window: MainWindow, *path: str) -> None:  # noqa: ANN001
    """Click a menu bar title, then each entry of `path` in turn (submenus open on click),
    matching the entries' text without '&'."""
    bar = window.menuBar()
    titles = {a.text().replace("&", ""): a for a in bar.actions()}
    top = titles[path[0]]
    QTest.mouseClick(bar, LEFT, NONE, bar.actionGeometry(top).center())
    menu = top.menu()
    qtbot.waitUntil(menu.isVisible, timeout=3000)
    for name in path[1:]:
        action = next(a for a in menu.actions() if a.text().replace("&", "") == name)
        click_menu_item(menu, action)
        if action.menu() is None:
            break
        menu = action.menu()
        qtbot.waitUntil(menu.isVisible, timeout=3000)
    qtbot.waitUntil(lambda: not top.menu().isVisible(), timeout=3000)  # the click closed it


def drag_op_onto_canvas(window: MainWindow, op: str, target: QPoint, steps: int = 4) -> None:
    """Drag the palette's `op` entry in from the canvas's left edge and drop it at `target`
    (viewport coordinates): enter, moves, drop, as Qt delivers a drag and drop."""
    mime: QMimeData = window.palette.tree.mimeData([window.palette.item_for(op)])
    vp = window.view.viewport()
    args = (Qt.DropAction.CopyAction, mime, LEFT, NONE)
    start = QPoint(2, target.y())
    enter = QDragEnterEvent(start, *args)
    QApplication.sendEvent(vp, enter)
    assert enter.isAccepted(), "the canvas refused the palette drag"
    for i in range(1, steps + 1):
        p = start + (target - start) * i / steps
        QApplication.sendEvent(vp, QDragMoveEvent(p, *args))
    QApplication.sendEvent(vp, QDropEvent(QPointF(target), *args))


def leave_drag(window: MainWindow) -> None:
    QApplication.sendEvent(window.view.viewport(), QDragLeaveEvent())


def mouse_drag(qtbot, window: MainWindow, start: QPoint, end: QPoint, steps: int = 6) -> None:  # noqa: ANN001
    """Press at `start`, move in steps, release at `end` (viewport coordinates)."""
    vp = window.view.viewport()
    qtbot.mousePress(vp, LEFT, pos=start)
    for i in range(1, steps + 1):
        qtbot.mouseMove(vp, start + (end - start) * i / steps)
    qtbot.mouseRelease(vp, LEFT, pos=end)


def on_view(window: MainWindow, scene_pos: QPointF) -> QPoint:
    return window.view.mapFromScene(scene_pos)


def out_port(window: MainWindow, node_id: str) -> QPoint:
    return on_view(window, window.canvas.node_items[node_id].output_anchor())


def in_port(window: MainWindow, node_id: str, port: str) -> QPoint:
    return on_view(window, window.canvas.node_items[node_id].input_anchor(port))


def wire_middle(window: MainWindow, src: str, dst: str, port: str) -> QPoint:
    """The middle of the wire src → dst.port, where a drop goes into it."""
    edge = window.canvas.edge_items[(src, dst, port)]
    return on_view(window, edge.path().pointAtPercent(0.5))
