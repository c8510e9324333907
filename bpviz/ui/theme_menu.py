"""View › Theme: follow the desktop's colour scheme, or always light, or always dark.

The choice is remembered in the settings and applied at the next start (ui/app.py)."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu, QWidget

from bpviz.ui.theme import THEME_CHOICES, apply_theme, theme_choice

LABELS = {"system": "Follow &System", "light": "&Light", "dark": "&Dark"}
SETTINGS_KEY = "theme"


class ThemeMenu(QMenu):
    """Three exclusive choices; picking one applies it at once and saves it."""

    def __init__(self, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__("&Theme", parent)
        self.settings = settings
        self.group = QActionGroup(self)
        self.group.setExclusive(True)
        self.actions_by_choice: dict[str, QAction] = {}
        for choice in THEME_CHOICES:
            action = QAction(LABELS[choice], self, checkable=True)
            action.setData(choice)
            action.triggered.connect(lambda _=False, c=choice: self.choose(c))
            self.group.addAction(action)
            self.addAction(action)
            self.actions_by_choice[choice] = action
        self.actions_by_choice["system"].setToolTip("Light or dark as the desktop is set")
        self.aboutToShow.connect(self._sync)
        self._sync()

    def _sync(self) -> None:
        self.actions_by_choice[theme_choice()].setChecked(True)

    def choose(self, choice: str) -> None:
        apply_theme(choice)
        self.settings.setValue(SETTINGS_KEY, choice)
        self._sync()
