"""Every question the window asks a person, in one replaceable object.

Tests substitute answers here instead of clicking through modal dialogs.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from bpviz.interop.files import OPEN_FILTER

SCENE_FILTER = "bpviz scenes (*.json);;All files (*)"
CSV_FILTER = "CSV tables (*.csv);;All files (*)"


class Dialogs:
    def __init__(self, parent: QWidget) -> None:
        self.parent = parent

    def open_path(self, start: str = "") -> Path | None:
        path, _ = QFileDialog.getOpenFileName(self.parent, "Open scene", start, OPEN_FILTER)
        return Path(path) if path else None

    def csv_path(self, start: str = "") -> Path | None:
        """A CSV file to train on (the Data panel)."""
        path, _ = QFileDialog.getOpenFileName(self.parent, "Choose a CSV file", start, CSV_FILTER)
        return Path(path) if path else None

    def save_path(self, start: str = "") -> Path | None:
        path, _ = QFileDialog.getSaveFileName(self.parent, "Save scene as", start, SCENE_FILTER)
        if not path:
            return None
        p = Path(path)
        return p if p.suffix else p.with_suffix(".json")

    def export_path(self, title: str, start: str, filter_: str) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(self.parent, title, start, filter_)
        return Path(path) if path else None

    def directory(self, title: str) -> Path | None:
        path = QFileDialog.getExistingDirectory(self.parent, title)
        return Path(path) if path else None

    def ask_save_changes(self, name: str) -> str:
        """'save', 'discard' or 'cancel'."""
        box = QMessageBox(self.parent)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Unsaved changes")
        box.setText(f"Save the changes to “{name}” first?")
        box.setInformativeText("Your changes are lost if you don't save them.")
        buttons = QMessageBox.StandardButton
        box.setStandardButtons(buttons.Save | buttons.Discard | buttons.Cancel)
        box.setDefaultButton(buttons.Save)
        answer = box.exec()
        return {buttons.Save: "save", buttons.Discard: "discard"}.get(answer, "cancel")

    def ask_restore(self, saved_at: str) -> bool:
        answer = QMessageBox.question(
            self.parent,
            "Recover unsaved work?",
            f"bpviz did not close normally. A recovery copy from {saved_at} exists.\nRestore it?",
        )
        return answer == QMessageBox.StandardButton.Yes

    def error(self, title: str, message: str) -> None:
        QMessageBox.critical(self.parent, title, message)

    def info(self, title: str, message: str) -> None:
        QMessageBox.information(self.parent, title, message)
