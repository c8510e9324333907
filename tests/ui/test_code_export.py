"""File › Export › code targets: the exported code carries the weights the window trained.

The export is driven through the real menus (mouse clicks on the File menu, its Export
submenu and the item), so a target missing from the menu or wired wrongly fails here.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMenu

from bpviz.export import TARGETS, numpy_target
from bpviz.ui.export_menu import and_list, menu_label
from bpviz.ui.main_window import MainWindow
from tests.ui.test_training_ui import open_scene


def _file_menu(window: MainWindow) -> QMenu:
    return next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "File")


def _click_menu_item(qtbot, menu: QMenu, action: QAction) -> None:  # noqa: ANN001
    """A left click in the middle of `action`'s row of the open `menu`."""
    rect = menu.actionGeometry(action)
    assert rect.isValid(), f"{action.text()} has no row in {menu.title()}"
    QTest.mouseMove(menu, rect.center())
    QTest.mouseClick(menu, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center())


def export_through_menu(qtbot, window: MainWindow, target: str) -> None:  # noqa: ANN001
    """Open File, then Export, then click the target's item: as a person would."""
    bar, file = window.menuBar(), _file_menu(window)
    QTest.mouseClick(
        bar,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
        bar.actionGeometry(file.menuAction()).center(),
    )
    qtbot.waitUntil(file.isVisible, timeout=2000)
    export = window.export_menu.menu
    _click_menu_item(qtbot, file, export.menuAction())
    qtbot.waitUntil(export.isVisible, timeout=2000)
    _click_menu_item(qtbot, export, window.registry[f"export_{target}"])
    qtbot.waitUntil(lambda: not file.isVisible(), timeout=2000)  # the click closed the menus


def _import(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _current_loss(window: MainWindow) -> float:
    """The loss the window shows for its current weights (a fresh forward pass)."""
    window.registry["forward"].trigger()
    out = window.document.graph.output
    return float(window.training_ui.controller.value(out))


def test_numpy_export_runs_the_trained_weights(
    window: MainWindow,
    tmp_path: Path,
    qtbot,  # noqa: ANN001
) -> None:
    open_scene(window, "xor", tmp_path)
    initial = _current_loss(window)
    for _ in range(5):
        window.registry["step"].trigger()
    trained = _current_loss(window)
    assert trained != pytest.approx(initial, abs=1e-6)  # training moved the weights
    before = window.document.to_scene_dict()

    out = tmp_path / "out" / "xor.py"
    out.parent.mkdir()
    window.dialogs.next_export_path = out
    export_through_menu(qtbot, window, "numpy")

    assert window.dialogs.errors == []
    assert window.statusBar().currentMessage() == "Exported xor.py"
    module = _import(out)
    values = module.forward()
    assert float(values[module.OUTPUT]) == pytest.approx(trained, rel=0, abs=1e-12)
    assert window.document.to_scene_dict() == before and not window.files.is_modified()


def test_export_during_run_pauses_and_exports_the_paused_weights(
    window: MainWindow,
    tmp_path: Path,
    qtbot,  # noqa: ANN001
) -> None:
    open_scene(window, "xor", tmp_path)
    ui = window.training_ui
    window.registry["run"].trigger()
    qtbot.waitUntil(lambda: len(ui.controller.history) >= 20, timeout=10000)
    out = tmp_path / "running.py"
    window.dialogs.next_export_path = out
    window.registry["export_numpy"].trigger()
    assert not ui.running
    params = ui.controller.session.executor.params
    learned = {k: a.copy() for k, a in params["hidden"].items()}
    qtbot.wait(50)  # Run stays paused: nothing changes the weights after the export
    np.testing.assert_array_equal(params["hidden"]["W"], learned["W"])
    module = _import(out)
    assert float(module.forward()[module.OUTPUT]) == pytest.approx(
        _current_loss(window), rel=0, abs=1e-12
    )


def test_a_graph_that_cannot_be_exported_shows_why_and_writes_nothing(
    window: MainWindow,
    tmp_path: Path,
    qtbot,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    open_scene(window, "xor", tmp_path)
    window.registry["step"].trigger()
    before = window.document.to_scene_dict()
    monkeypatch.delitem(numpy_target.NUMPY_OPS, "bce")  # the loss node's op
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    window.dialogs.next_export_path = out_dir / "xor.py"
    export_through_menu(qtbot, window, "numpy")

    assert len(window.dialogs.errors) == 1
    title, message = window.dialogs.errors[0]
    assert title == "Could not export"
    assert "'loss'" in message and "'bce'" in message and "Traceback" not in message
    assert list(out_dir.iterdir()) == []
    assert window.document.to_scene_dict() == before and not window.files.is_modified()
    assert "Exported" not in window.statusBar().currentMessage()


def test_cancelling_the_file_dialog_does_nothing(
    window: MainWindow,
    tmp_path: Path,
    qtbot,  # noqa: ANN001
) -> None:
    open_scene(window, "xor", tmp_path)
    before = window.document.to_scene_dict()
    window.dialogs.next_export_path = None
    export_through_menu(qtbot, window, "numpy")
    assert window.dialogs.errors == []
    assert not [p for p in tmp_path.rglob("*") if p.suffix in {".py", ".npz", ".onnx"}]
    assert window.document.to_scene_dict() == before and not window.files.is_modified()
    assert "Exported" not in window.statusBar().currentMessage()


@pytest.mark.parametrize("name", list(TARGETS))
def test_every_target_has_an_item_in_the_export_menu(window: MainWindow, name: str) -> None:
    target = TARGETS[name]
    actions = window.export_menu.menu.actions()
    act = window.registry[f"export_{name}"]
    assert act in actions
    assert any(a.isSeparator() for a in actions[: actions.index(act)])  # set apart from images
    assert act.text() == f"{menu_label(target.label)}…"
    assert act.statusTip() == target.tip and act.toolTip() == target.tip


def test_labels_and_status_names_read_well() -> None:
    assert menu_label("NumPy script") == "NumPy Script"
    assert menu_label("ONNX model") == "ONNX Model"
    assert and_list(["xor.py"]) == "xor.py"
    assert and_list(["xor.py", "xor.npz"]) == "xor.py and xor.npz"
    assert and_list(["a", "b", "c"]) == "a, b and c"
