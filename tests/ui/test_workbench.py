"""The window as a workbench, driven by mouse and keyboard only (no document calls build
anything): a network from a template or an empty document, data and features picked, training
set, trained to a stated accuracy, saved and reopened, undone and redone, and edited in place
(a node dropped onto a wire goes into it)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QToolBar

from bpviz.ui.main_window import MainWindow
from tests.model.helpers import params_of
from tests.ui.conftest import SCENES, retype
from tests.ui.gestures import (
    choose_from_menu_bar,
    click_menu_item,
    drag_op_onto_canvas,
    in_port,
    leave_drag,
    mouse_drag,
    on_view,
    out_port,
    wire_middle,
)
from tests.ui.test_training_panel import pick, same

CTRL = Qt.KeyboardModifier.ControlModifier
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def click(qtbot, widget) -> None:  # noqa: ANN001
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def open_with_keys(window: MainWindow, qtbot, path: Path) -> None:  # noqa: ANN001
    """File › Open (Ctrl+O); the file dialog answers `path`."""
    window.dialogs.next_open_path = path
    qtbot.keyClick(window.view, Qt.Key.Key_O, CTRL)
    assert window.files.path == path


def save_with_keys(window: MainWindow, qtbot, path: Path) -> dict:  # noqa: ANN001
    """File › Save As (Ctrl+Shift+S); the file dialog answers `path`."""
    window.dialogs.next_save_path = path
    qtbot.keyClick(window.view, Qt.Key.Key_S, CTRL_SHIFT)
    assert window.files.path == path and not window.files.is_modified()
    return json.loads(path.read_text())


def example(tmp_path: Path, name: str) -> Path:
    shutil.copy(SCENES / f"{name}.json", tmp_path / f"{name}.json")
    if name == "exam":
        shutil.copy(SCENES / "exam.csv", tmp_path / "exam.csv")
    return tmp_path / f"{name}.json"


def run_until(window: MainWindow, qtbot, steps: int) -> None:  # noqa: ANN001
    """Run (F5) at full speed until `steps` steps are done, then pause (F5)."""
    ui = window.training_ui
    ui.speed_slider.setFocus()
    qtbot.keyClick(ui.speed_slider, Qt.Key.Key_End)  # as fast as possible
    qtbot.keyClick(window.view, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: len(ui.controller.history) >= steps, timeout=60000)
    qtbot.keyClick(window.view, Qt.Key.Key_F5)
    assert not ui.running


def training_accuracy(window: MainWindow) -> float:
    """Share of training points on the right side of the model's boundary (logit > 0)."""
    session = window.training_ui.controller.session
    ds = session.dataset
    logits = np.asarray(session.predict(ds.x_train)).reshape(-1)
    return float(np.mean((logits > 0).astype(int) == ds.y_train))


def test_squared_features_let_one_linear_unit_learn_circles(
    window: MainWindow, tmp_path: Path, qtbot
) -> None:  # noqa: ANN001
    # the exam example: one dense unit (a logit) with bce, adam at lr 0.1
    open_with_keys(window, qtbot, example(tmp_path, "exam"))
    window.registry["data_panel"].trigger()
    data = window.data_panel
    click(qtbot, data.strip.buttons["circles"])
    assert window.document.data == {"kind": "circles", "test_fraction": 0.25, "seed": 0}
    run_until(window, qtbot, 300)
    assert training_accuracy(window) < 0.8  # a straight line cannot separate the rings
    click(qtbot, data.checks["x1^2"])
    click(qtbot, data.checks["x2^2"])
    assert window.document.data["transforms"] == ["x1", "x2", "x1^2", "x2^2"]
    assert len(window.training_ui.controller.history) == 0  # new features: trained afresh
    run_until(window, qtbot, 300)
    assert training_accuracy(window) >= 0.95
    scene = save_with_keys(window, qtbot, tmp_path / "rings.json")
    assert scene["data"]["transforms"] == ["x1", "x2", "x1^2", "x2^2"]
    assert np.asarray(scene["state"]["params"]["logit"]["W"]).shape == (4, 1)


