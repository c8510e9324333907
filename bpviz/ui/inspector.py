"""The inspector: the selected node's op, id, formula, attributes (editable) and shapes.

Each attribute gets an editor chosen by its `AttrSpec.kind`. A finished edit is parsed and
checked with the engine's `attr_problem` before anything is pushed, so a bad value only marks
the field (red border and the reason under it) and never reaches the document. Good edits go
through the undo stack as `SetAttr`; the inspector then follows the document's signals, so
undo and redo show up here too.

The Formula section shows the op's forward formula and local derivative from the registry,
with the numbers filled in once the window passes the current values (`set_numbers`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import shiboken6
from PySide6.QtCore import QRegularExpression, Qt, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from bpviz.engine.attrs import attr_problem
from bpviz.engine.formulas import explain
from bpviz.engine.ops import AttrSpec
from bpviz.model.commands import SetAttr
from bpviz.model.document import Document
from bpviz.ui.theme import (
    ERROR_HEX,
    FONT_SMALL,
    FONT_TITLE,
    op_icon,
    ui_font,
)
from bpviz.ui.undo import UndoStack

UNKNOWN = "—"
JSON_KINDS = ("tensor", "shape", "axis", "init")
INT_RANGE = (-(2**31) + 1, 2**31 - 1)
_FLOAT_CHARS = QRegularExpression(r"[\s0-9eE.+\-]*")
_BARE_KEY = re.compile(r"([{,]\s*)([A-Za-z_]\w*)\s*:")
_ERROR_BORDER = f"border: 1px solid {ERROR_HEX}; border-radius: 3px; padding: 2px;"


def format_shape(shape: tuple[int, ...] | None) -> str:
    if shape is None:
        return UNKNOWN
    if len(shape) == 0:
        return "scalar"
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _same(a: Any, b: Any) -> bool:
    """Equal as attr values (True is not 1 here)."""
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def format_value(spec: AttrSpec, value: Any) -> str:
    """How a stored value reads in its editor's text ('' for not set)."""
    if value is None:
        return ""
    if spec.kind == "text":
        return str(value)
    if spec.kind == "init" and isinstance(value, str):
        return value
    if spec.kind == "float" and isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value)


def parse_value(spec: AttrSpec, text: str) -> tuple[bool, Any]:
    """(True, value) or (False, reason) for an editor's text; '' means None (the default).

    JSON kinds also accept a bare init name (`he`) and bare object keys (`{uniform: 0.5}`).
    """
    text = text.strip()
    if not text:
        return True, None
    if spec.kind == "text":
        return True, text
    if spec.kind == "float":
        try:
            return True, float(text)
        except ValueError:
            return False, f"expected a number, got {text!r}"
    try:
        return True, json.loads(text)
    except json.JSONDecodeError as e:
        error = e
    if spec.kind == "init" and text.isidentifier():
        return True, text
    quoted = _BARE_KEY.sub(r'\1"\2":', text)
    if quoted != text:
        try:
            return True, json.loads(quoted)
        except json.JSONDecodeError:
            pass
    return False, f"cannot read {text!r}: {error.msg} at column {error.colno}"


