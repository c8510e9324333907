"""The inspector: editors per attr kind, validation before pushing, undo shown, shapes."""

from __future__ import annotations

from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QSpinBox
from pytestqt.qtbot import QtBot

from bpviz.engine.ops import AttrSpec
from bpviz.model.commands import RemoveNodes
from bpviz.model.document import Document
from bpviz.ui.inspector import AttrField, InspectorWidget, format_shape, parse_value
from bpviz.ui.undo import UndoStack
from tests.ui.conftest import attr_editor as _editor
from tests.ui.conftest import colours_in, grab_to
from tests.ui.conftest import retype as _retype


@pytest.fixture
def stack(document: Document) -> UndoStack:
    return UndoStack(document)


@pytest.fixture
def inspector(qtbot: QtBot, document: Document, stack: UndoStack) -> InspectorWidget:
    widget = InspectorWidget()
    qtbot.addWidget(widget)
    widget.set_document(document, stack)
    widget.resize(300, 520)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_shows_the_node(inspector: InspectorWidget) -> None:
    assert inspector.pages.currentWidget() is inspector.empty
    inspector.show_node("d1")
    assert inspector.pages.currentWidget() is inspector.scroll
    assert inspector.title.text() == "dense"
    assert inspector.id_label.text() == "d1"
    assert "fully-connected" in inspector.doc_label.text()
    assert list(inspector.fields) == ["units", "activation", "init"]
    units, activation, init = (_editor(inspector, n) for n in inspector.fields)
    assert isinstance(units, QSpinBox) and units.value() == 4 and units.minimum() == 1
    assert isinstance(activation, QComboBox) and activation.currentText() == "relu"
    assert isinstance(init, QLineEdit) and init.text() == "" and init.placeholderText()
    assert units.toolTip() == "number of outputs\ndefault: 1"
    inspector.show_node("loss")
    assert inspector.id_label.text() == "loss (output)"
    assert inspector.fields == {}
    inspector.show_node(None)
    assert inspector.pages.currentWidget() is inspector.empty


def test_editing_units_pushes_set_attr_and_undo_restores(
    qtbot: QtBot, inspector: InspectorWidget, document: Document, stack: UndoStack
) -> None:
    inspector.show_node("d1")
    units = _editor(inspector, "units")
    with qtbot.waitSignal(document.changed, timeout=1000):
        _retype(qtbot, units, "8")
    assert document.node("d1").attrs["units"] == 8
    assert stack.qstack.count() == 1 and stack.qstack.undoText() == "Change units of d1"
    stack.undo()
    assert document.node("d1").attrs["units"] == 4
    assert units.value() == 4  # the inspector follows the document
    stack.redo()
    assert units.value() == 8


def test_letters_in_an_int_field_change_nothing(
    qtbot: QtBot, inspector: InspectorWidget, document: Document, stack: UndoStack
) -> None:
    inspector.show_node("d1")
    before = document.to_scene_dict()
    units = _editor(inspector, "units")
    _retype(qtbot, units, "abc")
    units.clearFocus()
    assert units.value() == 4
    assert document.to_scene_dict() == before and stack.qstack.count() == 0


def test_bad_tensor_shows_the_reason_and_changes_nothing(
    qtbot: QtBot, inspector: InspectorWidget, document: Document, stack: UndoStack
) -> None:
    inspector.show_node("p1")
    before = document.to_scene_dict()
    field = inspector.fields["value"]
    _retype(qtbot, field.editor, '[1, "x"]')
    assert field.problem == "expected a rectangular nested list of numbers"
    assert field.error.isVisible() and field.error.text() == field.problem
    assert "border" in field.editor.styleSheet()
    assert field.problem in field.editor.toolTip()
    assert document.to_scene_dict() == before and stack.qstack.count() == 0

    _retype(qtbot, field.editor, "[1, 2")
    assert field.problem.startswith("cannot read '[1, 2'")
    assert document.to_scene_dict() == before

    _retype(qtbot, field.editor, "[[1, 2], [3, 4]]")  # a good value clears the mark
    assert field.problem is None and not field.error.isVisible()
    assert field.editor.styleSheet() == ""
    assert document.node("p1").attrs["value"] == [[1, 2], [3, 4]]


def test_shape_field_checks_its_kind(
    qtbot: QtBot, inspector: InspectorWidget, document: Document
) -> None:
    inspector.show_node("p1")
    shape = inspector.fields["shape"]
    assert shape.editor.text() == "[2, 3]"
    _retype(qtbot, shape.editor, "[2, 0]")
    assert "positive integers" in shape.problem
    assert document.node("p1").attrs["shape"] == [2, 3]
    _retype(qtbot, shape.editor, "[4]")
    assert document.node("p1").attrs["shape"] == [4]


def test_float_field_accepts_scientific_notation_and_checks_minimum(
    qtbot: QtBot, inspector: InspectorWidget, document: Document, stack: UndoStack
) -> None:
    inspector.show_node("lr")
    alpha = inspector.fields["alpha"]
    assert alpha.editor.text() == "" and alpha.editor.placeholderText() == "default: 0.01"
    _retype(qtbot, alpha.editor, "2.5e-3")
    assert document.node("lr").attrs["alpha"] == 0.0025
    assert alpha.editor.text() == "0.0025"
    _retype(qtbot, alpha.editor, "-1")
    assert alpha.problem == "must be >= 0, got -1.0"
    _retype(qtbot, alpha.editor, "1e")
    assert alpha.problem == "expected a number, got '1e'"
    assert document.node("lr").attrs["alpha"] == 0.0025
    _retype(qtbot, alpha.editor, "")  # empty: back to the default
    assert "alpha" not in document.node("lr").attrs
    assert alpha.problem is None and stack.qstack.count() == 2


