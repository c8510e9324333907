"""The Data panel: which data the scene trains on, edited without a text editor.

A view of the document's `data`: it holds no settings of its own. Every edit is one command
on the undo stack (SetData / SetDataValue); the controls follow `document.data_changed`, so
undo, redo and opening a file update them without pushing anything back. A refused edit
leaves the document as it was and says why in the panel.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from bpviz.engine.data_options import (
    GENERATED_KINDS,
    SEED,
    TEST_FRACTION,
    TWO_D_KINDS,
    USUAL_TRANSFORMS,
    NumberSetting,
    number_settings,
)
from bpviz.engine.datasets import preview_csv
from bpviz.engine.errors import BpvizError
from bpviz.model.document import Document
from bpviz.model.settings import SetData, SetDataValue
from bpviz.ui.csv_form import CsvForm, first_spec
from bpviz.ui.data_thumbnails import KindStrip
from bpviz.ui.panel_scroll import vertical_scroll
from bpviz.ui.theme import ERROR_HEX
from bpviz.ui.undo import UndoStack

DECIMALS = 3
SPIN_CAP = 1000.0  # an unbounded number (noise) still needs a spin box maximum
STEPS = {"noise": 0.05, "test_fraction": 0.05, "factor": 0.05}


def raw_features(data: Mapping[str, Any] | None, csv_columns: int = 0) -> int:
    """How many raw features x1…xF the data has (0: unknown)."""
    if not data:
        return 0
    kind = data.get("kind")
    if kind in TWO_D_KINDS:
        return 2
    if kind == "linear":
        return int(data.get("features", 1))
    if kind == "sine":
        return 1
    if kind == "csv":
        return len(data["features"]) if data.get("features") else max(csv_columns - 1, 0)
    return 0


def switched_kind(old: Mapping[str, Any] | None, kind: str) -> dict[str, Any]:
    """The data after choosing another generated kind: n, seed and test share stay; noise
    and the old kind's own keys go (each kind has its own default noise); transforms stay
    when the new kind has as many raw features."""
    old = old or {}
    data: dict[str, Any] = {"kind": kind}
    for key in ("n", "seed", "test_fraction"):
        if key in old and not (key == "n" and old.get("kind") == "csv"):
            data[key] = old[key]
    if "transforms" in old and raw_features(old) == raw_features(data):
        data["transforms"] = old["transforms"]
    return data


def _spin(setting: NumberSetting) -> QSpinBox | QDoubleSpinBox:
    """A spin box with the setting's range; it reports a value only when an edit is done."""
    if setting.integer:
        box: QSpinBox | QDoubleSpinBox = QSpinBox()
        box.setRange(int(setting.low), int(min(setting.high, 2**31 - 1)))
    else:
        box = QDoubleSpinBox()
        box.setDecimals(DECIMALS)
        tick = 10**-DECIMALS
        low = setting.low + (tick if setting.low_open else 0.0)
        high = min(setting.high, SPIN_CAP) - (tick if setting.high_open else 0.0)
        box.setRange(low, high)
        box.setSingleStep(STEPS.get(setting.key, 0.1))
    box.setKeyboardTracking(False)  # one edit per Enter / focus change, not per keystroke
    box.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToNearestValue)
    high = "∞" if setting.high == float("inf") else f"{setting.high:g}"
    box.setToolTip(f"{setting.label}: {setting.doc} ({setting.low:g} to {high})")
    return box


