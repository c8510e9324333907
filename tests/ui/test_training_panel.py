"""The Training panel in the real window, driven by mouse and keyboard: every control writes
its key exactly, one command per committed edit; undo and redo move the controls without
pushing back; settings that keep the weights keep them (Run goes on), a new seed resets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from bpviz.scene import load_scene
from bpviz.ui.main_window import MainWindow
from tests.model.helpers import params_of
from tests.ui.conftest import retype
from tests.ui.test_data_panel import saved
from tests.ui.test_training_ui import open_scene


def panel(window: MainWindow):  # noqa: ANN201
    window.registry["training_panel"].trigger()
    assert window.training_dock.isVisible()
    return window.training_panel


def pick(qtbot, combo, text: str) -> None:  # noqa: ANN001
    """Open the combo box's list with the mouse, walk to `text` with the arrow keys and
    take it with Enter (one choice, however far the walk)."""
    qtbot.mouseClick(combo, Qt.MouseButton.LeftButton)
    view = combo.view()
    qtbot.waitUntil(view.isVisible)
    steps = combo.findText(text) - combo.currentIndex()
    for _ in range(abs(steps)):
        qtbot.keyClick(view, Qt.Key.Key_Down if steps > 0 else Qt.Key.Key_Up)
    qtbot.keyClick(view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not view.isVisible())
    assert combo.currentText() == text


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        a[n].keys() == b[n].keys() and all(np.array_equal(a[n][k], b[n][k]) for k in a[n])
        for n in a
    )


def test_every_control_writes_its_key_and_undo_redo_walk_back_exactly(
    window: MainWindow, tmp_path: Path, qtbot
) -> None:  # noqa: ANN001
    open_scene(window, "moons", tmp_path)
    p = panel(window)
    start = saved(window, tmp_path / "start.json")["training"]
    edits = [
        lambda: pick(qtbot, p.optimizer, "adam"),
        lambda: retype(qtbot, p.entries["lr"], "0.03"),
        lambda: retype(qtbot, p.entries["beta1"], "0.8"),
        lambda: retype(qtbot, p.entries["beta2"], "0.99"),
        lambda: retype(qtbot, p.entries["eps"], "1e-6"),
        lambda: retype(qtbot, p.batch, "32"),
        lambda: retype(qtbot, p.seed, "7"),
        lambda: retype(qtbot, p.entries["weight_decay"], "0.01"),
        lambda: retype(qtbot, p.entries["l1"], "0.0005"),
        lambda: retype(qtbot, p.entries["l2"], "0.001"),
        lambda: pick(qtbot, p.schedule, "step"),
        lambda: retype(qtbot, p.every, "50"),
        lambda: retype(qtbot, p.entries["factor"], "0.9"),
        lambda: retype(qtbot, p.eval_every, "5"),
        lambda: pick(qtbot, p.optimizer, "momentum"),
        lambda: retype(qtbot, p.entries["momentum"], "0.5"),
        lambda: pick(qtbot, p.schedule, "cosine"),
        lambda: retype(qtbot, p.steps, "300"),
        lambda: retype(qtbot, p.batch, "0"),  # back to full batch
    ]
    scenes = [saved(window, tmp_path / "s0.json")]
    for i, edit in enumerate(edits, 1):
        edit()
        assert window.undo.qstack.count() == i, f"edit {i} is not exactly one command"
        scenes.append(saved(window, tmp_path / f"s{i}.json"))
    full = {k: v for k, v in start.items() if k != "batch_size"}  # full batch: the key goes
    assert scenes[-1]["training"] == full | {
        "optimizer": "momentum", "lr": 0.03, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6,
        "seed": 7, "weight_decay": 0.01, "l1": 0.0005, "l2": 0.001, "eval_every": 5,
        "momentum": 0.5, "schedule": {"kind": "cosine", "steps": 300},
    }  # fmt: skip
    assert scenes[6]["training"]["batch_size"] == 32
    assert scenes[13]["training"]["schedule"] == {"kind": "step", "every": 50, "factor": 0.9}
    assert p.lr_slider.value() == 348  # log10(0.03) = -1.523: 3.477 decades above 1e-5
    for i in range(len(edits) - 1, -1, -1):
        window.registry["undo"].trigger()
        got = saved(window, tmp_path / "u.json")
        assert (got["training"], got["data"]) == (scenes[i]["training"], scenes[i]["data"])
    assert p.optimizer.currentText() == start.get("optimizer", "sgd")
    assert p.entries["lr"].text() == f"{start.get('lr', 0.1):g}"
    for i in range(1, len(edits) + 1):
        window.registry["redo"].trigger()
        assert saved(window, tmp_path / "r.json")["training"] == scenes[i]["training"]
    assert window.undo.qstack.count() == len(edits)  # undo and redo pushed nothing back
    assert p.schedule.currentText() == "cosine" and p.steps.value() == 300
    assert p.steps.isVisible() and not p.every.isVisible()
    assert p.entries["momentum"].isVisible() and not p.entries["beta1"].isVisible()


def test_learning_rate_slider_and_entry_stay_in_step(
    window: MainWindow, tmp_path: Path, qtbot
) -> None:  # noqa: ANN001
    open_scene(window, "moons", tmp_path)
    p = panel(window)
    slider = p.lr_slider
    assert slider.value() == 400  # lr 0.1: four decades above 1e-5
    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key.Key_Right)
    assert window.document.training["lr"] == 0.102  # 10^-0.99, three digits
    assert p.entries["lr"].text() == "0.102"
    # a drag is one edit, made on release
    y = slider.height() // 2
    handle = QPoint(round(slider.width() * 401 / 600), y)
    qtbot.mousePress(slider, Qt.MouseButton.LeftButton, pos=handle)
    qtbot.mouseMove(slider, QPoint(slider.width() // 4, y))
    qtbot.mouseMove(slider, QPoint(slider.width() // 5, y))
    assert window.undo.qstack.count() == 1
    qtbot.mouseRelease(slider, Qt.MouseButton.LeftButton, pos=QPoint(slider.width() // 5, y))
    assert window.undo.qstack.count() == 2
    lr = window.document.training["lr"]
    assert lr == float(f"{10 ** (slider.value() / 100 - 5):.3g}")  # where it was let go
    assert slider.value() < 200  # dragged left: below 1e-3
    assert p.entries["lr"].text() == f"{lr:g}"
    retype(qtbot, p.entries["lr"], "2e-4")
    assert window.document.training["lr"] == 2e-4
    assert slider.value() == 130  # log10(2e-4) + 5 = 1.301


def test_bad_values_are_refused_in_the_panel(window: MainWindow, tmp_path: Path, qtbot) -> None:  # noqa: ANN001
    open_scene(window, "moons", tmp_path)
    p = panel(window)
    before = window.document.training
    retype(qtbot, p.entries["l2"], "abc")
    assert p.error.text() == "l2: 'abc' is not a number"
    assert p.entries["l2"].text() == "0"
    retype(qtbot, p.entries["l2"], "-1")
    assert p.error.text() == "training.l2: -1.0 is out of range"
    retype(qtbot, p.entries["lr"], "20")
    assert p.error.text() == "Learning rate: 20 is outside 1e-05 to 10"
    assert window.document.training == before and window.undo.qstack.count() == 0
    assert window.dialogs.errors == []
    retype(qtbot, p.entries["l2"], "0.5")
    assert window.document.training["l2"] == 0.5
    assert not p.error.isVisible()


def test_a_setting_that_keeps_the_weights_keeps_them_and_run_goes_on(
    window: MainWindow, tmp_path: Path, qtbot
) -> None:  # noqa: ANN001
    open_scene(window, "moons", tmp_path)
    p = panel(window)
    for _ in range(3):
        qtbot.keyClick(window.view, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    history = len(window.training_ui.controller.history)
    assert history == 3
    before = params_of(window.training_ui.controller)
    retype(qtbot, p.entries["lr"], "0.05")
    pick(qtbot, p.optimizer, "adam")
    retype(qtbot, p.entries["l2"], "0.01")
    assert same(params_of(window.training_ui.controller), before)
    assert len(window.training_ui.controller.history) == history
    ui = window.training_ui
    window.registry["run"].trigger()
    qtbot.waitUntil(lambda: len(ui.controller.history) > history + 3, timeout=10000)
    retype(qtbot, p.entries["lr"], "0.02")
    assert ui.running
    assert ui.controller.session.config.lr == 0.02


def test_a_new_seed_pauses_run_and_starts_from_its_fresh_weights(
    window: MainWindow, tmp_path: Path, qtbot
) -> None:  # noqa: ANN001
    open_scene(window, "moons", tmp_path)
    ui = window.training_ui
    window.registry["run"].trigger()
    qtbot.waitUntil(lambda: len(ui.controller.history) > 5, timeout=10000)
    retype(qtbot, panel(window).seed, "9")
    assert not ui.running
    assert window.statusBar().currentMessage() == (
        "Training paused. Seed changed: training starts afresh"
    )
    assert len(ui.controller.history) == 0
    saved(window, tmp_path / "after.json")
    qtbot.keyClick(window.view, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)  # Forward
    fresh = load_scene(tmp_path / "after.json")
    assert fresh.training["seed"] == 9
    fresh.forward()
    assert same(params_of(window.training_ui.controller), fresh.session.executor.params)


def test_tab_walks_the_visible_controls_top_to_bottom(
    window: MainWindow, tmp_path: Path, qtbot
) -> None:  # noqa: ANN001
    open_scene(window, "moons", tmp_path)
    p = panel(window)
    pick(qtbot, p.optimizer, "adam")
    e = p.entries
    want = [p.lr_slider, e["lr"], e["beta1"], e["beta2"], e["eps"], p.batch, p.seed,
            p.eval_every, e["weight_decay"], e["l1"], e["l2"], p.schedule]  # fmt: skip
    p.optimizer.setFocus()
    walked = []
    for _ in want:
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        focus = QApplication.focusWidget()
        walked.append(
            focus.parent() if focus.parent() in (p.batch, p.seed, p.eval_every) else focus
        )
    assert walked == want
    assert all(w.toolTip() for w in [p.optimizer, *want, p.every, p.steps, e["factor"]])
