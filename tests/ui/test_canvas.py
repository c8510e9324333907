"""The canvas with real mouse events: wiring, refusing, moving, dropping from the palette."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QMouseEvent
from PySide6.QtWidgets import QApplication

from bpviz.model.document import Document
from bpviz.model.shapes import ShapeOracle
from bpviz.ui.canvas.scene import CanvasScene
from bpviz.ui.canvas.view import CanvasView
from bpviz.ui.palette import OP_MIME
from bpviz.ui.undo import UndoStack

LEFT = Qt.MouseButton.LeftButton


class Canvas:
    def __init__(self, qtbot, document: Document) -> None:  # noqa: ANN001
        self.qtbot = qtbot
        self.doc = document
        for node_id in list(document.nodes):  # spread out: ports must not touch
            x, y = document.pos(node_id)
            document.move_node(node_id, (x * 1.5, y))
        self.undo = UndoStack(document)
        self.scene = CanvasScene(self.undo.push)
        self.scene.set_document(document)
        self.scene.problem_checker = ShapeOracle(document).connection_problem
        self.messages: list[str] = []
        self.scene.status.connect(self.messages.append)
        self.view = CanvasView(self.scene)
        qtbot.addWidget(self.view)
        self.view.resize(1000, 700)
        self.view.show()
        qtbot.waitExposed(self.view)
        self.view.resetTransform()
        self.view.centerOn(300, 100)

    def at(self, scene_pos: QPointF) -> QPoint:
        return self.view.mapFromScene(scene_pos)

    def out_port(self, node_id: str) -> QPoint:
        return self.at(self.scene.node_items[node_id].output_anchor())

    def in_port(self, node_id: str, port: str) -> QPoint:
        return self.at(self.scene.node_items[node_id].input_anchor(port))

    def title(self, node_id: str) -> QPoint:
        return self.at(self.scene.node_items[node_id].mapToScene(QPointF(40, 12)))

    def drag(self, start: QPoint, end: QPoint, steps: int = 5) -> None:
        vp = self.view.viewport()
        self.qtbot.mousePress(vp, LEFT, pos=start)
        for i in range(1, steps + 1):
            self.qtbot.mouseMove(vp, start + (end - start) * i / steps)
        self.qtbot.mouseRelease(vp, LEFT, pos=end)


@pytest.fixture
def canvas(qtbot, document: Document) -> Canvas:  # noqa: ANN001
    return Canvas(qtbot, document)


def test_items_mirror_the_document(canvas: Canvas) -> None:
    assert set(canvas.scene.node_items) == set(canvas.doc.nodes)
    assert set(canvas.scene.edge_items) == {(e.src, e.dst, e.port) for e in canvas.doc.edges()}
    assert canvas.scene.node_items["loss"].is_output


def test_drag_from_output_to_input_connects(canvas: Canvas) -> None:
    canvas.drag(canvas.out_port("t1"), canvas.in_port("lr", "x"))
    assert canvas.doc.node("lr").inputs == {"x": "t1"}
    assert ("t1", "lr", "x") in canvas.scene.edge_items
    assert canvas.undo.qstack.undoText() == "Connect t1 → lr.x"
    canvas.undo.undo()
    assert canvas.doc.node("lr").inputs == {}
    assert ("t1", "lr", "x") not in canvas.scene.edge_items


def test_drag_from_free_input_to_output_connects(canvas: Canvas) -> None:
    canvas.drag(canvas.in_port("lr", "x"), canvas.out_port("d1"))
    assert canvas.doc.node("lr").inputs == {"x": "d1"}


def test_cycle_is_refused_with_the_reason(canvas: Canvas) -> None:
    before = canvas.doc.to_scene_dict()
    canvas.drag(canvas.out_port("t1"), canvas.in_port("d1", "x"))
    assert canvas.doc.to_scene_dict() == before
    assert any("cycle" in m for m in canvas.messages)
    assert canvas.undo.qstack.count() == 0


def test_self_connection_is_refused(canvas: Canvas) -> None:
    before = canvas.doc.to_scene_dict()
    canvas.drag(canvas.out_port("lr"), canvas.in_port("lr", "x"))
    assert canvas.doc.to_scene_dict() == before
    assert any("itself" in m for m in canvas.messages)


def test_incompatible_shapes_are_refused(canvas: Canvas) -> None:
    canvas.doc.add_node("a", "const", {"value": [1.0, 2.0, 3.0]}, (0, 300))
    canvas.doc.add_node("b", "const", {"value": [1.0, 2.0]}, (0, 400))
    canvas.doc.add_node("s", "add", {}, (260, 350))
    canvas.doc.connect("a", "s", "a")
    canvas.drag(canvas.out_port("b"), canvas.in_port("s", "b"))
    assert "b" not in canvas.doc.node("s").inputs
    assert any("incompatible shapes" in m for m in canvas.messages)


def test_valid_target_highlights_while_passing(canvas: Canvas) -> None:
    vp = canvas.view.viewport()
    canvas.qtbot.mousePress(vp, LEFT, pos=canvas.out_port("t1"))
    canvas.qtbot.mouseMove(vp, canvas.in_port("lr", "x"))
    assert canvas.scene.node_items["lr"].port_state.get("x") == "valid"
    canvas.qtbot.mouseMove(vp, canvas.in_port("d1", "x"))
    assert canvas.scene.node_items["lr"].port_state.get("x") is None
    assert canvas.scene.node_items["d1"].port_state.get("x") == "invalid"
    canvas.qtbot.mouseRelease(vp, LEFT, pos=canvas.at(QPointF(700, 500)))
    assert not any(canvas.scene.node_items["d1"].port_state.values())


def test_drop_on_occupied_input_replaces_its_edge(canvas: Canvas) -> None:
    canvas.drag(canvas.out_port("x"), canvas.in_port("t1", "x"))
    assert canvas.doc.node("t1").inputs == {"x": "x"}
    assert ("d1", "t1", "x") not in canvas.scene.edge_items
    canvas.undo.undo()
    assert canvas.doc.node("t1").inputs == {"x": "d1"}


def test_dragging_an_input_end_away_disconnects(canvas: Canvas) -> None:
    canvas.drag(canvas.in_port("t1", "x"), canvas.at(QPointF(250, 400)))
    assert canvas.doc.node("t1").inputs == {}
    assert ("d1", "t1", "x") not in canvas.scene.edge_items
    canvas.undo.undo()
    assert canvas.doc.node("t1").inputs == {"x": "d1"}


def test_dragging_an_input_end_to_another_port_reconnects(canvas: Canvas) -> None:
    canvas.drag(canvas.in_port("t1", "x"), canvas.in_port("lr", "x"))
    assert canvas.doc.node("t1").inputs == {}
    assert canvas.doc.node("lr").inputs == {"x": "d1"}
    assert canvas.undo.qstack.count() == 1


def test_move_is_one_undo_step(canvas: Canvas) -> None:
    start = canvas.doc.pos("lr")
    canvas.drag(canvas.title("lr"), canvas.title("lr") + QPoint(120, 60), steps=8)
    moved = canvas.doc.pos("lr")
    assert moved == pytest.approx((start[0] + 120, start[1] + 60))
    assert canvas.undo.qstack.count() == 1
    canvas.undo.undo()
    assert canvas.doc.pos("lr") == start
    assert canvas.scene.node_items["lr"].pos() == QPointF(*start)


def test_moving_a_node_drags_its_wires(canvas: Canvas) -> None:
    edge = canvas.scene.edge_items[("d1", "t1", "x")]
    before = edge.path().pointAtPercent(1.0)
    canvas.drag(canvas.title("t1"), canvas.title("t1") + QPoint(0, 80))
    assert edge.path().pointAtPercent(1.0).y() == pytest.approx(before.y() + 80)


def test_rubber_band_selects_and_click_selects(canvas: Canvas) -> None:
    canvas.qtbot.mouseClick(canvas.view.viewport(), LEFT, pos=canvas.title("t1"))
    assert canvas.scene.selected_ids() == ["t1"]
    canvas.qtbot.mouseClick(
        canvas.view.viewport(), LEFT, Qt.KeyboardModifier.ControlModifier, canvas.title("lr")
    )
    assert canvas.scene.selected_ids() == ["t1", "lr"]
    canvas.drag(canvas.at(QPointF(-40, -40)), canvas.at(QPointF(420, 150)))
    assert set(canvas.scene.selected_ids()) == {"x", "y", "d1"}


def test_snap_to_grid(canvas: Canvas) -> None:
    canvas.scene.set_snap(True)
    canvas.drag(canvas.title("lr"), canvas.title("lr") + QPoint(33, 27))
    x, y = canvas.doc.pos("lr")
    assert x % 20 == 0 and y % 20 == 0


def test_palette_drop_adds_a_node_where_dropped(canvas: Canvas) -> None:
    mime = QMimeData()
    mime.setData(OP_MIME, b"sigmoid")
    target = canvas.at(QPointF(600, 300))
    vp = canvas.view.viewport()
    args = (Qt.DropAction.CopyAction, mime, LEFT, Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(target, *args)
    QApplication.sendEvent(vp, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(vp, QDropEvent(QPointF(target), *args))
    assert "sigmoid1" in canvas.doc.nodes
    x, y = canvas.doc.pos("sigmoid1")
    assert canvas.scene.node_items["sigmoid1"].sceneBoundingRect().contains(QPointF(600, 300))
    assert (x, y) == pytest.approx((520, 287), abs=1)


def test_wheel_zooms_and_fit_shows_everything(canvas: Canvas) -> None:
    canvas.view.zoom_by(2.0)
    assert canvas.view.zoom() == pytest.approx(2.0)
    canvas.view.zoom_by(100)
    assert canvas.view.zoom() == pytest.approx(4.0)
    canvas.view.fit_all()
    visible = canvas.view.mapToScene(canvas.view.viewport().rect()).boundingRect()
    for item in canvas.scene.node_items.values():
        assert visible.contains(item.sceneBoundingRect())


def test_document_edits_update_items(canvas: Canvas) -> None:
    canvas.doc.set_attr("d1", "units", 8)
    assert canvas.scene.node_items["d1"].summary == "dense 8 · relu"
    canvas.doc.disconnect("loss", "target")
    assert ("y", "loss", "target") not in canvas.scene.edge_items
    canvas.doc.remove_node("y")
    assert "y" not in canvas.scene.node_items


def test_only_single_numbers_of_params_and_consts_can_be_dragged(canvas: Canvas) -> None:
    """An array param or an input is not scrubbed: pressing on its value moves the node."""
    canvas.doc.add_node("c", "const", {"value": 2.0}, (0, 300))
    assert canvas.scene.node_items["c"].draggable_value() == 2.0  # from its attr, before a pass
    assert canvas.scene.node_items["p1"].draggable_value() is None  # drawn later, shape [2, 3]
    assert canvas.scene.node_items["x"].draggable_value() is None  # data, not a parameter
    item = canvas.scene.node_items["p1"]
    before = item.pos()
    start = canvas.at(item.mapToScene(item.value_box().center()))
    canvas.drag(start, start + QPoint(40, 0))
    assert item.pos() != before and canvas.undo.qstack.undoText().startswith("Move")


def test_dragging_a_const_value_with_shift_is_finer(canvas: Canvas) -> None:
    canvas.doc.add_node("c", "const", {"value": 2.0}, (0, 300))
    item = canvas.scene.node_items["c"]
    canvas.view.centerOn(item)
    start = canvas.at(item.mapToScene(item.value_box().center()))
    vp = canvas.view.viewport()
    shift = Qt.KeyboardModifier.ShiftModifier
    end = start + QPoint(-30, 0)
    canvas.qtbot.mousePress(vp, LEFT, shift, start)
    move = QMouseEvent(  # QTest's moves carry no modifiers: send one holding Shift
        QEvent.Type.MouseMove,
        QPointF(end),
        QPointF(vp.mapToGlobal(end)),
        Qt.MouseButton.NoButton,
        LEFT,
        shift,
    )
    QApplication.sendEvent(vp, move)
    canvas.qtbot.mouseRelease(vp, LEFT, shift, end)
    assert canvas.doc.node("c").attrs["value"] == pytest.approx(1.97)
    canvas.undo.undo()
    assert canvas.doc.node("c").attrs["value"] == 2.0
