"""The window's actions in one table: each part lists the actions it offers as `ActionSpec`s
and registers them; menus and toolbars are filled from the registry by name.

A part that needs another part's action asks the registry (`actions["fit"]`), so parts never
reach into the window or into each other for their QActions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QToolBar, QWidget

Key = str | QKeySequence.StandardKey
SEPARATOR = None  # in a layout list: a separator between groups


@dataclass(frozen=True)
class ActionSpec:
    """One action: `name` is the registry key, `text` the menu label (with its & mnemonic);
    `shortcut` is one key or a tuple of keys (the first is the one shown in tooltips)."""

    name: str
    text: str
    slot: Callable[..., object]
    shortcut: Key | tuple[Key, ...] | None = None
    tip: str = ""
    checkable: bool = False
    checked: bool = False


class ActionRegistry:
    """Name -> QAction. Actions are added to `host`, so their shortcuts work anywhere in it."""

    def __init__(self, host: QWidget) -> None:
        self.host = host
        self._actions: dict[str, QAction] = {}

    def add(self, spec: ActionSpec) -> QAction:
        action = QAction(spec.text, self.host)
        if spec.shortcut is not None:
            keys = spec.shortcut if isinstance(spec.shortcut, tuple) else (spec.shortcut,)
            action.setShortcuts([QKeySequence(k) for k in keys])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if spec.tip:
            action.setStatusTip(spec.tip)
            shown = action.shortcut().toString()
            action.setToolTip(f"{spec.tip} ({shown})" if shown else spec.tip)
        if spec.checkable:
            action.setCheckable(True)
            action.setChecked(spec.checked)
        action.triggered.connect(spec.slot)
        return self.adopt(spec.name, action)

    def add_all(self, specs: Iterable[ActionSpec]) -> list[QAction]:
        return [self.add(spec) for spec in specs]

    def adopt(self, name: str, action: QAction) -> QAction:
        """Register an action made elsewhere (the undo stack's Undo and Redo)."""
        if name in self._actions:
            raise KeyError(f"action {name!r} is registered twice")
        self.host.addAction(action)
        self._actions[name] = action
        return action

    def __getitem__(self, name: str) -> QAction:
        return self._actions[name]

    def __contains__(self, name: object) -> bool:
        return name in self._actions

    def __iter__(self):  # noqa: ANN204 - the QActions, in registration order
        return iter(self._actions.values())

    def names(self) -> list[str]:
        return list(self._actions)

    def fill(self, target: QMenu | QToolBar, names: Sequence[str | None]) -> None:
        """Add the named actions to a menu or toolbar; None adds a separator."""
        for name in names:
            if name is SEPARATOR:
                target.addSeparator()
            else:
                target.addAction(self._actions[name])
