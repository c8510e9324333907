"""The undo stack: model commands (Qt-free) wrapped for Qt's QUndoStack.

A command is run *before* it is pushed, so a refused edit (a `BpvizError`) never reaches the
stack: `push` returns False, `failed` carries the reason, and the document is unchanged.
QUndoStack calls `redo()` on push; the adapter skips that first call because the edit is done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from bpviz.engine.errors import BpvizError
from bpviz.model.commands import Command
from bpviz.model.document import Document

log = logging.getLogger(__name__)


class _QtCommand(QUndoCommand):
    """Adapts a model `Command` to QUndoCommand; errors are reported, never raised into Qt."""

    def __init__(self, owner: UndoStack, command: Command, document: Document) -> None:
        super().__init__(command.text or type(command).__name__)
        self.command = command
        self.document = document
        self._owner = owner
        self._done = True  # the command ran in UndoStack.push before it was pushed

    def redo(self) -> None:
        if self._done:
            self._done = False
            return
        self._run("Redo", self.command.redo)

    def undo(self) -> None:
        self._run("Undo", self.command.undo)

    def _run(self, verb: str, step: Callable[[Document], None]) -> None:
        try:
            step(self.document)
        except Exception as e:  # an exception must not cross a Qt virtual
            log.exception("%s of %r failed", verb, self.command)
            self._owner._step_failed(f"{verb} {self.text()} failed: {e}")


class UndoStack(QObject):
    """Runs commands on a document and keeps them undoable.

    `qstack` is the underlying QUndoStack, for the Edit menu's undo/redo actions and the
    clean (saved) state.
    """

    failed = Signal(str)

    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.qstack = QUndoStack(self)
        self.last_error: str | None = None

    def push(self, command: Command) -> bool:
        """Run `command` and record it; False (and `failed`) if the document refused it."""
        try:
            command.redo(self.document)
        except BpvizError as e:
            self.last_error = str(e)
            self.failed.emit(self.last_error)
            return False
        self.last_error = None
        self.qstack.push(_QtCommand(self, command, self.document))
        return True

    def undo(self) -> None:
        self.qstack.undo()

    def redo(self) -> None:
        self.qstack.redo()

    def can_undo(self) -> bool:
        return self.qstack.canUndo()

    def can_redo(self) -> bool:
        return self.qstack.canRedo()

    def clear(self) -> None:
        """Forget every step; the stack becomes clean."""
        self.qstack.clear()

    def set_document(self, document: Document) -> None:
        """Commands belong to the document they ran on, so a new document starts a new history."""
        self.qstack.clear()
        self.document = document

    def _step_failed(self, message: str) -> None:
        """An undo or redo raised: the history no longer matches the document, so drop it
        (after the stack has finished the current step) rather than replay it wrongly."""
        self.last_error = message
        self.failed.emit(message + " — undo history cleared")
        QTimer.singleShot(0, self.qstack.clear)
