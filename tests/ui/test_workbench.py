"""The window as a workbench, driven by mouse and keyboard only (no document calls build
anything): pick data and features, set training, train, save and reopen, undo and redo."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt

from bpviz.ui.main_window import MainWindow
from tests.ui.conftest import SCENES, retype
from tests.ui.test_training_panel import params, pick, same

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
    weights = params(window)
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
    assert same(params(window), weights)


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