def test_training_settings_and_weights_survive_save_and_reopen(
    window: MainWindow, tmp_path: Path, qtbot
) -> None:  # noqa: ANN001
    open_with_keys(window, qtbot, example(tmp_path, "moons"))
    window.registry["training_panel"].trigger()
    p = window.training_panel
    retype(qtbot, p.entries["lr"], "0.05")
    retype(qtbot, p.batch, "16")
    retype(qtbot, p.entries["l2"], "0.001")
    for _ in range(5):
        qtbot.keyClick(window.view, Qt.Key.Key_Return, CTRL)  # Step
    weights = params_of(window.training_ui.controller)
    path = tmp_path / "mine.json"
    scene = save_with_keys(window, qtbot, path)
    assert {k: scene["training"][k] for k in ("lr", "batch_size", "l2")} == {
        "lr": 0.05,
        "batch_size": 16,
        "l2": 0.001,
    }
    qtbot.keyClick(window.view, Qt.Key.Key_N, CTRL)  # File › New: everything goes
    assert p.entries["lr"].text() == "0.1" and p.batch.text() == "full"
    open_with_keys(window, qtbot, path)
    assert p.entries["lr"].text() == "0.05"
    assert p.batch.value() == 16
    assert p.entries["l2"].text() == "0.001"
    assert p.lr_slider.value() == 370  # log10(0.05) + 5 = 3.699 decades
    assert window.training_ui.controller.session.trainer.step_count == 5
    qtbot.keyClick(window.view, Qt.Key.Key_1, CTRL)  # Forward: the weights are the saved ones
    assert same(params_of(window.training_ui.controller), weights)


def test_undo_then_redo_of_every_panel_edit_gives_the_same_saved_scene(
    window: MainWindow, tmp_path: Path, qtbot
) -> None:  # noqa: ANN001
    open_with_keys(window, qtbot, example(tmp_path, "moons"))
    for _ in range(3):
        qtbot.keyClick(window.view, Qt.Key.Key_Return, CTRL)  # learned state to keep or reset
    window.registry["data_panel"].trigger()
    d, t = window.data_panel, window.training_panel
    window.dialogs.next_csv_path = tmp_path / "exam.csv"
    shutil.copy(SCENES / "exam.csv", tmp_path / "exam.csv")
    edits = [
        lambda: retype(qtbot, d.spins["noise"], "0.15"),
        lambda: retype(qtbot, d.spins["n"], "120"),
        lambda: click(qtbot, d.checks["x1*x2"]),
        lambda: click(qtbot, d.strip.buttons["spiral"]),
        lambda: retype(qtbot, d.spins["classes"], "2"),
        lambda: retype(qtbot, d.spins["test_fraction"], "0.3"),
        lambda: retype(qtbot, d.spins["seed"], "4"),
        lambda: click(qtbot, d.strip.buttons["csv"]),
        lambda: window.registry["training_panel"].trigger() or pick(qtbot, t.optimizer, "adam"),
        lambda: retype(qtbot, t.entries["lr"], "0.01"),
        lambda: retype(qtbot, t.batch, "8"),
        lambda: retype(qtbot, t.entries["l1"], "0.002"),
        lambda: pick(qtbot, t.schedule, "step"),
        lambda: retype(qtbot, t.seed, "3"),
    ]
    # after[i]: the scene right after edit i; before[i]: right before edit i + 1 (training
    # in between is not an edit: undo brings back the weights an edit reset, redo resets them)
    after = [save_with_keys(window, qtbot, tmp_path / "a0.json")]
    before = []
    for i, edit in enumerate(edits, 1):
        if i == 4:
            for _ in range(2):
                qtbot.keyClick(window.view, Qt.Key.Key_Return, CTRL)  # train between edits
        before.append(save_with_keys(window, qtbot, tmp_path / f"b{i - 1}.json"))
        edit()
        assert window.undo.qstack.index() == i
        after.append(save_with_keys(window, qtbot, tmp_path / f"a{i}.json"))
    assert before[3]["state"]["optimizer"]["step"] == 2 and after[4]["state"] is None
    assert after[8]["data"] == {"kind": "csv", "path": "exam.csv", "target": "passed",
                                "seed": 4, "test_fraction": 0.3}  # fmt: skip
    for i in range(len(edits) - 1, -1, -1):
        qtbot.keyClick(window.view, Qt.Key.Key_Z, CTRL)
        assert save_with_keys(window, qtbot, tmp_path / "u.json") == before[i], f"undo to {i}"
    for i in range(1, len(edits) + 1):
        qtbot.keyClick(window.view, Qt.Key.Key_Y, CTRL)  # Redo
        assert save_with_keys(window, qtbot, tmp_path / "r.json") == after[i], f"redo to {i}"
    assert window.undo.qstack.count() == len(edits)


LEFT = Qt.MouseButton.LeftButton
TRAIN_TIMEOUT_MS = 180_000  # two shared cores: generous; Run usually needs a few seconds

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


def toolbar_click(qtbot, window: MainWindow, toolbar: QToolBar, action: str) -> None:  # noqa: ANN001
    button = toolbar.widgetForAction(window.registry[action])
    assert button is not None and button.isVisible(), f"no {action} button on {toolbar}"
    qtbot.mouseClick(button, LEFT)


def pick_dataset(qtbot, window: MainWindow, kind: str) -> None:  # noqa: ANN001
    """One click on the toolbar's Data button, one on the kind's picture in the panel."""
    toolbar_click(qtbot, window, window.findChild(QToolBar, "main_toolbar"), "data_panel")
    button = window.data_panel.strip.buttons[kind]
    qtbot.waitUntil(button.isVisible, timeout=3000)
    qtbot.mouseClick(button, LEFT)
    assert window.document.data["kind"] == kind


