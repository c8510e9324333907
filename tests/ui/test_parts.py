"""The window's parts: one action registry builds menus and toolbars; no part but the app's
entry point knows the main window."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMenu, QToolBar, QWidget
from pytestqt.qtbot import QtBot

from bpviz.ui.actions import SEPARATOR, ActionRegistry, ActionSpec
from bpviz.ui.main_window import MainWindow

UI = Path(__file__).resolve().parents[2] / "bpviz" / "ui"


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, at any depth (inside TYPE_CHECKING blocks too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_only_the_app_entry_imports_the_main_window() -> None:
    importers = sorted(
        str(p.relative_to(UI))
        for p in UI.rglob("*.py")
        if "bpviz.ui.main_window" in imported_modules(p)
    )
    assert importers == ["app.py"]


def test_the_check_sees_an_import_for_type_hints(tmp_path: Path) -> None:
    module = tmp_path / "part.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from bpviz.ui.main_window import MainWindow\n"
    )
    assert "bpviz.ui.main_window" in imported_modules(module)


def import_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle of imports in `graph` (module -> modules it imports), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(graph):
        if start in state:
            continue
        state[start] = 1
        path, stack = [start], [iter(sorted(graph[start]))]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph.get(nxt, ()))))
    return None


def test_ui_modules_import_each_other_without_circles() -> None:
    modules = {
        "bpviz.ui." + ".".join(p.relative_to(UI).with_suffix("").parts): p
        for p in UI.rglob("*.py")
    }
    graph = {m: imported_modules(p) & modules.keys() - {m} for m, p in modules.items()}
    assert import_cycle(graph) is None


def test_the_circle_check_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_cycle(graph) == ["a", "b", "c", "a"]
    assert import_cycle({"a": {"b"}, "b": set()}) is None


@pytest.fixture
def host(qtbot: QtBot) -> QWidget:
    widget = QWidget()
    qtbot.addWidget(widget)
    return widget


def test_a_spec_becomes_an_action_with_its_keys_tip_and_slot(host: QWidget) -> None:
    calls: list[str] = []
    registry = ActionRegistry(host)
    act = registry.add(
        ActionSpec("go", "&Go", lambda: calls.append("go"), ("Ctrl+G", "F9"), "Go somewhere")
    )
    assert registry["go"] is act and "go" in registry and registry.names() == ["go"]
    assert act in host.actions()  # its shortcuts work anywhere in the host
    assert [k.toString() for k in act.shortcuts()] == ["Ctrl+G", "F9"]
    assert act.statusTip() == "Go somewhere" and act.toolTip() == "Go somewhere (Ctrl+G)"
    act.trigger()
    assert calls == ["go"]


def test_checkable_specs_and_standard_keys(host: QWidget) -> None:
    registry = ActionRegistry(host)
    on = registry.add(ActionSpec("on", "On", lambda: None, checkable=True, checked=True))
    save = registry.add(ActionSpec("save", "Save", lambda: None, QKeySequence.StandardKey.Save))
    assert on.isCheckable() and on.isChecked() and on.toolTip() == "On"
    assert save.shortcut() == QKeySequence(QKeySequence.StandardKey.Save)


def test_a_name_is_registered_once(host: QWidget) -> None:
    registry = ActionRegistry(host)
    registry.add(ActionSpec("go", "Go", lambda: None))
    with pytest.raises(KeyError, match="'go' is registered twice"):
        registry.add(ActionSpec("go", "Go again", lambda: None))


def test_fill_adds_actions_and_separators_in_order(host: QWidget) -> None:
    registry = ActionRegistry(host)
    registry.add_all(ActionSpec(n, n.upper(), lambda: None) for n in ("a", "b", "c"))
    menu, bar = QMenu(host), QToolBar(host)
    for target in (menu, bar):
        registry.fill(target, ("a", SEPARATOR, "b", "c"))
        assert [a.text() or "|" for a in target.actions()] == ["A", "|", "B", "C"]


def test_the_window_menus_come_from_the_registry(window: MainWindow) -> None:
    titles = {a.text(): a.menu() for a in window.menuBar().actions()}
    assert list(titles) == ["&File", "&Edit", "&View", "&Train", "&Help"]
    edit = [a for a in titles["&Edit"].actions() if not a.isSeparator()]
    names = ["undo", "redo", "cut", "copy", "paste", "duplicate", "delete", "select_all",
             "find", "set_output", "insert_layer"]  # fmt: skip
    assert edit == [window.registry[n] for n in names]
    train = [a for a in titles["&Train"].actions() if not a.isSeparator()]
    names = ["forward", "backward", "update", "step", "next_node", "run", "reset", "check",
             "animate"]  # fmt: skip
    assert train == [window.registry[n] for n in names]
    view = [a.text() for a in titles["&View"].actions() if not a.isSeparator()]
    assert view == ["&Fit to View", "Zoom &In", "Zoom &Out", "&Actual Size", "Auto &Layout",
                    "&Snap to Grid", "Nodes", "Inspector", "Loss", "Model output",
                    "Loss landscape", "Data", "Training", "&Theme"]  # fmt: skip
    assert [a.text() for a in window.training_toolbar.actions() if not a.isSeparator()][:7] == [
        "&Forward", "&Backward", "&Update", "&Step", "&Next Node", "&Run", "Rese&t"
    ]  # fmt: skip
