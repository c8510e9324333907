"""The CSV part of the Data panel: which file, a preview of its first rows, the target and
feature columns, and the task (auto shows the one detected).

The form shows a `data` spec and, on every edit, offers the whole new spec (`edited`); the
panel turns it into one command. A spec the document refused (e.g. a text column picked as
a feature) stays on show as a draft with its error, so the person can fix the pick.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from bpviz.engine.datasets import TASKS, make_dataset, preview_csv
from bpviz.engine.errors import BpvizError

PREVIEW_ROWS = 5
TASK_CHOICES = ("auto", *TASKS)


def resolve(path: str, base_dir: str | os.PathLike | None) -> Path:
    """A spec's path as the data loader reads it: relative to the scene's folder."""
    p = Path(path)
    return p if p.is_absolute() or base_dir is None else Path(base_dir) / p


def spec_path(path: Path, base_dir: str | os.PathLike | None) -> str:
    """The path to write into the scene: relative when the file sits in the scene's folder
    (the scene and its data move together), else absolute."""
    if base_dir is not None:
        try:
            return path.resolve().relative_to(Path(base_dir).resolve()).as_posix()
        except ValueError:
            pass
    return path.resolve().as_posix()


def numeric_columns(columns: list[str], rows: list[list[str]]) -> list[str]:
    """Columns whose previewed values all read as numbers."""

    def number(text: str) -> bool:
        try:
            float(text)
        except ValueError:
            return False
        return True

    return [
        c for i, c in enumerate(columns) if all(i < len(r) and number(r[i].strip()) for r in rows)
    ]


def first_spec(
    path: Path, columns: list[str], rows: list[list[str]], base_dir: Any, old: Mapping | None
) -> dict[str, Any]:
    """The spec for a newly chosen file: the last numeric column as target, the other numeric
    columns as features (absent when that is every other column); seed and test share kept."""
    numeric = numeric_columns(columns, rows) or columns
    target = numeric[-1]
    features = [c for c in numeric if c != target]
    spec: dict[str, Any] = {"kind": "csv", "path": spec_path(path, base_dir), "target": target}
    if features != [c for c in columns if c != target]:
        spec["features"] = features
    for key in ("seed", "test_fraction"):
        if old and key in old:
            spec[key] = old[key]
    return spec


class CsvForm(QWidget):
    """Shows a csv `data` spec; `edited(spec)` with the whole new spec on every change,
    `choose()` when the person asks for another file."""

    edited = Signal(dict)
    choose = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec: dict[str, Any] = {}
        self.columns: list[str] = []
        self.detected: str | None = None
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.path_label = QLabel("No file")
        self.path_label.setWordWrap(True)
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.choose_button = QPushButton("Choose…")
        self.choose_button.setToolTip("Pick a CSV file with a header row")
        self.choose_button.clicked.connect(self.choose)
        row = QHBoxLayout()
        row.addWidget(self.path_label, 1)
        row.addWidget(self.choose_button)
        form.addRow("File", row)
        self.preview = QTableWidget(0, 0)
        self.preview.setToolTip(f"The first {PREVIEW_ROWS} rows of the file")
        self.preview.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview.verticalHeader().setVisible(False)
        self.preview.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.preview.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.preview.setMaximumHeight(150)
        self.preview.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        form.addRow(self.preview)
        self.target = QComboBox()
        self.target.setToolTip("The column the network learns to predict")
        self.target.activated.connect(self._target_picked)
        form.addRow("Target", self.target)
        self.features = QListWidget()
        self.features.setToolTip("The columns fed to the input node (ticked ones)")
        self.features.setMaximumHeight(110)
        self.features.itemChanged.connect(self._features_picked)
        form.addRow("Features", self.features)
        self.task = QComboBox()
        self.task.addItems(TASK_CHOICES)
        self.task.setToolTip("auto: two whole-number values → binary, up to ten → multiclass, "
                             "anything else → regression")  # fmt: skip
        self.task.activated.connect(self._task_picked)
        self.detected_label = QLabel()
        self.detected_label.setToolTip("The task the data is read as")
        row = QHBoxLayout()
        row.addWidget(self.task, 1)
        row.addWidget(self.detected_label)
        form.addRow("Task", row)

    # ---- showing ----------------------------------------------------------------------
    def show_spec(self, spec: Mapping[str, Any], base_dir: Any) -> str | None:
        """Show `spec` (preview, pickers, detected task); the problem reading it, or None."""
        self.spec = dict(spec)
        path = self.spec.get("path")
        self.path_label.setText(str(path) if path else "No file")
        self.path_label.setToolTip(str(resolve(path, base_dir)) if path else "")
        problem = None
        columns: list[str] = []
        rows: list[list[str]] = []
        if path:
            try:
                columns, rows = preview_csv(resolve(str(path), base_dir), PREVIEW_ROWS)
            except BpvizError as e:
                problem = str(e)
        self.columns = columns
        self._fill(columns, rows)
        self.detected = None
        if path and problem is None:
            try:
                self.detected = make_dataset({**self.spec, "task": "auto"}, base_dir).task
            except BpvizError as e:
                problem = str(e)
        self.detected_label.setText(f"detected: {self.detected}" if self.detected else "")
        return problem

    def _fill(self, columns: list[str], rows: list[list[str]]) -> None:
        target = self.spec.get("target")
        chosen = self.spec.get("features")
        self.preview.setColumnCount(len(columns))
        self.preview.setRowCount(len(rows))
        self.preview.setHorizontalHeaderLabels(columns)
        for r, row in enumerate(rows):
            for c, text in enumerate(row[: len(columns)]):
                self.preview.setItem(r, c, QTableWidgetItem(text))
        self.target.blockSignals(True)
        self.target.clear()
        self.target.addItems(columns)
        self.target.setCurrentIndex(columns.index(target) if target in columns else -1)
        self.target.blockSignals(False)
        self.features.blockSignals(True)
        row = self.features.currentRow()
        self.features.clear()
        for c in columns:
            if c == target:
                continue
            item = QListWidgetItem(c)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            ticked = chosen is None or c in chosen
            item.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)
            self.features.addItem(item)
        self.features.setCurrentRow(min(row, self.features.count() - 1))
        self.features.blockSignals(False)
        self.task.setCurrentText(self.spec.get("task", "auto"))

    # ---- editing ----------------------------------------------------------------------
    def ticked_features(self) -> list[str]:
        items = (self.features.item(i) for i in range(self.features.count()))
        return [it.text() for it in items if it.checkState() == Qt.CheckState.Checked]

    def _offer(self, **changes: Any) -> None:
        spec = dict(self.spec)
        for key, value in changes.items():
            if value is None:
                spec.pop(key, None)
            else:
                spec[key] = value
        if spec != self.spec:
            self.edited.emit(spec)

    def _features_value(self, features: list[str], target: str) -> list[str] | None:
        """None (the key left out) when every other column is a feature."""
        return None if features == [c for c in self.columns if c != target] else features

    def _target_picked(self, index: int) -> None:
        target = self.columns[index]
        old = self.spec.get("features")
        features = [c for c in self.columns if c != target and (old is None or c in old)]
        self._offer(target=target, features=self._features_value(features, target))

    def _features_picked(self, _item: QListWidgetItem) -> None:
        target = self.spec.get("target", "")
        self._offer(features=self._features_value(self.ticked_features(), target))

    def _task_picked(self, index: int) -> None:
        task = TASK_CHOICES[index]
        self._offer(task=None if task == "auto" else task)