class DataPanel(QWidget):
    """Dataset kind (with pictures), its numbers, a CSV file, and the feature transforms."""

    def __init__(
        self,
        undo: UndoStack,
        choose_csv: Callable[[str], Path | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.undo = undo
        self.choose_csv = choose_csv
        self.document: Document | None = None
        self.base_dir: str | None = None
        self._syncing = False
        self.spins: dict[str, QSpinBox | QDoubleSpinBox] = {}
        self._settings: dict[str, NumberSetting] = {}
        self._form_kind: str | None = None

        self.strip = KindStrip()
        self.strip.chosen.connect(self._kind_chosen)
        self.none_label = QLabel("No data yet: pick a dataset above.")
        self.none_label.setWordWrap(True)
        self.numbers_box = QGroupBox("Points")
        self.numbers = QFormLayout(self.numbers_box)
        self.csv_box = QGroupBox("CSV file")
        self.csv = CsvForm()
        self.csv.edited.connect(self._csv_edited)
        self.csv.choose.connect(self._choose_file)
        QVBoxLayout(self.csv_box).addWidget(self.csv)
        self.features_box = QGroupBox("Input features")
        self._build_transforms()
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {ERROR_HEX};")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        body = QWidget()
        layout = QVBoxLayout(body)
        for w in (self.strip, self.none_label, self.error, self.numbers_box, self.csv_box,
                  self.features_box):  # fmt: skip
            layout.addWidget(w)
        layout.addStretch(1)
        scroll = vertical_scroll(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self._sync(None)

    def _build_transforms(self) -> None:
        grid = QGridLayout(self.features_box)
        self.checks: dict[str, QCheckBox] = {}
        for i, (expr, label) in enumerate(USUAL_TRANSFORMS):
            box = QCheckBox(label)
            box.setToolTip(f"Feed {expr} to the input node")
            box.toggled.connect(lambda on, e=expr: self._transform_ticked(e, on))
            self.checks[expr] = box
            grid.addWidget(box, i // 4, i % 4)
        self.transforms_edit = QLineEdit()
        self.transforms_edit.setToolTip(
            "The input node's features, separated by commas: xi, xi^2, xi*xj, sin(xi), cos(xi). "
            "Empty: the raw features."
        )
        self.transforms_edit.editingFinished.connect(self._transforms_typed)
        grid.addWidget(QLabel("As list"), 2, 0)
        grid.addWidget(self.transforms_edit, 2, 1, 1, 3)

    # ---- the document ---------------------------------------------------------------------
    def set_document(self, document: Document, base_dir: Path | None) -> None:
        if self.document is not None:
            self.document.data_changed.disconnect(self._sync)
        self.document = document
        self.base_dir = str(base_dir) if base_dir is not None else None
        document.data_changed.connect(self._sync)
        self._sync(document.data)

    def _base(self) -> str | None:
        return getattr(self.document, "base_dir", None) or self.base_dir

    def _sync(self, data: Mapping[str, Any] | None, problem: str | None = None) -> None:
        """Show `data` (the document's); nothing is pushed while the controls move."""
        self._syncing = True
        try:
            kind = (data or {}).get("kind")
            self.strip.show_data(data)
            self.none_label.setVisible(kind is None)
            self.numbers_box.setVisible(kind is not None)
            self.csv_box.setVisible(kind == "csv")
            self._show_numbers(kind, data or {})
            if kind == "csv":
                problem = self.csv.show_spec(data, self._base()) or problem
            self._show_transforms(data)
            self.error.setText(problem or "")
            self.error.setVisible(bool(problem))
        finally:
            self._syncing = False

    def _show_numbers(self, kind: str | None, data: Mapping[str, Any]) -> None:
        if kind != self._form_kind:
            self._rebuild_numbers(kind, data)
        for key, box in self.spins.items():
            s = self._settings[key]
            default = 0.0 if (kind, key, data.get("n")) == ("xor", "noise", 4) else s.default
            box.setValue(data.get(key, default))
        if "classes" in self.spins:
            self.spins["classes"].setMaximum(int(data.get("n", 200)))

    def _rebuild_numbers(self, kind: str | None, data: Mapping[str, Any]) -> None:
        while self.numbers.rowCount():
            self.numbers.removeRow(0)
        self.spins, self._settings = {}, {}
        if kind in GENERATED_KINDS:
            settings = number_settings(kind, int(data.get("n", 200)))
        else:
            settings = [TEST_FRACTION, SEED] if kind == "csv" else []
        for s in settings:
            box = _spin(s)
            box.valueChanged.connect(lambda v, key=s.key: self._number_edited(key, v))
            self.spins[s.key], self._settings[s.key] = box, s
            self.numbers.addRow(s.label, box)
        self._form_kind = kind
        c = self.csv
        order = [*self.strip.buttons.values(), *self.spins.values(), c.choose_button, c.target,
                 c.features, c.task, *self.checks.values(), self.transforms_edit]  # fmt: skip
        for a, b in itertools.pairwise(order):  # Tab walks the panel top to bottom
            QWidget.setTabOrder(a, b)

    def _show_transforms(self, data: Mapping[str, Any] | None) -> None:
        f = raw_features(data, len(self.csv.columns))
        self.features_box.setVisible(f > 0)
        current = self.transforms(data)
        for expr, box in self.checks.items():
            box.setVisible(f == 2)
            box.setChecked(expr in current)
        listed = (data or {}).get("transforms")
        self.transforms_edit.setText(", ".join(listed) if listed else "")
        raw = ", ".join(f"x{i + 1}" for i in range(min(f, 4))) + (", …" if f > 4 else "")
        self.transforms_edit.setPlaceholderText(f"raw features: {raw}")

    def raw(self, data: Mapping[str, Any] | None) -> list[str]:
        """The raw features x1…xF of `data`."""
        return [f"x{i + 1}" for i in range(raw_features(data, len(self.csv.columns)))]

    def transforms(self, data: Mapping[str, Any] | None) -> list[str]:
        """The features the input node gets, as expressions (absent: the raw ones)."""
        listed = (data or {}).get("transforms")
        return list(listed) if listed else self.raw(data)

    # ---- edits --------------------------------------------------------------------------
    def _push(self, command: SetData) -> bool:
        if self.undo.push(command):
            return True
        self._sync(self.document.data if self.document else None, self.undo.last_error)
        return False

    def _kind_chosen(self, kind: str) -> None:
        data = self.document.data if self.document else None
        if kind == "csv":
            self._choose_file()
        elif (data or {}).get("kind") != kind:
            self._push(SetData(switched_kind(data, kind), text=f"Use {kind} data"))

    def _number_edited(self, key: str, value: float) -> None:
        if self._syncing or self.document is None:
            return
        s = self._settings[key]
        value = int(value) if s.integer else round(float(value), DECIMALS)
        if (self.document.data or {}).get(key) != value:
            self._push(SetDataValue(key, value))

    def _transform_ticked(self, expr: str, on: bool) -> None:
        if self._syncing or self.document is None:
            return
        data = self.document.data
        current = self.transforms(data)
        new = [*current, expr] if on else [e for e in current if e != expr]
        if not new:
            self._sync(data, "Keep at least one input feature ticked.")
            return
        self._write_transforms(new)

    def _transforms_typed(self) -> None:
        if self._syncing or self.document is None:
            return
        text = self.transforms_edit.text()
        new = [t.strip() for t in text.split(",") if t.strip()]
        listed = (self.document.data or {}).get("transforms")
        if new != (list(listed) if listed else []) and new != self.transforms(self.document.data):
            self._write_transforms(new)

    def _write_transforms(self, new: list[str]) -> None:
        raw = self.raw(self.document.data)
        self._push(SetDataValue("transforms", None if not new or new == raw else new))

    def _choose_file(self) -> None:
        if self.document is None:
            return
        path = self.choose_csv(self._base() or "")
        if path is None:
            return
        try:
            columns, rows = preview_csv(path)
        except BpvizError as e:
            self._sync(self.document.data, str(e))
            return
        self._csv_edited(first_spec(path, columns, rows, self._base(), self.document.data))

    def _csv_edited(self, spec: dict[str, Any]) -> None:
        if self._syncing or self.document is None:
            return
        if spec == self.document.data:  # a draft mended back to what the document has
            self._sync(spec)
        elif not self.undo.push(SetData(spec, text="Change CSV data")):
            # keep the refused pick on show, so the person can mend it
            self._syncing = True
            try:
                self._draft(spec, self.undo.last_error)
            finally:
                self._syncing = False

    def _draft(self, spec: dict[str, Any], problem: str | None) -> None:
        self.csv_box.setVisible(True)
        self.numbers_box.setVisible(False)
        self.features_box.setVisible(False)
        self.none_label.setVisible(False)
        self.csv.show_spec(spec, self._base())
        self.error.setText(problem or "")
        self.error.setVisible(bool(problem))
