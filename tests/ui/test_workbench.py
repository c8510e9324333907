"""The window as a workbench, driven only by mouse and keyboard: a network from a template
or from an empty document, configured in the panels, trained to a stated accuracy, and
edited in place (a node dropped onto a wire goes into it)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QCursor

from bpviz.ui.main_window import MainWindow
from tests.ui.gestures import choose_from_menu_bar, drag_op_onto_canvas, leave_drag, wire_middle

CLASSIFIER = "Classifier for 2-D data"


def new_from_template(qtbot, window: MainWindow, name: str) -> None:  # noqa: ANN001
    choose_from_menu_bar(qtbot, window, "File", "New from Template", name)
    qtbot.waitUntil(lambda: window.document.name == name, timeout=3000)
    window.view.fit_all()


def edges(window: MainWindow) -> set[tuple[str, str, str]]:
    return {(e.src, e.dst, e.port) for e in window.document.edges()}


CLASSIFIER_EDGES = {
    ("x", "h1", "x"),
    ("h1", "h2", "x"),
    ("h2", "out", "x"),
    ("out", "loss", "pred"),
    ("y", "loss", "target"),
}


# ---- (f) a node dropped onto a wire goes into it ------------------------------------------
def test_f_dropping_a_palette_node_on_a_wire_splices_it_in_one_undo_step(
    window: MainWindow,
    qtbot,  # noqa: ANN001
) -> None:
    new_from_template(qtbot, window, CLASSIFIER)
    before = window.document.to_scene_dict()
    messages: list[str] = []
    window.statusBar().messageChanged.connect(messages.append)
    target = wire_middle(window, "h1", "h2", "x")
    drag_op_onto_canvas(window, "sigmoid", target)

    assert edges(window) == CLASSIFIER_EDGES - {("h1", "h2", "x")} | {
        ("h1", "sigmoid1", "x"),
        ("sigmoid1", "h2", "x"),
    }
    assert "Inserted sigmoid1 into h1 → h2.x" in messages
    assert window.canvas.splices.target is None  # the outline went with the drop
    assert window.undo.qstack.count() == 1
    window.undo.undo()
    assert window.document.to_scene_dict() == before
    window.undo.redo()
    assert ("sigmoid1", "h2", "x") in edges(window)


def test_the_wire_under_a_dragged_node_is_outlined_blue_if_it_fits_red_if_not(
    window: MainWindow,
    qtbot,  # noqa: ANN001
) -> None:
    from PySide6.QtCore import QMimeData, QPointF
    from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent
    from PySide6.QtWidgets import QApplication

    new_from_template(qtbot, window, CLASSIFIER)
    vp = window.view.viewport()

    def hover(op: str, pos: QPoint) -> None:
        mime: QMimeData = window.palette.tree.mimeData([window.palette.item_for(op)])
        args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                Qt.KeyboardModifier.NoModifier)  # fmt: skip
        QApplication.sendEvent(vp, QDragEnterEvent(pos, *args))
        QApplication.sendEvent(vp, QDragMoveEvent(pos, *args))

    messages: list[str] = []
    window.statusBar().messageChanged.connect(messages.append)
    hover("tanh", wire_middle(window, "h2", "out", "x"))
    splices = window.canvas.splices
    assert splices.target.key == ("h2", "out", "x")
    outline = splices._outline
    assert outline.pen().color().name() == "#1a73e8"
    assert outline.pen().style() == Qt.PenStyle.SolidLine
    assert messages[-1] == "Drop to insert tanh into h2 → out.x"

    hover("sum", wire_middle(window, "x", "h1", "x"))  # a scalar cannot feed a dense layer
    assert splices.target.key == ("x", "h1", "x")
    assert splices._outline.pen().color().name() == "#d93025"
    assert splices._outline.pen().style() == Qt.PenStyle.DashLine
    assert messages[-1].startswith("Won't splice into x → h1.x: incompatible shapes:")

    hover("tanh", window.view.mapFromScene(QPointF(-400, -400)))  # off every wire
    assert splices.target is None and splices._outline is None
    hover("tanh", wire_middle(window, "h2", "out", "x"))
    leave_drag(window)
    assert splices.target is None and splices._outline is None
    assert len(window.document) == 6  # hovering adds nothing


def test_a_node_that_does_not_fit_the_wire_is_added_beside_it_with_the_reason(
    window: MainWindow,
    qtbot,  # noqa: ANN001
) -> None:
    new_from_template(qtbot, window, CLASSIFIER)
    messages: list[str] = []
    window.statusBar().messageChanged.connect(messages.append)
    drag_op_onto_canvas(window, "sum", wire_middle(window, "x", "h1", "x"))
    assert "sum1" in window.document.nodes
    assert edges(window) == CLASSIFIER_EDGES
    assert messages[-1].startswith(
        "Added sum1 beside the wire x → h1.x: incompatible shapes: "
    )
    assert "dense expects a vector or a (batch, features) matrix" in messages[-1]

    drag_op_onto_canvas(window, "param", wire_middle(window, "h1", "h2", "x"))
    assert "param1" in window.document.nodes
    assert edges(window) == CLASSIFIER_EDGES
    assert messages[-1] == (
        "Added param1 beside the wire h1 → h2.x: 'param' has no input to take the wire"
    )
    assert window.undo.qstack.count() == 2


def test_a_node_picked_with_tab_where_a_wire_runs_goes_into_it(
    window: MainWindow,
    qtbot,  # noqa: ANN001
) -> None:
    new_from_template(qtbot, window, CLASSIFIER)
    vp = window.view.viewport()
    spot = wire_middle(window, "h2", "out", "x")
    QCursor.setPos(vp.mapToGlobal(spot))
    qtbot.mouseMove(vp, spot)
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Tab)
    assert window.edits.search.isVisible()
    qtbot.keyClicks(window.edits.search.edit, "relu")
    qtbot.keyClick(window.edits.search.edit, Qt.Key.Key_Return)
    assert {("h2", "relu1", "x"), ("relu1", "out", "x")} <= edges(window)
    assert ("h2", "out", "x") not in edges(window)
    assert window.undo.qstack.count() == 1