class AttrField(QWidget):
    """One attribute's editor with its error line. `committed(name, value)` on a finished edit
    (value None = use the default); the inspector decides whether it is pushed."""

    committed = Signal(str, object)

    def __init__(self, name: str, spec: AttrSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.spec = spec
        self._problem: str | None = None
        self._shown_text = ""
        default = format_value(spec, spec.default) if spec.default is not None else ""
        self.tip = spec.doc + (f"\ndefault: {default}" if default else "")
        self.editor = self._make_editor()
        self.editor.setToolTip(self.tip)
        self.error = QLabel(self)
        self.error.setWordWrap(True)
        self.error.setFont(ui_font(FONT_SMALL))
        self.error.setProperty("role", "error")
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.editor)
        layout.addWidget(self.error)

    def _make_editor(self) -> QWidget:
        spec = self.spec
        if spec.kind == "int" and spec.default is not None:
            spin = QSpinBox(self)
            low = int(spec.minimum) if spec.minimum is not None else INT_RANGE[0]
            spin.setRange(low, INT_RANGE[1])
            spin.setKeyboardTracking(False)  # valueChanged on Enter / focus out, not per key
            spin.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # no wheel edits while scrolling
            spin.valueChanged.connect(lambda v: self.committed.emit(self.name, int(v)))
            return spin
        if spec.kind == "bool":
            box = QCheckBox(self)
            box.clicked.connect(lambda checked: self.committed.emit(self.name, bool(checked)))
            return box
        if spec.kind == "choice":
            combo = QComboBox(self)
            if spec.default is None:
                combo.addItem("(default)", None)
            for choice in spec.choices:
                combo.addItem(choice, choice)
            combo.activated.connect(
                lambda index: self.committed.emit(self.name, combo.itemData(index))
            )
            return combo
        edit = QLineEdit(self)
        if spec.kind == "float":
            edit.setValidator(QRegularExpressionValidator(_FLOAT_CHARS, edit))
        if spec.default is not None:
            edit.setPlaceholderText(f"default: {format_value(spec, spec.default)}")
        else:
            edit.setPlaceholderText("(not set)" if spec.optional else "required")
        edit.editingFinished.connect(self._line_finished)
        return edit

    # ---- state ---------------------------------------------------------------------------
    @property
    def problem(self) -> str | None:
        return self._problem

    def is_dirty(self) -> bool:
        """The person typed something not yet committed (or refused)."""
        return isinstance(self.editor, QLineEdit) and self.editor.text() != self._shown_text

    def set_value(self, stored: Any) -> None:
        """Show the document's value (None: not set, so the default applies); clears errors."""
        self.set_problem(None)
        shown = self.spec.default if stored is None else stored
        editor = self.editor
        editor.blockSignals(True)
        try:
            if isinstance(editor, QSpinBox):
                editor.setValue(int(shown) if isinstance(shown, (int, float)) else 0)
            elif isinstance(editor, QCheckBox):
                editor.setChecked(bool(shown))
            elif isinstance(editor, QComboBox):
                editor.setCurrentIndex(max(0, editor.findData(shown)))
            elif isinstance(editor, QLineEdit):
                self._shown_text = format_value(self.spec, stored)
                if editor.text() != self._shown_text:
                    editor.setText(self._shown_text)
                    editor.setCursorPosition(0)
        finally:
            editor.blockSignals(False)

    def set_problem(self, problem: str | None) -> None:
        """Mark the field invalid with the reason, or clear the mark."""
        self._problem = problem
        self.error.setText(problem or "")
        self.error.setVisible(bool(problem))
        self.editor.setStyleSheet(_ERROR_BORDER if problem else "")
        self.editor.setToolTip(f"{problem}\n\n{self.tip}" if problem else self.tip)

    def _line_finished(self) -> None:
        assert isinstance(self.editor, QLineEdit)
        text = self.editor.text()
        if text == self._shown_text:
            self.set_problem(None)
            return
        ok, result = parse_value(self.spec, text)
        if not ok:
            self.set_problem(result)
            return
        self.committed.emit(self.name, result)


