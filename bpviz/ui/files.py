"""The open document's file: open, save, autosave, crash recovery and recent files.

Every way a document arrives (new, a template, open, an example, a restored recovery copy)
goes through `show`, which hands it to the window's `show_document` to put on screen.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QSettings, QTimer, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMenu

from bpviz.engine.collector import long_lived_load
from bpviz.engine.errors import BpvizError
from bpviz.examples import example_paths
from bpviz.interop.files import read_any
from bpviz.model.document import Document
from bpviz.model.templates import template, templates
from bpviz.scene import save_scene_dict, validate_scene_dict
from bpviz.ui.actions import ActionRegistry, ActionSpec
from bpviz.ui.dialogs import Dialogs
from bpviz.ui.recovery import AUTOSAVE_MS, Recovery
from bpviz.ui.undo import UndoStack

MAX_RECENT = 10
K = QKeySequence.StandardKey


class DocumentFiles(QObject):
    """Registers new, open, save, save_as; fills File › New from Template, File › Open Recent
    and File › Examples.

    `show_document(document, base_dir)` puts a document on screen (base_dir resolves its
    relative data paths); `learned_state()` is the weights and optimizer state to save with
    it, or None."""

    title_changed = Signal()  # the file name or the modified flag changed
    saved = Signal(Path)

    def __init__(
        self,
        undo: UndoStack,
        dialogs: Dialogs,
        settings: QSettings,
        recovery: Recovery,
        show_document: Callable[[Document, Path | None], None],
        learned_state: Callable[[], dict[str, Any] | None],
        show_status: Callable[[str], None],
        registry: ActionRegistry,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.undo = undo
        self.dialogs = dialogs
        self.settings = settings
        self.recovery = recovery
        self._show_document = show_document
        self._learned_state = learned_state
        self.show_status = show_status
        self.path: Path | None = None
        self.base_dir: Path | None = None
        self.recent_menu = QMenu("Open &Recent")
        self.examples_menu = QMenu("&Examples")
        self.templates_menu = QMenu("New from &Template")
        self.templates_menu.setToolTipsVisible(True)
        for t in templates():
            act = self.templates_menu.addAction(t.name)
            act.setToolTip(t.description)
            act.setStatusTip(t.description)
            act.triggered.connect(lambda _=False, name=t.name: self.new_from_template(name))
        for path in example_paths():
            act = self.examples_menu.addAction(path.stem.replace("_", " ").capitalize())
            act.setStatusTip(str(path))
            act.triggered.connect(lambda _=False, p=path: self.open_file(p, as_example=True))
        undo.qstack.cleanChanged.connect(self.title_changed)
        registry.add_all(
            [
                ActionSpec("new", "&New", self.new_file, K.New, "Start an empty scene"),
                ActionSpec(
                    "open", "&Open…", self.open_file_dialog, K.Open, "Open a scene file"
                ),
                ActionSpec("save", "&Save", self.save, K.Save, "Save the scene"),
                ActionSpec(
                    "save_as", "Save &As…", self.save_as, K.SaveAs,
                    "Save the scene under a new name",
                ),
            ]
        )  # fmt: skip
        self._autosave = QTimer(self)
        self._autosave.setInterval(AUTOSAVE_MS)
        self._autosave.timeout.connect(self.autosave)
        self._autosave.start()
        self._update_recent_menu()

    @property
    def document(self) -> Document:
        return self.undo.document

    def show(self, document: Document, path: Path | None, base_dir: Path | None = None) -> None:
        """Show `document` as the file at `path`; `base_dir` (default: the path's folder)
        resolves its relative data paths, e.g. an example's folder."""
        self.path = path
        self.base_dir = base_dir or (path.parent if path else None)
        self.undo.set_document(document)
        self._show_document(document, self.base_dir)
        self.title_changed.emit()

    def display_name(self) -> str:
        if self.path is not None:
            return self.path.name
        return self.document.name or "Untitled"

    def is_modified(self) -> bool:
        return not self.undo.qstack.isClean()

    def confirm_discard(self) -> bool:
        """True when it is fine to replace the open document (saved or discarded)."""
        if not self.is_modified():
            return True
        answer = self.dialogs.ask_save_changes(self.display_name())
        if answer == "save":
            return self.save()
        return answer == "discard"

    # ---- open and save -------------------------------------------------------------------
    def new_file(self) -> None:
        if self.confirm_discard():
            self.show(Document(), None)
            self.recovery.clear()

    def new_from_template(self, name: str) -> None:
        """A ready scene, data bound, unsaved and unmodified like New: Run works at once."""
        if self.confirm_discard():
            self.show(Document.from_scene_dict(template(name)), None)
            self.recovery.clear()
            self.show_status(f"New {name}: press Run (F5) to train it")

    def open_file_dialog(self) -> None:
        start = str(self.path.parent) if self.path else ""
        path = self.dialogs.open_path(start)
        if path is not None:
            self.open_file(path)

    def open_file(self, path: Path, as_example: bool = False) -> bool:
        """Open a scene; on failure show why and keep the open document untouched."""
        path = Path(path)
        if not self.confirm_discard():
            return False
        problem = None
        # the cycle collector waits until the document is on screen: a few hundred thousand
        # new objects (13,000 canvas items at 5,000 nodes) would otherwise set off full
        # collections over the whole heap, a third of the time to the first frame; then they
        # join the oldest generation unscanned
        with long_lived_load():
            try:
                # a half-built graph still opens; an ONNX model opens as a new, unsaved scene;
                # the document takes the graph, not the values of a pass (the window's
                # session runs its own)
                loaded = read_any(path, runnable=False, run=False)
                document = (
                    Document.from_scene_dict(loaded)
                    if isinstance(loaded, dict)
                    else Document.from_scene(loaded)
                )
                del loaded  # the document took over its graph
            except BpvizError as e:
                problem = str(e)
            else:
                imported = path.suffix.lower() != ".json"
                shown_as = None if as_example or imported else path
                self.show(document, shown_as, base_dir=path.parent)
        if problem is not None:
            self.dialogs.error("Could not open scene", problem)
            return False
        if not as_example:
            self._add_recent(path)
        self.recovery.clear()
        self.show_status(f"Opened {path.name}")
        return True

    def save(self) -> bool:
        if self.path is None:
            return self.save_as()
        return self._write(self.path)

    def save_as(self) -> bool:
        start = str(self.path) if self.path else f"{self.display_name()}.json"
        path = self.dialogs.save_path(start)
        return path is not None and self._write(path)

    def scene_dict(self) -> dict[str, Any]:
        """The document as Save writes it: the learned weights and optimizer state the window
        holds travel with it, not just the ones the file was opened with."""
        scene = self.document.to_scene_dict()
        state = self._learned_state()
        if state is not None:
            scene["state"] = state
        return scene

    def _write(self, path: Path) -> bool:
        try:
            save_scene_dict(self.scene_dict(), path)
        except (BpvizError, OSError) as e:
            self.dialogs.error("Could not save scene", str(e))
            return False
        self.path = path
        self.base_dir = path.parent
        self.saved.emit(path)
        self.undo.qstack.setClean()
        self._add_recent(path)
        self.recovery.clear()
        self.title_changed.emit()
        self.show_status(f"Saved {path.name}")
        return True

    # ---- autosave and recovery -----------------------------------------------------------
    def autosave(self) -> None:
        if self.is_modified():
            try:
                self.recovery.save(self.document.to_scene_dict(), self.path)
            except (OSError, BpvizError) as e:
                self.show_status(f"Autosave failed: {e}")

    def offer_recovery(self) -> bool:
        """After a crash, offer the recovery copy; True if it was restored."""
        record = self.recovery.load()
        if record is None:
            self.recovery.clear()
            return False
        scene, source, saved_at = record
        if not self.dialogs.ask_restore(saved_at):
            self.recovery.clear()
            return False
        try:
            base = str(source.parent) if source else None
            document = Document.from_scene_dict(validate_scene_dict(scene, base, runnable=False))
        except BpvizError as e:
            self.dialogs.error("Could not restore", str(e))
            return False
        self.show(document, source)
        # the restored edits are not on disk yet: mark the document modified
        self.undo.qstack.resetClean()
        self.title_changed.emit()
        return True

    def close(self) -> None:
        """A clean exit: no autosave after this, and no recovery copy left behind."""
        self._autosave.stop()
        self.recovery.clear()

    # ---- recent files --------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.settings.value("recent_files", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _add_recent(self, path: Path) -> None:
        p = str(Path(path).resolve())
        recent = [p] + [r for r in self.recent_files() if r != p]
        self.settings.setValue("recent_files", recent[:MAX_RECENT])
        self._update_recent_menu()

    def _update_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_files()
        for p in recent:
            act = self.recent_menu.addAction(Path(p).name)
            act.setStatusTip(p)
            act.triggered.connect(lambda _=False, path=p: self.open_file(Path(path)))
        self.recent_menu.setEnabled(bool(recent))

