"""The main window: canvas in the centre, palette left, inspector right, loss plot below.

It owns the document, the undo stack and the file; everything it does to the graph goes
through commands pushed on the undo stack.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QPointF, QSettings, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QKeySequence,
)
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QVBoxLayout, QWidget

from bpviz.engine.errors import BpvizError
from bpviz.engine.formulas import explain
from bpviz.examples import example_paths
from bpviz.model.clipboard import copy_nodes, duplicate_command, paste_command
from bpviz.model.commands import RemoveNodes, SetOutput
from bpviz.model.document import Document
from bpviz.model.layout import auto_layout_command
from bpviz.model.shapes import ShapeOracle
from bpviz.model.training import TrainingController
from bpviz.scene import (
    load_scene,
    save_scene_dict,
    validate_scene_dict,
)
from bpviz.ui.boundary import BoundaryView
from bpviz.ui.canvas.scene import CanvasScene
from bpviz.ui.canvas.view import CanvasView
from bpviz.ui.dialogs import Dialogs
from bpviz.ui.export_menu import ExportMenu
from bpviz.ui.inspector import InspectorWidget
from bpviz.ui.landscape import LandscapeView
from bpviz.ui.learn_panel import LearnPanel
from bpviz.ui.node_search import NodeSearchPopup
from bpviz.ui.palette import PaletteWidget
from bpviz.ui.plots import LossPlot
from bpviz.ui.recovery import AUTOSAVE_MS, Recovery
from bpviz.ui.timeline import TimelineWidget
from bpviz.ui.training_ui import TrainingUI
from bpviz.ui.undo import UndoStack

MAX_RECENT = 10
DEFAULT_EXAMPLE = "neuron.json"


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None, recovery: Recovery | None = None) -> None:
        super().__init__()
        self.settings = settings or QSettings("bpviz", "bpviz")
        self.recovery = recovery or Recovery()
        self.dialogs = Dialogs(self)
        self.path: Path | None = None
        self.document = Document()
        self.undo = UndoStack(self.document, self)
        self.undo.failed.connect(self.show_status)
        self.shapes = ShapeOracle(self.document)

        self.canvas = CanvasScene(self.undo.push, self)
        self.canvas.status.connect(self.show_status)
        self.canvas.explain_node = self.explain_node
        self.canvas.selectionChanged.connect(self._selection_changed)
        self.view = CanvasView(self.canvas, self)
        self.view.search_requested.connect(self._open_search)
        self.setCentralWidget(self.view)
        self.search = NodeSearchPopup(self)
        self._search_pos = QPointF()
        self.search.op_chosen.connect(
            lambda op: self.undo.push(self.canvas.add_node_command(op, self._search_pos))
        )

        self.palette = PaletteWidget()
        self.palette.op_activated.connect(self._add_at_centre)
        self.inspector = InspectorWidget()
        self.loss_plot = LossPlot()
        self.boundary = BoundaryView()
        self.landscape = LandscapeView()
        self.palette_dock = self._dock("Nodes", self.palette, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.inspector_dock = self._dock(
            "Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.timeline = TimelineWidget()
        plot_panel = QWidget()
        plot_layout = QVBoxLayout(plot_panel)
        plot_layout.setContentsMargins(0, 0, 0, 0)
        plot_layout.addWidget(self.loss_plot, 1)
        plot_layout.addWidget(self.timeline)
        self.plot_dock = self._dock("Loss", plot_panel, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.boundary_dock = self._dock(
            "Model output", self.boundary, Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.landscape_dock = self._dock(
            "Loss landscape", self.landscape, Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.tabifyDockWidget(self.boundary_dock, self.landscape_dock)
        self.boundary_dock.raise_()
        self.training_ui = TrainingUI(self)
        self.learn = LearnPanel(self)
        self.learn_dock = self._dock("Learn", self.learn, Qt.DockWidgetArea.RightDockWidgetArea)
        self.tabifyDockWidget(self.inspector_dock, self.learn_dock)
        self.inspector_dock.raise_()

        self.zoom_label = QLabel("100 %")
        self.statusBar().addPermanentWidget(self.zoom_label)
        self.view.zoom_changed.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f} %"))
        self.undo.qstack.cleanChanged.connect(self._update_title)

        self._build_actions()
        self._build_menus()
        self.setAcceptDrops(True)
        self.resize(1280, 800)
        # side panels run full height; the plot sits under the canvas only
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.resizeDocks(
            [self.palette_dock, self.inspector_dock], [210, 290], Qt.Orientation.Horizontal
        )
        self.resizeDocks([self.plot_dock], [190], Qt.Orientation.Vertical)
        self._restore_settings()

        self._autosave = QTimer(self)
        self._autosave.setInterval(AUTOSAVE_MS)
        self._autosave.timeout.connect(self.autosave)
        self._autosave.start()
        self.set_document(Document(), None)

    # ---- construction --------------------------------------------------------------------
    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{title.lower()}_dock")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:  # noqa: ANN001
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(f"{tip} ({action.shortcut().toString()})" if shortcut else tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        K = QKeySequence.StandardKey
        a = self._action
        self.act_new = a("&New", self.new_file, K.New, "Start an empty scene")
        self.act_open = a("&Open…", self.open_file_dialog, K.Open, "Open a scene file")
        self.act_save = a("&Save", self.save, K.Save, "Save the scene")
        self.act_save_as = a("Save &As…", self.save_as, K.SaveAs, "Save the scene under a new name")
        self.act_quit = a("&Quit", self.close, K.Quit, "Quit bpviz")
        self.exports = ExportMenu(self)
        self.act_undo = self.undo.qstack.createUndoAction(self, "&Undo")
        self.act_undo.setShortcut(K.Undo)
        self.act_redo = self.undo.qstack.createRedoAction(self, "&Redo")
        self.act_redo.setShortcut(K.Redo)
        self.act_cut = a("Cu&t", self.cut, K.Cut, "Cut the selected nodes")
        self.act_copy = a("&Copy", self.copy, K.Copy, "Copy the selected nodes as scene JSON")
        self.act_paste = a("&Paste", self.paste, K.Paste, "Paste nodes from the clipboard")
        self.act_duplicate = a(
            "&Duplicate", self.duplicate, "Ctrl+D", "Duplicate the selected nodes"
        )
        self.act_delete = a("&Delete", self.delete_selected, K.Delete, "Delete the selected nodes")
        self.act_delete.setShortcuts([QKeySequence(K.Delete), QKeySequence("Backspace")])
        self.act_select_all = a("Select &All", self.select_all, K.SelectAll, "Select every node")
        self.act_set_output = a(
            "Set as &Output",
            self.set_output,
            "Ctrl+Shift+O",
            "Make the selected node the graph's output (the loss)",
        )
        self.act_find = a(
            "&Add Node…",
            lambda: self.view._request_search(self.view.viewport().rect().center()),
            "Ctrl+K",
            "Search ops and add a node (Tab on the canvas)",
        )
        self.act_fit = a("&Fit to View", self.view.fit_all, "F", "Show every node")
        self.act_zoom_in = a("Zoom &In", lambda: self.view.zoom_by(1.25), K.ZoomIn, "Zoom in")
        self.act_zoom_out = a("Zoom &Out", lambda: self.view.zoom_by(0.8), K.ZoomOut, "Zoom out")
        self.act_zoom_reset = a("&Actual Size", self._zoom_reset, "Ctrl+0", "Zoom to 100 %")
        self.act_layout = a(
            "Auto &Layout", self.auto_layout, "Ctrl+L", "Arrange nodes left to right"
        )
        self.act_snap = a("&Snap to Grid", lambda: None, "Ctrl+G", "Snap moved nodes to the grid")
        self.act_snap.setCheckable(True)
        self.act_snap.toggled.connect(self.canvas.set_snap)
        self.act_shortcuts = a(
            "&Keyboard Shortcuts", self.show_shortcuts, K.HelpContents, "List shortcuts"
        )
        self.act_lessons = a(
            "&Lessons", self.show_lessons, "Ctrl+Shift+L", "Guided lessons on backpropagation"
        )
        self.act_about = a("&About bpviz", self.about, None, "About bpviz")

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        for act in (self.act_new, self.act_open):
            file.addAction(act)
        self.recent_menu = file.addMenu("Open &Recent")
        self.examples_menu = file.addMenu("&Examples")
        for path in example_paths():
            act = self.examples_menu.addAction(path.stem.replace("_", " ").capitalize())
            act.setStatusTip(str(path))
            act.triggered.connect(lambda _=False, p=path: self.open_file(p, as_example=True))
        file.addSeparator()
        for act in (self.act_save, self.act_save_as):
            file.addAction(act)
        self.export_menu = file.addMenu("E&xport")
        self.exports.fill(self.export_menu)
        file.addSeparator()
        file.addAction(self.act_quit)

        edit = bar.addMenu("&Edit")
        for act in (
            self.act_undo,
            self.act_redo,
            None,
            self.act_cut,
            self.act_copy,
            self.act_paste,
            self.act_duplicate,
            self.act_delete,
            None,
            self.act_select_all,
            self.act_find,
            self.act_set_output,
        ):
            edit.addSeparator() if act is None else edit.addAction(act)

        view = bar.addMenu("&View")
        for act in (
            self.act_fit,
            self.act_zoom_in,
            self.act_zoom_out,
            self.act_zoom_reset,
            None,
            self.act_layout,
            self.act_snap,
            None,
        ):
            view.addSeparator() if act is None else view.addAction(act)
        for dock in (
            self.palette_dock,
            self.inspector_dock,
            self.plot_dock,
            self.boundary_dock,
            self.landscape_dock,
        ):
            view.addAction(dock.toggleViewAction())

        train = bar.addMenu("&Train")
        t = self.training_ui
        for act in (
            t.act_forward,
            t.act_backward,
            t.act_update,
            t.act_step,
            None,
            t.act_next,
            None,
            t.act_run,
            t.act_reset,
            None,
            t.act_check,
            t.act_animate,
        ):
            train.addSeparator() if act is None else train.addAction(act)

        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.act_lessons)
        help_menu.addAction(self.act_shortcuts)
        help_menu.addAction(self.act_about)

        tools = self.addToolBar("Main")
        tools.setObjectName("main_toolbar")
        for act in (
            self.act_new,
            self.act_open,
            self.act_save,
            None,
            self.act_undo,
            self.act_redo,
            None,
            self.act_find,
            self.act_layout,
            self.act_fit,
        ):
            tools.addSeparator() if act is None else tools.addAction(act)
        training = self.training_toolbar = self.addToolBar("Training")
        training.setObjectName("training_toolbar")
        for act in (
            t.act_forward,
            t.act_backward,
            t.act_update,
            t.act_step,
            t.act_next,
            None,
            t.act_run,
            t.act_reset,
        ):
            training.addSeparator() if act is None else training.addAction(act)
        training.addWidget(t.speed_widget)
        self._update_recent_menu()

    # ---- document and title --------------------------------------------------------------
    def set_document(
        self, document: Document, path: Path | None, base_dir: Path | None = None
    ) -> None:
        """Show `document`; `base_dir` resolves its relative data paths (an example's folder)."""
        self.document = document
        self.path = path
        self.undo.set_document(document)
        base = base_dir or (path.parent if path else None)
        self.shapes = ShapeOracle(document, str(base) if base else None)
        self.canvas.problem_checker = self.shapes.connection_problem
        self.canvas.set_document(document)
        self.inspector.set_document(document, self.undo)
        self.inspector.show_node(None)
        self.training_ui.set_controller(TrainingController(document, base))
        document.changed.connect(self._document_changed)
        self._update_title()
        QTimer.singleShot(0, self.view.fit_all)

    def _document_changed(self) -> None:
        self._selection_changed()

    def display_name(self) -> str:
        if self.path is not None:
            return self.path.name
        return self.document.name or "Untitled"

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.display_name()}[*] — bpviz")
        self.setWindowModified(self.is_modified())

    def is_modified(self) -> bool:
        return not self.undo.qstack.isClean()

    def show_status(self, message: str) -> None:
        self.statusBar().showMessage(message, 8000)

    # ---- files ---------------------------------------------------------------------------
    def _confirm_discard(self) -> bool:
        """True when it is fine to replace the open document (saved or discarded)."""
        if not self.is_modified():
            return True
        answer = self.dialogs.ask_save_changes(self.display_name())
        if answer == "save":
            return self.save()
        return answer == "discard"

    def open_default(self) -> None:
        """First launch shows a working graph, not an empty canvas."""
        path = next((p for p in example_paths() if p.name == DEFAULT_EXAMPLE), None)
        if path is not None:
            self.open_file(path, as_example=True)
            self.show_lessons()  # first launch: the lessons are one click away

    def new_file(self) -> None:
        if self._confirm_discard():
            self.set_document(Document(), None)
            self.recovery.clear()

    def open_file_dialog(self) -> None:
        start = str(self.path.parent) if self.path else ""
        path = self.dialogs.open_path(start)
        if path is not None:
            self.open_file(path)

    def open_file(self, path: Path, as_example: bool = False) -> bool:
        """Open a scene; on failure show why and keep the open document untouched."""
        path = Path(path)
        if not self._confirm_discard():
            return False
        try:
            scene = load_scene(path, runnable=False)  # a half-built graph still opens
            document = Document.from_scene_dict(scene.to_dict())
        except BpvizError as e:
            self.dialogs.error("Could not open scene", str(e))
            return False
        self.set_document(document, None if as_example else path, base_dir=path.parent)
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
        c = self.training_ui.controller
        state = c.state_dict() if c else None
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
        self.shapes.base_dir = str(path.parent)
        self.undo.qstack.setClean()
        self._add_recent(path)
        self.recovery.clear()
        self._update_title()
        self.show_status(f"Saved {path.name}")
        return True

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
        self.set_document(document, source)
        # the restored edits are not on disk yet: mark the document modified
        self.undo.qstack.resetClean()
        self._update_title()
        return True

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

    # ---- edits ---------------------------------------------------------------------------
    def _add_at_centre(self, op: str) -> None:
        centre = self.view.mapToScene(self.view.viewport().rect().center())
        self.undo.push(self.canvas.add_node_command(op, centre))

    def _open_search(self, global_pos, scene_pos: QPointF) -> None:  # noqa: ANN001
        self._search_pos = scene_pos
        self.search.popup_at(global_pos)

    def delete_selected(self) -> None:
        ids = self.canvas.selected_ids()
        if ids:
            self.undo.push(RemoveNodes(ids))

    def copy(self) -> None:
        ids = self.canvas.selected_ids()
        if ids:
            QGuiApplication.clipboard().setText(copy_nodes(self.document, ids))
            self.show_status(f"Copied {len(ids)} node{'s' if len(ids) != 1 else ''}")

    def cut(self) -> None:
        ids = self.canvas.selected_ids()
        if ids:
            self.copy()
            command = RemoveNodes(ids)
            command.text = f"Cut {len(ids)} node{'s' if len(ids) != 1 else ''}"
            self.undo.push(command)

    def paste(self) -> None:
        text = QGuiApplication.clipboard().text()
        try:
            command = paste_command(self.document, text)
        except BpvizError as e:
            self.show_status(f"Nothing to paste: {e}")
            return
        if self.undo.push(command):
            self.canvas.select(command.new_ids)

    def duplicate(self) -> None:
        ids = self.canvas.selected_ids()
        if ids:
            command = duplicate_command(self.document, ids)
            if self.undo.push(command):
                self.canvas.select(command.new_ids)

    def select_all(self) -> None:
        self.canvas.select(list(self.document.nodes))

    def set_output(self) -> None:
        ids = self.canvas.selected_ids()
        if len(ids) == 1:
            self.undo.push(SetOutput(ids[0]))
        else:
            self.show_status("Select one node to make it the output")

    def auto_layout(self) -> None:
        if len(self.document):
            self.undo.push(auto_layout_command(self.document))
            self.view.fit_all()

    def _zoom_reset(self) -> None:
        self.view.resetTransform()
        self.view.zoom_changed.emit(1.0)

    def _selection_changed(self) -> None:
        ids = self.canvas.selected_ids()
        node_id = ids[0] if len(ids) == 1 else None
        self.inspector.show_node(node_id)
        if node_id is not None:
            shapes = self.shapes.shapes()
            node = self.document.node(node_id)
            self.inspector.set_shapes(
                {port: shapes.get(src) for port, src in node.inputs.items()}, shapes.get(node_id)
            )
            self.show_numbers_in_inspector()

    def explain_node(self, node_id: str) -> str | None:
        """Formula and local derivatives with the current numbers (node tooltips)."""
        c = self.training_ui.controller
        if node_id not in self.document.nodes:
            return None
        node = self.document.node(node_id)
        if c is None:
            return explain(node.spec, node.attrs, None, None).text
        inputs = {p: c.value(src) for p, src in node.inputs.items()}
        params = c.session.executor.params.get(node_id)
        return explain(node.spec, node.attrs, inputs, c.value(node_id), params).text

    def show_numbers_in_inspector(self) -> None:
        """The formula with the current numbers filled in, for the node being inspected."""
        c = self.training_ui.controller
        node_id = self.inspector.node_id
        if node_id is None or node_id not in self.document.nodes:
            return
        if c is None:
            self.inspector.set_numbers(None, None)
            return
        node = self.document.node(node_id)
        self.inspector.set_numbers(
            {p: c.value(src) for p, src in node.inputs.items()},
            c.value(node_id),
            c.session.executor.params.get(node_id),
        )

    # ---- help ----------------------------------------------------------------------------
    def show_lessons(self) -> None:
        self.learn_dock.show()
        self.learn_dock.raise_()

    def show_shortcuts(self) -> None:
        rows = [
            (
                act.text().replace("&", "").rstrip("…"),
                act.shortcut().toString(QKeySequence.SequenceFormat.NativeText),
            )
            for act in self.actions()
            if not act.shortcut().isEmpty()
        ]
        rows += [
            ("Add node at cursor", "Tab or double-click"),
            ("Pan", "Middle-drag or Space+drag"),
            ("Zoom", "Mouse wheel"),
            ("Change a number", "Drag a param's value sideways (Shift finer, Ctrl coarser)"),
        ]
        text = "\n".join(f"{name:<24} {keys}" for name, keys in rows)
        self.dialogs.info("Keyboard shortcuts", text)

    def about(self) -> None:
        from bpviz import __version__

        self.dialogs.info(
            "About bpviz",
            f"bpviz {__version__}\nSee backpropagation happen: build a graph, watch values flow "
            "forward and gradients flow backward.",
        )

    # ---- window events -------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(u.toLocalFile().endswith(".json") for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        for url in event.mimeData().urls():
            if url.toLocalFile().endswith(".json"):
                event.acceptProposedAction()
                self.open_file(Path(url.toLocalFile()))
                return

    def _restore_settings(self) -> None:
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        state = self.settings.value("window_state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        self.act_snap.setChecked(self.settings.value("snap", False, type=bool))

    def closeEvent(self, event: QCloseEvent) -> None:
        self.training_ui.pause()
        if not self._confirm_discard():
            event.ignore()
            return
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.saveState())
        self.settings.setValue("snap", self.act_snap.isChecked())
        self._autosave.stop()
        self.training_ui.shutdown()
        self.recovery.clear()
        event.accept()