class InspectorWidget(QWidget):
    """Shows one node. `set_document(doc, undo_stack)`, then `show_node(id | None)`;
    `set_shapes(...)` fills the read-only shapes from the engine."""


    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._doc: Document | None = None
        self._undo: UndoStack | None = None
        self._node_id: str | None = None
        self._op: str | None = None
        self.fields: dict[str, AttrField] = {}
        self._shape_labels: dict[str, QLabel] = {}
        self._disconnect: Callable[[], None] = lambda: None
        self._numbers: tuple[
            Mapping[str, np.ndarray] | None, np.ndarray | None, Mapping[str, np.ndarray] | None
        ] = (None, None, None)

        self.empty = QLabel("Select a node to see and edit its attributes.", self)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setProperty("role", "muted")

        self.icon = QLabel()
        self.icon.setFixedSize(32, 32)
        self.title = QLabel()
        self.title.setFont(ui_font(FONT_TITLE, bold=True))
        self.category = QLabel()
        self.category.setFont(ui_font(FONT_SMALL))
        self.category.setProperty("role", "muted")
        self.doc_label = QLabel()
        self.doc_label.setWordWrap(True)
        self.formula_box = QGroupBox("Formula")
        self.formula = QLabel(self.formula_box)
        self.formula.setWordWrap(True)
        self.formula.setFont(ui_font(FONT_SMALL))
        self.formula.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        QVBoxLayout(self.formula_box).addWidget(self.formula)
        self.id_label = QLabel()
        self.id_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        header = QHBoxLayout()
        header.setSpacing(8)
        header.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        names = QVBoxLayout()
        names.setSpacing(0)
        names.addWidget(self.title)
        names.addWidget(self.category)
        header.addLayout(names, 1)

        id_form = QFormLayout()
        id_form.addRow("id", self.id_label)

        self.attrs_box = QGroupBox("Attributes")
        self.attrs_form = QFormLayout(self.attrs_box)
        self._setup_form(self.attrs_form)
        self.shapes_box = QGroupBox("Shapes")
        self.shapes_form = QFormLayout(self.shapes_box)
        self._setup_form(self.shapes_form)

        page = QWidget()
        column = QVBoxLayout(page)
        column.setContentsMargins(8, 8, 8, 8)
        column.setSpacing(6)
        column.addLayout(header)
        column.addWidget(self.doc_label)
        column.addLayout(id_form)
        column.addWidget(self.formula_box)
        column.addWidget(self.attrs_box)
        column.addWidget(self.shapes_box)
        column.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.setWidget(page)

        self.pages = QStackedWidget(self)
        self.pages.addWidget(self.empty)
        self.pages.addWidget(self.scroll)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)

    @staticmethod
    def _setup_form(form: QFormLayout) -> None:
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

    # ---- public API ----------------------------------------------------------------------
    @property
    def node_id(self) -> str | None:
        return self._node_id

    def set_document(self, document: Document | None, undo_stack: UndoStack | None) -> None:
        """Follow `document`; edits go through `undo_stack` (None: read-only)."""
        self._disconnect()
        self._doc, self._undo = document, undo_stack
        self._node_id = self._op = None
        if document is not None:
            document.attr_changed.connect(self._on_attr_changed)
            document.node_removed.connect(self._on_node_removed)
            document.output_changed.connect(self._on_output_changed)

            def disconnect() -> None:
                document.attr_changed.disconnect(self._on_attr_changed)
                document.node_removed.disconnect(self._on_node_removed)
                document.output_changed.disconnect(self._on_output_changed)

            self._disconnect = disconnect
        else:
            self._disconnect = lambda: None
        self.show_node(None)

    def show_node(self, node_id: str | None) -> None:
        """Show `node_id` (None or an unknown id: the empty page). Showing the node already
        shown only refreshes values, keeping the person's focus and unfinished typing."""
        doc = self._doc
        if node_id is None or doc is None or node_id not in doc:
            self._node_id = self._op = None
            self._clear_rows()
            self.pages.setCurrentWidget(self.empty)
            return
        node = doc.node(node_id)
        if node_id == self._node_id and node.op == self._op:
            self._refresh(force=False)
            return
        self._node_id, self._op = node_id, node.op
        self._build(node_id)
        self.pages.setCurrentWidget(self.scroll)

    def set_shapes(
        self,
        input_shapes: Mapping[str, tuple[int, ...] | None] | None,
        output_shape: tuple[int, ...] | None,
    ) -> None:
        """Input shapes by port and the output shape, as the engine inferred them (None or a
        missing port: unknown, shown as '—')."""
        inputs = input_shapes or {}
        for port, label in self._shape_labels.items():
            shape = output_shape if port == _OUTPUT else inputs.get(port)
            label.setText(format_shape(tuple(shape) if shape is not None else None))

    def set_numbers(
        self,
        inputs: Mapping[str, Any] | None,
        output: Any | None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        """The shown node's current input values by port, its output value and (for ops that
        own parameters) its parameters, to fill the formula's numbers in. None or a missing
        port: unknown, the formula is shown without numbers. Showing another node forgets
        them."""
        self._numbers = (
            None if inputs is None else {p: np.asarray(v) for p, v in inputs.items()},
            None if output is None else np.asarray(output),
            None if params is None else {k: np.asarray(v) for k, v in params.items()},
        )
        self._show_formula()

    def formula_text(self) -> str:
        """What the Formula section shows (plain text)."""
        return self.formula.text() if self.formula_box.isVisibleTo(self) else ""

    # ---- building ------------------------------------------------------------------------
    def _clear_rows(self) -> None:
        for form in (self.attrs_form, self.shapes_form):
            while form.rowCount():
                form.removeRow(0)
        self.fields.clear()
        self._shape_labels.clear()

    def _build(self, node_id: str) -> None:
        assert self._doc is not None
        self._clear_rows()
        node = self._doc.node(node_id)
        spec = node.spec
        self.icon.setPixmap(op_icon(spec.name).pixmap(32, 32))
        self.title.setText(spec.title)
        self.category.setText(f"{spec.category} · op '{spec.name}'")
        self.doc_label.setText(spec.doc)
        self._numbers = (None, None, None)
        self._show_formula()

        for name, attr in spec.attrs.items():
            field = AttrField(name, attr)
            field.setEnabled(self._undo is not None)
            field.committed.connect(self._commit)
            label = QLabel(name)
            label.setToolTip(field.tip)
            self.attrs_form.addRow(label, field)
            self.fields[name] = field
        if not spec.attrs:
            self.attrs_form.addRow(_muted_label("This op has no attributes."))

        for port in spec.inputs:
            self._add_shape_row(port, f"in {port}")
        self._add_shape_row(_OUTPUT, "out")
        self._refresh(force=True)

    def _add_shape_row(self, key: str, caption: str) -> None:
        value = QLabel(UNKNOWN)
        value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label = QLabel(caption)
        self.shapes_form.addRow(label, value)
        self._shape_labels[key] = value

    def _refresh(self, force: bool) -> None:
        """Copy the document's values into the widgets; unless `force`, leave fields the
        person is typing in or that show a problem alone."""
        assert self._doc is not None and self._node_id is not None
        node = self._doc.node(self._node_id)
        output = " (output)" if self._doc.output == node.id else ""
        self.id_label.setText(node.id + output)
        for name, field in self.fields.items():
            if force or not (field.is_dirty() or field.problem):
                field.set_value(node.attrs.get(name))
        form = self.shapes_form
        for row, port in enumerate(node.spec.inputs):
            label = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            src = node.inputs.get(port)
            if label is not None and label.widget() is not None:
                label.widget().setText(f"in {port} ← {src}" if src else f"in {port} (open)")

    def _show_formula(self) -> None:
        doc, node_id = self._doc, self._node_id
        if doc is None or node_id is None or node_id not in doc:
            return
        node = doc.node(node_id)
        inputs, output, params = self._numbers
        try:
            text = explain(node.spec, node.attrs, inputs, output, params).text
        except Exception:  # noqa: BLE001 - a formula must never break the inspector
            spec = node.spec
            text = "\n".join(s for s in (spec.formula, spec.derivative) if s)
        if not text and node.spec.derivative:
            text = node.spec.derivative
        self.formula.setText(text)
        self.formula_box.setVisible(bool(text))

    # ---- edits and document signals ------------------------------------------------------
    def _commit(self, name: str, value: Any) -> None:
        doc, undo, node_id = self._doc, self._undo, self._node_id
        field = self.fields.get(name)
        if doc is None or undo is None or node_id not in doc or field is None:
            return
        assert node_id is not None
        node = doc.node(node_id)
        spec = node.spec.attrs[name]
        stored = node.attrs.get(name)
        effective = spec.default if stored is None else stored
        if (value is None and stored is None) or (value is not None and _same(value, effective)):
            field.set_value(stored)  # nothing changes: just tidy the text
            return
        problem = attr_problem(spec, spec.default if value is None else value)
        if problem:
            field.set_problem(problem)
            return
        if not undo.push(SetAttr(node_id, name, value)):
            field.set_problem(undo.last_error or "the document refused this value")
            return
        if self._node_id == node_id and name in self.fields:
            self.fields[name].set_value(doc.node(node_id).attrs.get(name))

    # Document signals are plain callbacks (psygnal): one arriving after Qt deleted this
    # widget must be ignored, or its error would surface inside the document's mutator.
    def _on_attr_changed(self, node_id: str, name: str, value: Any) -> None:
        if not shiboken6.isValid(self):
            return
        if node_id == self._node_id and name in self.fields and self._doc is not None:
            self.fields[name].set_value(self._doc.node(node_id).attrs.get(name))
            self._numbers = (None, None, None)  # computed with the old value: stale now
            self._show_formula()

    def _on_node_removed(self, node_id: str) -> None:
        if shiboken6.isValid(self) and node_id == self._node_id:
            self.show_node(None)

    def _on_output_changed(self, output: str | None) -> None:
        if shiboken6.isValid(self) and self._node_id is not None:
            self._refresh(force=False)


_OUTPUT = "\0output"  # the shapes row key for the node's own value (never a port name)


def _muted_label(text: str) -> QLabel:
    label = QLabel(text)
    label.setProperty("role", "muted")
    return label
