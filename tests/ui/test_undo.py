"""UndoStack: commands run before they are pushed; refused ones never reach the stack."""

from __future__ import annotations

import gc

from pytestqt.qtbot import QtBot

from bpviz.model.commands import AddNode, Command, Connect, SetAttr
from bpviz.model.document import Document
from bpviz.ui.undo import UndoStack


def test_failing_command_returns_false_and_emits_failed(qtbot: QtBot, document: Document) -> None:
    stack = UndoStack(document)
    before = document.to_scene_dict()
    with qtbot.waitSignal(stack.failed, timeout=1000) as blocker:
        ok = stack.push(AddNode("d1", "tanh"))  # duplicate id
    assert ok is False
    assert "duplicate node id 'd1'" in blocker.args[0]
    assert stack.last_error == blocker.args[0]
    assert stack.qstack.count() == 0
    assert document.to_scene_dict() == before


def test_push_undo_redo_round_trip(qtbot: QtBot, document: Document) -> None:
    stack = UndoStack(document)
    before = document.to_scene_dict()
    assert stack.push(AddNode("s1", "sigmoid", pos=(10.0, 20.0)))
    assert stack.push(Connect("t1", "s1", "x"))
    after = document.to_scene_dict()
    assert "s1" in document and document.node("s1").inputs == {"x": "t1"}
    assert stack.qstack.count() == 2
    assert stack.qstack.undoText() == "Connect t1 → s1.x"
    gc.collect()  # the adapters must survive without Python references of ours

    stack.undo()
    stack.undo()
    assert document.to_scene_dict() == before
    assert not stack.can_undo() and stack.can_redo()
    stack.redo()
    stack.redo()
    assert document.to_scene_dict() == after


def test_push_runs_the_command_exactly_once(qtbot: QtBot, document: Document) -> None:
    calls: list[str] = []

    class Counting(Command):
        text = "count"

        def redo(self, doc: Document) -> None:
            calls.append("redo")

        def undo(self, doc: Document) -> None:
            calls.append("undo")

    stack = UndoStack(document)
    assert stack.push(Counting())
    assert calls == ["redo"]
    stack.undo()
    stack.redo()
    assert calls == ["redo", "undo", "redo"]


def test_clean_state_follows_pushes_and_undo(qtbot: QtBot, document: Document) -> None:
    stack = UndoStack(document)
    assert stack.qstack.isClean()
    with qtbot.waitSignal(stack.qstack.cleanChanged, timeout=1000):
        stack.push(SetAttr("d1", "units", 8))
    assert not stack.qstack.isClean()
    stack.qstack.setClean()
    stack.push(SetAttr("d1", "units", 9))
    assert not stack.qstack.isClean()
    stack.undo()
    assert stack.qstack.isClean() and document.node("d1").attrs["units"] == 8
    stack.push(SetAttr("d1", "units", 3))  # a refused push must not touch the clean state
    stack.undo()
    assert not stack.push(SetAttr("d1", "units", 0))
    assert stack.qstack.isClean()


def test_set_document_clears_history(qtbot: QtBot, document: Document) -> None:
    stack = UndoStack(document)
    stack.push(SetAttr("d1", "units", 8))
    other = Document()
    stack.set_document(other)
    assert stack.qstack.count() == 0 and stack.qstack.isClean()
    assert stack.push(AddNode("a", "add"))
    stack.undo()
    assert "a" not in other
    assert document.node("d1").attrs["units"] == 8


def test_exception_during_undo_is_reported_not_raised(qtbot: QtBot, document: Document) -> None:
    stack = UndoStack(document)
    stack.push(AddNode("s1", "sigmoid"))
    document.connect("t1", "s1", "x")  # behind the stack's back: undoing the add now fails
    with qtbot.waitSignal(stack.failed, timeout=1000) as blocker:
        stack.undo()
    assert "Undo Add sigmoid failed" in blocker.args[0]
    assert "s1" in document
    qtbot.waitUntil(lambda: stack.qstack.count() == 0, timeout=1000)