def train_until(qtbot, window: MainWindow, accuracy: float) -> float:  # noqa: ANN001
    """Wait while Run trains until the training-set accuracy reaches `accuracy`; pause."""
    history = window.training_ui.controller.history
    assert window.training_ui.running
    qtbot.waitUntil(
        lambda: bool(history.accuracy) and history.accuracy[-1] >= accuracy,
        timeout=TRAIN_TIMEOUT_MS,
    )
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_F5)  # F5 again pauses
    assert not window.training_ui.running
    return history.accuracy[-1]


# ---- (a) a template, circles, Run ----------------------------------------------------------
def test_a_classifier_template_on_circles_runs_to_95_percent(
    window: MainWindow,
    qtbot,  # noqa: ANN001
) -> None:
    new_from_template(qtbot, window, CLASSIFIER)
    pick_dataset(qtbot, window, "moons")
    pick_dataset(qtbot, window, "circles")
    assert window.document.data == {"kind": "circles", "n": 200}
    toolbar_click(qtbot, window, window.training_toolbar, "run")
    assert train_until(qtbot, window, 0.95) >= 0.95


# ---- (b) an empty document built with the mouse ---------------------------------------------
def test_b_an_empty_document_wired_by_hand_learns_moons_to_95_percent(
    window: MainWindow,
    qtbot,  # noqa: ANN001
) -> None:
    new_from_template(qtbot, window, "Empty")
    assert len(window.document) == 0
    window.view.setFocus()
    for _ in range(2):  # zoom out for room (Ctrl+-)
        qtbot.keyClick(window.view, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    vp = window.view.viewport().rect()
    left, top, step = vp.left() + 90, vp.top() + vp.height() // 3, 150
    spots = {
        "input": QPoint(left, top),
        "dense": QPoint(left + step, top),
        "target": QPoint(left + 2 * step, top + 150),
        "bce": QPoint(left + 3 * step, top + 60),
    }
    for op in ("input", "dense"):
        drag_op_onto_canvas(window, op, spots[op])
    drag_op_onto_canvas(window, "dense", spots["dense"] + QPoint(step, 0))
    messages: list[str] = []
    window.statusBar().messageChanged.connect(messages.append)
    for op in ("target", "bce"):
        drag_op_onto_canvas(window, op, spots[op])
    assert messages[-1] == "bce1 is the output: training minimises it"
    assert list(window.document.nodes) == ["input1", "dense1", "dense2", "target1", "bce1"]

    for src, dst, port in (
        ("input1", "dense1", "x"),
        ("dense1", "dense2", "x"),
        ("dense2", "bce1", "pred"),
        ("target1", "bce1", "target"),
    ):
        mouse_drag(qtbot, window, out_port(window, src), in_port(window, dst, port))
    assert edges(window) == {
        ("input1", "dense1", "x"),
        ("dense1", "dense2", "x"),
        ("dense2", "bce1", "pred"),
        ("target1", "bce1", "target"),
    }
    # the hidden layer: 8 tanh units, on its header
    controls = window.canvas.header_controls["dense1"]
    plus = on_view(window, controls.scene_centre("plus"))
    for _ in range(7):
        qtbot.mouseClick(window.view.viewport(), LEFT, pos=plus)
    qtbot.mouseClick(window.view.viewport(), LEFT,
                     pos=on_view(window, controls.scene_centre("activation")))  # fmt: skip
    qtbot.waitUntil(lambda: controls.menu is not None and controls.menu.isVisible(), timeout=3000)
    menu = controls.menu
    click_menu_item(menu, next(a for a in menu.actions() if a.text() == "tanh"))
    assert window.document.node("dense1").attrs == {"units": 8, "activation": "tanh"}
    assert window.document.output == "bce1"  # the first loss dropped is what training minimises

    pick_dataset(qtbot, window, "moons")
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_F5)
    assert train_until(qtbot, window, 0.95) >= 0.95


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
    # the template's columns are 200 apart: h2 and everything after it move right to make room
    pos, items = window.document.pos, window.canvas.node_items

    def right(node_id: str) -> float:
        return (
            items[node_id].mapToScene(items[node_id].shape().boundingRect()).boundingRect().right()
        )

    assert pos("sigmoid1")[0] >= right("h1") + 40
    assert pos("h2")[0] == right("sigmoid1") + 40
    shift = pos("h2")[0] - 400
    assert [pos(n) for n in ("x", "h1", "h2", "out", "y", "loss")] == [
        (0, 100), (200, 100), (400 + shift, 100), (600 + shift, 100), (600, 250),
        (800 + shift, 150),
    ]  # fmt: skip
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
    assert messages[-1].startswith("Added sum1 beside the wire x → h1.x: incompatible shapes: ")
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
