"""A network's shape changed in a few clicks: templates from the File menu, a dense layer's
units and activation on its header, Insert Layer After, and the message an input without
data gives. Real mouse and keyboard events only."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QMenu

from bpviz.ui.main_window import MainWindow
from tests.ui.gestures import (
    choose_from_menu_bar,
    click_menu_item,
    drag_op_onto_canvas,
    in_port,
    mouse_drag,
    on_view,
    out_port,
)
from tests.ui.test_workbench import CLASSIFIER, CLASSIFIER_EDGES, edges, new_from_template

LEFT = Qt.MouseButton.LeftButton
INSERT = "Insert Layer After\tCtrl+Shift+I"  # the context-menu entry, with its shortcut


def click_control(qtbot, window: MainWindow, node_id: str, part: str) -> None:  # noqa: ANN001
    controls = window.canvas.header_controls[node_id]
    qtbot.mouseClick(window.view.viewport(), LEFT, pos=on_view(window, controls.scene_centre(part)))


def units(window: MainWindow, node_id: str) -> int:
    return window.document.node(node_id).attrs["units"]


# ---- File › New from Template --------------------------------------------------------------
def test_templates_are_listed_with_their_descriptions_as_tooltips(window: MainWindow) -> None:
    menu = window.files.templates_menu
    names = [a.text() for a in menu.actions()]
    assert names == [CLASSIFIER, "Regressor for 1-D data", "Scalar expression", "Empty"]
    assert (
        menu.actions()[0]
        .toolTip()
        .startswith("Two tanh layers of 8 units and a binary cross-entropy loss, on circles")
    )
    assert menu.toolTipsVisible()


def test_a_template_opens_as_a_ready_unmodified_document(
    window: MainWindow,
    qtbot,  # noqa: ANN001
) -> None:
    new_from_template(qtbot, window, CLASSIFIER)
    doc = window.document
    assert list(doc.nodes) == ["x", "h1", "h2", "out", "y", "loss"]
    assert edges(window) == CLASSIFIER_EDGES
    assert doc.data == {"kind": "circles", "n": 200, "noise": 0.05}
    assert doc.output == "loss"
    assert window.files.path is None
    assert not window.files.is_modified()
    assert window.windowTitle() == f"{CLASSIFIER}[*] — bpviz"
    assert not window.undo.can_undo()
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_F5)  # Run at once: the data is there
    history = window.training_ui.controller.history
    qtbot.waitUntil(lambda: len(history.loss) >= 3, timeout=10000)
    qtbot.keyClick(window.view, Qt.Key.Key_F5)
    assert not window.training_ui.running
    assert history.accuracy[-1] > 0.3  # a number, so the loss classifies


def test_a_template_over_a_modified_document_asks_first(
    window: MainWindow,
    qtbot,  # noqa: ANN001
) -> None:
    drag_op_onto_canvas(window, "tanh", window.view.viewport().rect().center())
    window.dialogs.save_answer = "cancel"
    choose_from_menu_bar(qtbot, window, "File", "New from Template", "Empty")
    assert window.dialogs.asked == ["Untitled"]
    assert list(window.document.nodes) == ["tanh1"]


# ---- a dense layer's header ----------------------------------------------------------------
def test_plus_and_minus_on_the_header_step_the_units_one_undo_step_each(
    window: MainWindow,
    qtbot,  # noqa: ANN001
) -> None:
    new_from_template(qtbot, window, CLASSIFIER)
    click_control(qtbot, window, "h1", "plus")
    assert units(window, "h1") == 9
    click_control(qtbot, window, "h1", "minus")
    click_control(qtbot, window, "h1", "minus")
    assert units(window, "h1") == 7
    assert window.undo.qstack.count() == 3
    assert window.undo.qstack.undoText() == "Change units of h1"
    assert window.canvas.header_controls["h1"].units == 7  # the header shows it
    assert window.files.is_modified()
    window.undo.undo()
    assert units(window, "h1") == 8
    assert window.document.node("h1").attrs == {"units": 8, "activation": "tanh"}
    assert window.canvas.selected_ids() == []  # clicking a control does not select the node
    window.registry["step"].trigger()  # the next layer's weights follow the new width
    controller = window.training_ui.controller
    assert len(controller.history.loss) == 1
    assert controller.phase != "error" and window.training_ui.last_error == ""


def test_minus_stops_at_one_unit_and_says_so(window: MainWindow, qtbot) -> None:  # noqa: ANN001
    new_from_template(qtbot, window, CLASSIFIER)
    controls = window.canvas.header_controls["out"]
    assert controls.tip("minus") == "A layer has at least one unit"
    assert controls.tip("plus") == "One unit more (1 → 2)"
    click_control(qtbot, window, "out", "minus")
    assert units(window, "out") == 1
    assert not window.undo.can_undo()


def test_the_activation_menu_on_the_header_sets_the_activation(
    window: MainWindow,
    qtbot,  # noqa: ANN001
) -> None:
    new_from_template(qtbot, window, CLASSIFIER)
    click_control(qtbot, window, "h2", "activation")
    controls = window.canvas.header_controls["h2"]
    menu = controls.menu
    assert menu is not None
    qtbot.waitUntil(menu.isVisible, timeout=3000)
    assert [a.text() for a in menu.actions()] == ["none", "relu", "tanh", "sigmoid"]
    assert [a.isChecked() for a in menu.actions()] == [False, False, True, False]
    click_menu_item(menu, menu.actions()[1])
    qtbot.waitUntil(lambda: not menu.isVisible(), timeout=3000)
    assert window.document.node("h2").attrs["activation"] == "relu"
    assert controls.activation == "relu"
    assert window.undo.qstack.undoText() == "Change activation of h2"
    window.undo.undo()
    assert window.document.node("h2").attrs["activation"] == "tanh"


def test_a_header_edit_while_running_pauses_with_the_reason(
    window: MainWindow,
    qtbot,  # noqa: ANN001
) -> None:
    new_from_template(qtbot, window, CLASSIFIER)
    messages: list[str] = []
    window.statusBar().messageChanged.connect(messages.append)
    window.registry["run"].trigger()
    assert window.training_ui.running
    click_control(qtbot, window, "h1", "plus")
    assert not window.training_ui.running
    assert messages[-2:] == [
        "Training paused: the graph changed",
        "h1 has 9 units: its weights and those of the layers it feeds start afresh",
    ]
    click_control(qtbot, window, "out", "activation")
    menu = window.canvas.header_controls["out"].menu
    qtbot.waitUntil(menu.isVisible, timeout=3000)
    click_menu_item(menu, menu.actions()[3])
    assert messages[-1] == "out uses sigmoid: its weights start afresh"


# ---- Insert Layer After --------------------------------------------------------------------
def test_insert_layer_after_by_shortcut_copies_the_layer_and_takes_its_wires(
    window: MainWindow,
    qtbot,  # noqa: ANN001
) -> None:
    new_from_template(qtbot, window, CLASSIFIER)
    before = window.document.to_scene_dict()
    title = window.canvas.node_items["h2"].mapToScene(QPointF(20, 13))
    qtbot.mouseClick(window.view.viewport(), LEFT, pos=on_view(window, title))
    assert window.canvas.selected_ids() == ["h2"]
    qtbot.keyClick(window.view, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)  # fmt: skip
    assert window.document.node("dense1").attrs == {"units": 8, "activation": "tanh"}
    assert edges(window) == CLASSIFIER_EDGES - {("h2", "out", "x")} | {
        ("h2", "dense1", "x"),
        ("dense1", "out", "x"),
    }
    assert window.canvas.selected_ids() == ["dense1"]
    # in h2's row, 40 right of it; out and the loss after it move right to leave 40 after it
    pos, items = window.document.pos, window.canvas.node_items

    def right(node_id: str) -> float:
        return (
            items[node_id].mapToScene(items[node_id].shape().boundingRect()).boundingRect().right()
        )

    assert pos("dense1") == (right("h2") + 40, 100)
    assert pos("out")[0] == right("dense1") + 40
    shift = pos("out")[0] - 600
    assert [pos(n) for n in ("x", "h1", "h2", "out", "y", "loss")] == [
        (0, 100), (200, 100), (400, 100), (600 + shift, 100), (600, 250), (800 + shift, 150)
    ]  # fmt: skip
    assert window.undo.qstack.count() == 1
    window.undo.undo()
    assert window.document.to_scene_dict() == before


def test_insert_layer_after_from_the_context_menu(window: MainWindow, qtbot) -> None:  # noqa: ANN001
    new_from_template(qtbot, window, CLASSIFIER)
    seen: list[list[str]] = []

    def choose() -> None:
        menu = QApplication.activePopupWidget()
        assert isinstance(menu, QMenu)
        seen.append([a.text() for a in menu.actions()])
        click_menu_item(menu, next(a for a in menu.actions() if a.text() == INSERT))

    QTimer.singleShot(50, choose)
    vp = window.view.viewport()
    pos = on_view(window, window.canvas.node_items["x"].mapToScene(QPointF(20, 13)))
    QApplication.sendEvent(vp, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos,
                                                 vp.mapToGlobal(pos)))  # fmt: skip
    qtbot.waitUntil(lambda: "dense1" in window.document.nodes, timeout=3000)
    assert len(seen) == 1 and seen[0][-1] == INSERT  # after the entries other parts offer
    # after a non-dense node: a 4-unit tanh layer
    assert window.document.node("dense1").attrs == {"units": 4, "activation": "tanh"}
    assert {("x", "dense1", "x"), ("dense1", "h1", "x")} <= edges(window)


def test_insert_layer_after_needs_one_selected_node(window: MainWindow, qtbot) -> None:  # noqa: ANN001
    new_from_template(qtbot, window, CLASSIFIER)
    messages: list[str] = []
    window.statusBar().messageChanged.connect(messages.append)
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)  # fmt: skip
    assert messages == ["Select one node to insert a layer after it"]
    assert len(window.document) == 6


# ---- an input without data -----------------------------------------------------------------
def test_connecting_an_input_in_a_scene_without_data_names_the_data_panel(
    window: MainWindow,
    qtbot,  # noqa: ANN001
) -> None:
    window.registry["new"].trigger()
    centre = window.view.viewport().rect().center()
    drag_op_onto_canvas(window, "input", centre - QPoint(200, 0))
    drag_op_onto_canvas(window, "dense", centre + QPoint(100, 0))
    messages: list[str] = []
    window.statusBar().messageChanged.connect(messages.append)
    mouse_drag(qtbot, window, out_port(window, "input1"), in_port(window, "dense1", "x"))
    assert messages[-1] == (
        "Can't connect: this scene has no data: choose a dataset in the Data panel"
    )
    assert edges(window) == set()


# ---- the first loss is the output ----------------------------------------------------------
def test_the_first_loss_dropped_becomes_the_output_in_the_same_undo_step(
    window: MainWindow,
    qtbot,  # noqa: ANN001
) -> None:
    new_from_template(qtbot, window, "Empty")
    centre = window.view.viewport().rect().center()
    drag_op_onto_canvas(window, "mse", centre)
    assert window.document.output == "mse1"
    assert window.undo.qstack.count() == 1
    drag_op_onto_canvas(window, "bce", centre + QPoint(0, 150))  # one output is enough
    assert window.document.output == "mse1"
    window.undo.undo()
    window.undo.undo()
    assert window.document.output is None and len(window.document) == 0
    tree, item = window.palette.tree, window.palette.item_for("hinge")
    tree.scrollToItem(item)
    spot = tree.visualItemRect(item).center()
    qtbot.mouseClick(tree.viewport(), LEFT, pos=spot)  # a double click's first half
    qtbot.mouseDClick(tree.viewport(), LEFT, pos=spot)
    assert list(window.document.nodes) == ["hinge1"]  # a double-click adds at the centre
    assert window.document.output == "hinge1"


def test_header_controls_repaint_only_when_they_change(
    window: MainWindow,
    qtbot,  # noqa: ANN001
    monkeypatch,  # noqa: ANN001
) -> None:
    """Run mode repaints the canvas at display rate: the controls are a cached picture,
    drawn again only when what they show changes (here the units after a click on +)."""
    from bpviz.ui.canvas.header_controls import DenseControls

    new_from_template(qtbot, window, CLASSIFIER)
    painted: list[int] = []
    paint = DenseControls.paint
    monkeypatch.setattr(
        DenseControls,
        "paint",
        lambda self, *a: (painted.append(self.units) if self.node_item.node_id == "h1" else None)
        or paint(self, *a),
    )
    viewport = window.view.viewport()
    viewport.repaint()
    before = len(painted)
    for _ in range(3):
        viewport.repaint()
    assert len(painted) == before  # unchanged: the cached picture, not a paint
    click_control(qtbot, window, "h1", "plus")
    viewport.repaint()
    assert painted[before:] == [9]  # changed: drawn once more, with the new units