def test_init_accepts_bare_names_and_keys(
    qtbot: QtBot, inspector: InspectorWidget, document: Document
) -> None:
    inspector.show_node("d1")
    init = _editor(inspector, "init")
    _retype(qtbot, init, "he")
    assert document.node("d1").attrs["init"] == "he"
    assert init.text() == "he"
    _retype(qtbot, init, "{uniform: 0.5}")
    assert document.node("d1").attrs["init"] == {"uniform": 0.5}
    _retype(qtbot, init, "bogus")
    assert "unknown init 'bogus'" in inspector.fields["init"].problem
    assert document.node("d1").attrs["init"] == {"uniform": 0.5}


def test_choice_pushes_on_user_selection(
    qtbot: QtBot, inspector: InspectorWidget, document: Document, stack: UndoStack
) -> None:
    inspector.show_node("d1")
    combo = _editor(inspector, "activation")
    qtbot.keyClick(combo, Qt.Key.Key_Down)  # relu -> tanh
    assert document.node("d1").attrs["activation"] == "tanh"
    stack.undo()
    assert combo.currentText() == "relu"
    assert stack.qstack.count() == 1


def test_bool_field_commits_clicks(qtbot: QtBot) -> None:
    field = AttrField("flag", AttrSpec("bool", False, doc="a switch"))
    qtbot.addWidget(field)
    field.show()
    qtbot.waitExposed(field)
    field.set_value(None)
    assert isinstance(field.editor, QCheckBox) and not field.editor.isChecked()
    with qtbot.waitSignal(field.committed, timeout=1000) as blocker:
        qtbot.mouseClick(field.editor, Qt.MouseButton.LeftButton)
    assert blocker.args == ["flag", True]


def test_parse_value_per_kind() -> None:
    text = AttrSpec("text")
    axis = AttrSpec("axis")
    assert parse_value(text, " hello ") == (True, "hello")
    assert parse_value(axis, "") == (True, None)
    assert parse_value(axis, "[0, 1]") == (True, [0, 1])
    assert parse_value(AttrSpec("init"), '"xavier"') == (True, "xavier")
    assert parse_value(AttrSpec("tensor"), "1.5") == (True, 1.5)
    ok, problem = parse_value(axis, "all")
    assert not ok and "cannot read 'all'" in problem
    assert format_shape(None) == "—" and format_shape(()) == "scalar"
    assert format_shape((4,)) == "(4,)" and format_shape((2, 3)) == "(2, 3)"


def test_removing_the_node_clears_and_shapes_show(
    inspector: InspectorWidget, document: Document, stack: UndoStack
) -> None:
    inspector.show_node("t1")
    labels = inspector._shape_labels
    assert [label.text() for label in labels.values()] == ["—", "—"]
    inspector.set_shapes({"x": (2, 4)}, (2, 4))
    assert [label.text() for label in labels.values()] == ["(2, 4)", "(2, 4)"]
    inspector.set_shapes(None, None)
    assert [label.text() for label in labels.values()] == ["—", "—"]
    stack.push(RemoveNodes(["t1"]))
    assert inspector.node_id is None
    assert inspector.pages.currentWidget() is inspector.empty


def test_refresh_keeps_unfinished_typing(
    qtbot: QtBot, inspector: InspectorWidget, stack: UndoStack
) -> None:
    inspector.show_node("p1")
    shape = _editor(inspector, "shape")
    qtbot.keyClick(shape, Qt.Key.Key_End)
    qtbot.keyClicks(shape, "9")  # typing, not finished
    inspector.show_node("p1")  # the window re-shows the selection after any change
    assert shape.text() == "[2, 3]9"


def test_without_an_undo_stack_fields_are_read_only(qtbot: QtBot, document: Document) -> None:
    widget = InspectorWidget()
    qtbot.addWidget(widget)
    widget.set_document(document, None)
    widget.show_node("d1")
    assert not widget.fields["units"].isEnabled()


def test_render(qtbot: QtBot, inspector: InspectorWidget, tmp_path: Path) -> None:
    inspector.show_node("d1")
    inspector.set_shapes({"x": (2, 2)}, (2, 4))
    _retype(qtbot, _editor(inspector, "init"), "bogus")
    image = grab_to(inspector, tmp_path / "inspector.png")
    assert (image.width(), image.height()) == (300, 520)
    # the refused value is framed and explained in the error red; the op's title bar is
    # in its category colour (layers)
    assert {"#c5221f", "#b07aa1"} <= colours_in(image)
    inspector.show_node("p1")
    qtbot.wait(1)  # new rows are shown by a queued call, as in the running app
    image = grab_to(inspector, tmp_path / "inspector_param.png")
    assert (image.width(), image.height()) == (300, 520)
    assert "#c5221f" not in colours_in(image) and "#f28e2b" in colours_in(image)


def test_a_deleted_inspector_ignores_document_signals(qtbot: QtBot, document: Document) -> None:
    widget = InspectorWidget()
    widget.set_document(document, UndoStack(document))
    widget.show_node("d1")
    shiboken6.delete(widget)  # Qt deleted it; the Python object lives on
    document.set_attr("d1", "units", 5)  # must not raise inside the document
    document.set_output(None)
    assert document.node("d1").attrs["units"] == 5
