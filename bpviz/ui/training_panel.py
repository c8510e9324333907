"""The Training panel: optimizer and its settings, learning rate, batch size, seed, weight
decay, L1/L2 penalties and the learning-rate schedule, edited without a text editor.

A view of the document's `training`: it holds no settings of its own. Every edit is one
command (SetTrainingValue) on the undo stack; the controls follow
`document.training_changed`, so undo, redo and opening a file move them without pushing
anything back. A refused value leaves the document as it was and says why in the panel.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from bpviz.engine.optim import OPTIMIZERS, TrainingConfig
from bpviz.model.document import Document
from bpviz.model.settings import SetTrainingValue
from bpviz.ui.panel_scroll import vertical_scroll
from bpviz.ui.theme import ERROR_HEX
from bpviz.ui.undo import UndoStack

LR_LOW, LR_HIGH = 1e-5, 10.0
LR_TICKS = 100  # slider positions per factor of ten
MAX_INT = 2**31 - 1
OPTIMIZER_TIPS = {
    "sgd": "Plain gradient descent: w -= lr · gradient",
    "momentum": "Gradient descent with momentum (PyTorch's rule)",
    "adam": "Adam: per-weight step sizes from running gradient moments",
}
SCHEDULES = ("none", "step", "cosine")
SCHEDULE_DEFAULTS = {
    "step": {"kind": "step", "every": 100, "factor": 0.5},
    "cosine": {"kind": "cosine", "steps": 1000},
}


def lr_to_slider(lr: float) -> int:
    lr = min(max(lr, LR_LOW), LR_HIGH)
    return round((math.log10(lr) - math.log10(LR_LOW)) * LR_TICKS)


def slider_to_lr(position: int) -> float:
    """The learning rate at a slider position, to three significant digits."""
    return float(f"{10 ** (math.log10(LR_LOW) + position / LR_TICKS):.3g}")


def show_number(value: float) -> str:
    return f"{value:g}"


class NumberEntry(QLineEdit):
    """A typed number (any notation: 0.001, 1e-3); `committed(value)` on Enter or leaving
    the field when the text is a new number, `refused(text)` when it is not a number."""

    committed = Signal(float)
    refused = Signal(str)

    def __init__(self, tip: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setToolTip(tip)
        self._shown = ""
        self.editingFinished.connect(self._finished)

    def show_value(self, value: float) -> None:
        self._shown = show_number(value)
        self.setText(self._shown)

    def _finished(self) -> None:
        text = self.text().strip()
        if text == self._shown:
            return
        try:
            value = float(text)
        except ValueError:
            self.refused.emit(text)
            return
        if not math.isfinite(value):
            self.refused.emit(text)
            return
        self.committed.emit(value)


def _spin(low: int, high: int, tip: str, special: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setKeyboardTracking(False)  # one edit per Enter / focus change, not per keystroke
    box.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToNearestValue)
    box.setToolTip(tip)
    if special:
        box.setSpecialValueText(special)
    return box


class TrainingPanel(QWidget):
    """Optimizer, learning rate, batch size, seed, decay, penalties and schedule."""

    def __init__(self, undo: UndoStack, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.undo = undo
        self.document: Document | None = None
        self._syncing = False
        self.config = TrainingConfig()

        self.optimizer = QComboBox()
        for i, name in enumerate(OPTIMIZERS):
            self.optimizer.addItem(name)
            self.optimizer.setItemData(i, OPTIMIZER_TIPS[name], Qt.ItemDataRole.ToolTipRole)
        self.optimizer.setToolTip("How the gradients move the weights")
        self.optimizer.activated.connect(lambda i: self._write("optimizer", OPTIMIZERS[i]))
        self.entries: dict[str, NumberEntry] = {}
        self.lr_slider = QSlider(Qt.Orientation.Horizontal)
        self.lr_slider.setRange(0, lr_to_slider(LR_HIGH))
        self.lr_slider.setPageStep(LR_TICKS // 2)
        self.lr_slider.setToolTip("Learning rate on a log scale, 0.00001 to 10")
        self.lr_slider.sliderMoved.connect(lambda p: self.entries["lr"].setText(
            show_number(slider_to_lr(p))))  # fmt: skip
        self.lr_slider.sliderReleased.connect(self._lr_slid)
        self.lr_slider.valueChanged.connect(self._lr_stepped)
        self.batch = _spin(0, MAX_INT, "Examples per step; 'full': the whole training set", "full")
        self.batch.valueChanged.connect(lambda v: self._write("batch_size", v or None))
        self.seed = _spin(0, MAX_INT, "Seeds the initial weights and the batch order; "
                          "changing it starts training afresh")  # fmt: skip
        self.seed.valueChanged.connect(lambda v: self._write("seed", v))
        self.eval_every = _spin(1, MAX_INT, "Measure the test-set loss every this many steps")
        self.eval_every.valueChanged.connect(lambda v: self._write("eval_every", v))
        self.schedule = QComboBox()
        self.schedule.addItems(SCHEDULES)
        self.schedule.setToolTip("none: a constant rate; step: times factor every N steps; "
                                 "cosine: down to 0 over N steps")  # fmt: skip
        self.schedule.activated.connect(self._schedule_kind)
        self.every = _spin(1, MAX_INT, "Multiply the learning rate by the factor every N steps")
        self.every.valueChanged.connect(lambda v: self._schedule_value("every", v))
        self.steps = _spin(1, MAX_INT, "Steps over which the learning rate falls to 0")
        self.steps.valueChanged.connect(lambda v: self._schedule_value("steps", v))
        self.note = QLabel(
            "Changes apply from the next step and keep the learned weights; a new seed "
            "starts training afresh."
        )
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #5f6368;")
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {ERROR_HEX};")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._lay_out()
        self._sync(None)

    def _entry(self, key: str, tip: str) -> NumberEntry:
        entry = NumberEntry(tip)
        entry.committed.connect(lambda v, k=key: self._number(k, v))
        entry.refused.connect(lambda text, k=key: self._refuse(f"{k}: {text!r} is not a number"))
        self.entries[key] = entry
        return entry

    def _schedule_entry(self) -> NumberEntry:
        entry = NumberEntry("Factor the learning rate is multiplied by, in (0, 1]")
        entry.committed.connect(lambda v: self._schedule_value("factor", v))
        entry.refused.connect(lambda text: self._refuse(f"factor: {text!r} is not a number"))
        self.entries["factor"] = entry
        return entry

    def _lay_out(self) -> None:
        optim = QGroupBox("Optimizer")
        form = QFormLayout(optim)
        form.addRow("Method", self.optimizer)
        lr_row = QHBoxLayout()
        lr_row.addWidget(self.lr_slider, 1)
        lr_entry = self._entry("lr", f"Learning rate, {show_number(LR_LOW)} to {LR_HIGH:g}")
        lr_entry.setMaximumWidth(80)
        lr_row.addWidget(lr_entry)
        form.addRow("Learning rate", lr_row)
        self.rows: dict[str, tuple[QLabel, QWidget]] = {}
        for key, label, tip in (
            ("momentum", "Momentum", "Share of the last step kept in the next, in [0, 1)"),
            ("beta1", "β₁", "Adam: decay of the gradient's running mean, in [0, 1)"),
            ("beta2", "β₂", "Adam: decay of the squared gradient's running mean, in [0, 1)"),
            ("eps", "ε", "Adam: added to the step's denominator, > 0"),
        ):
            self.rows[key] = (QLabel(label), self._entry(key, tip))
            form.addRow(*self.rows[key])
        form.addRow("Batch size", self.batch)
        form.addRow("Seed", self.seed)
        form.addRow("Test loss every", self.eval_every)
        reg = QGroupBox("Regularization")
        form = QFormLayout(reg)
        form.addRow("Weight decay", self._entry("weight_decay", "Added to every gradient "
                    "times the weight (biases too), ≥ 0; not part of the loss"))  # fmt: skip
        form.addRow("L1", self._entry("l1", "Rate of the penalty Σ|w| over the weights, ≥ 0"))
        form.addRow("L2", self._entry("l2", "Rate of the penalty ½Σw² over the weights, ≥ 0"))
        sched = QGroupBox("Learning-rate schedule")
        form = QFormLayout(sched)
        form.addRow("Kind", self.schedule)
        self.rows["every"] = (QLabel("Every N steps"), self.every)
        self.rows["factor"] = (QLabel("Factor"), self._schedule_entry())
        self.rows["steps"] = (QLabel("Over N steps"), self.steps)
        for key in ("every", "factor", "steps"):
            form.addRow(*self.rows[key])

        body = QWidget()
        layout = QVBoxLayout(body)
        for w in (self.note, self.error, optim, reg, sched):
            layout.addWidget(w)
        layout.addStretch(1)
        scroll = vertical_scroll(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        e = self.entries
        order = [self.optimizer, self.lr_slider, e["lr"], e["momentum"], e["beta1"], e["beta2"],
                 e["eps"], self.batch, self.seed, self.eval_every, e["weight_decay"], e["l1"],
                 e["l2"], self.schedule, self.every, e["factor"], self.steps]  # fmt: skip
        for a, b in itertools.pairwise(order):  # Tab walks the form top to bottom
            QWidget.setTabOrder(a, b)

    # ---- the document ---------------------------------------------------------------------
    def set_document(self, document: Document) -> None:
        if self.document is not None:
            self.document.training_changed.disconnect(self._sync)
        self.document = document
        document.training_changed.connect(self._sync)
        self._sync(document.training)

    def _sync(self, training: Mapping[str, Any] | None, problem: str | None = None) -> None:
        """Show `training` (the document's); nothing is pushed while the controls move."""
        self._syncing = True
        try:
            c = self.config = TrainingConfig.from_dict(training)
            self.optimizer.setCurrentText(c.optimizer)
            self.lr_slider.setValue(lr_to_slider(c.lr))
            for key, entry in self.entries.items():
                if key != "factor":
                    entry.show_value(getattr(c, key))
            self.batch.setValue(c.batch_size or 0)
            self.seed.setValue(c.seed)
            self.eval_every.setValue(c.eval_every)
            s = c.schedule or {}
            kind = s.get("kind", "none")
            self.schedule.setCurrentText(kind)
            self.every.setValue(s.get("every", SCHEDULE_DEFAULTS["step"]["every"]))
            self.entries["factor"].show_value(s.get("factor", SCHEDULE_DEFAULTS["step"]["factor"]))
            self.steps.setValue(s.get("steps", SCHEDULE_DEFAULTS["cosine"]["steps"]))
            shown = {"momentum": c.optimizer == "momentum", "every": kind == "step",
                     "factor": kind == "step", "steps": kind == "cosine"}  # fmt: skip
            for key in ("beta1", "beta2", "eps"):
                shown[key] = c.optimizer == "adam"
            for key, on in shown.items():
                for w in self.rows[key]:
                    w.setVisible(on)
            self.error.setText(problem or "")
            self.error.setVisible(bool(problem))
        finally:
            self._syncing = False

    # ---- edits --------------------------------------------------------------------------
    def _write(self, key: str, value: Any) -> None:
        if self._syncing or self.document is None:
            return
        current = (self.document.training or {}).get(key)
        if value == current and (value is not None or key not in (self.document.training or {})):
            return
        if not self.undo.push(SetTrainingValue(key, value)):
            self._sync(self.document.training, self.undo.last_error)
        elif self.error.isVisible():
            self._sync(self.document.training)

    def _refuse(self, message: str) -> None:
        self._sync(self.document.training if self.document else None, message)

    def _number(self, key: str, value: float) -> None:
        if key == "lr" and not LR_LOW <= value <= LR_HIGH:
            self._refuse(f"Learning rate: {value:g} is outside {LR_LOW:g} to {LR_HIGH:g}")
            return
        self._write(key, value)

    def _lr_slid(self) -> None:
        self._number("lr", slider_to_lr(self.lr_slider.value()))

    def _lr_stepped(self, position: int) -> None:
        """Keys and clicks on the slider's groove: one edit each; a drag waits for release."""
        if not self.lr_slider.isSliderDown():
            self._number("lr", slider_to_lr(position))

    def _schedule_kind(self, index: int) -> None:
        kind = SCHEDULES[index]
        current = (self.document.training or {}).get("schedule") if self.document else None
        if (current or {}).get("kind", "none") != kind:
            self._write("schedule", None if kind == "none" else dict(SCHEDULE_DEFAULTS[kind]))

    def _schedule_value(self, key: str, value: float) -> None:
        if self._syncing or self.document is None:
            return
        current = dict((self.document.training or {}).get("schedule") or {})
        if current and current.get(key) != value:
            self._write("schedule", current | {key: value})
