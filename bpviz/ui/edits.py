"""Editing the graph from the Edit and View menus: clipboard, delete, duplicate, selection,
the output node, layout and zoom. Every change to the document is a command on `undo`."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QPointF
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import QWidget

from bpviz.engine.errors import BpvizError
from bpviz.model.clipboard import copy_nodes, duplicate_command, paste_command
from bpviz.model.commands import Compound, RemoveNodes, SetOutput, auto_layout_command
from bpviz.model.edits import InsertLayerAfter
from bpviz.ui.actions import ActionRegistry, ActionSpec
from bpviz.ui.canvas.header_controls import width_of_new
from bpviz.ui.canvas.scene import CanvasScene
from bpviz.ui.canvas.view import CanvasView
from bpviz.ui.node_search import NodeSearchPopup
from bpviz.ui.undo import UndoStack

K = QKeySequence.StandardKey
INSERT_LAYER_KEY = "Ctrl+Shift+I"


def _nodes(n: int) -> str:
    return f"{n} node{'s' if n != 1 else ''}"


class CanvasEdits(QObject):
    """Registers undo, redo, cut, copy, paste, duplicate, delete, select_all, find,
    set_output, insert_layer (also in a node's context menu), fit, zoom_in, zoom_out,
    zoom_reset, layout and snap (checkable); owns the node search popup (Tab or Ctrl+K)."""

    def __init__(
        self,
        canvas: CanvasScene,
        view: CanvasView,
        undo: UndoStack,
        show_status: Callable[[str], None],
        registry: ActionRegistry,
        popup_parent: QWidget,
    ) -> None:
        super().__init__(popup_parent)
        self.canvas = canvas
        self.view = view
        self.undo = undo
        self.show_status = show_status
        self.search = NodeSearchPopup(popup_parent)
        self._search_pos = QPointF()
        # a node picked where a wire runs goes into that wire, as a dropped one does
        self.search.op_chosen.connect(lambda op: self.canvas.splices.drop(op, self._search_pos))
        view.search_requested.connect(self._open_search)

        undo_action = registry.adopt("undo", undo.qstack.createUndoAction(self, "&Undo"))
        undo_action.setShortcut(K.Undo)
        redo_action = registry.adopt("redo", undo.qstack.createRedoAction(self, "&Redo"))
        redo_action.setShortcut(K.Redo)
        A = ActionSpec
        registry.add_all([
            A("cut", "Cu&t", self.cut, K.Cut, "Cut the selected nodes"),
            A("copy", "&Copy", self.copy, K.Copy, "Copy the selected nodes as scene JSON"),
            A("paste", "&Paste", self.paste, K.Paste, "Paste nodes from the clipboard"),
            A("duplicate", "&Duplicate", self.duplicate, "Ctrl+D",
              "Duplicate the selected nodes"),
            A("delete", "&Delete", self.delete_selected, (K.Delete, "Backspace"),
              "Delete the selected nodes"),
            A("select_all", "Select &All", self.select_all, K.SelectAll, "Select every node"),
            A("set_output", "Set as &Output", self.set_output, "Ctrl+Shift+O",
              "Make the selected node the graph's output (the loss)"),
            A("insert_layer", "Insert &Layer After", lambda: self.insert_layer_after(),
              INSERT_LAYER_KEY,
              "Add a dense layer after the selected node, taking over its outgoing wires"),
            A("find", "&Add Node…",
              lambda: view._request_search(view.viewport().rect().center()),
              "Ctrl+K", "Search ops and add a node (Tab on the canvas)"),
            A("fit", "&Fit to View", view.fit_all, "F", "Show every node"),
            A("zoom_in", "Zoom &In", lambda: view.zoom_by(1.25), K.ZoomIn, "Zoom in"),
            A("zoom_out", "Zoom &Out", lambda: view.zoom_by(0.8), K.ZoomOut, "Zoom out"),
            A("zoom_reset", "&Actual Size", self.zoom_reset, "Ctrl+0", "Zoom to 100 %"),
            A("layout", "Auto &Layout", self.auto_layout, "Ctrl+L",
              "Arrange nodes left to right"),
            A("snap", "&Snap to Grid", lambda: None, "Ctrl+G", "Snap moved nodes to the grid",
              checkable=True),
        ])  # fmt: skip
        registry["snap"].toggled.connect(canvas.set_snap)
        canvas.node_menus.append(self._node_menu)

    def _node_menu(self, node_id: str) -> list:
        """This part's entries in a node's context menu (scene.MenuEntries)."""
        key = QKeySequence(INSERT_LAYER_KEY).toString(QKeySequence.SequenceFormat.NativeText)
        return [(f"Insert Layer After\t{key}", lambda: self.insert_layer_after(node_id), None)]

    def insert_layer_after(self, node_id: str | None = None) -> None:
        """A dense layer after `node_id` (default: the one selected node), then selected."""
        if node_id is None:
            ids = self.canvas.selected_ids()
            if len(ids) != 1:
                self.show_status("Select one node to insert a layer after it")
                return
            node_id = ids[0]
        doc = self.undo.document
        if node_id not in doc.nodes:
            return
        heads = sorted({e.dst for e in doc.consumers(node_id)})
        new_id = doc.unique_id("dense")
        width = width_of_new(new_id, "dense")
        x, moves = self.canvas.splices.room_after(node_id, float("-inf"), heads, width)
        insert = InsertLayerAfter(node_id, new_id, pos=(x, doc.pos(node_id)[1]))
        command = insert if moves is None else Compound(insert.text, [insert, moves])
        if self.undo.push(command):
            self.canvas.select([insert.layer_id])
            layer = doc.node(insert.layer_id).attrs
            self.show_status(
                f"Inserted {insert.layer_id} after {node_id}: {layer['units']} units, "
                f"{layer['activation']}"
            )

    def add_at_centre(self, op: str) -> None:
        centre = self.view.mapToScene(self.view.viewport().rect().center())
        self.canvas.splices.drop(op, centre, splice=False)

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
            QGuiApplication.clipboard().setText(copy_nodes(self.undo.document, ids))
            self.show_status(f"Copied {_nodes(len(ids))}")

    def cut(self) -> None:
        ids = self.canvas.selected_ids()
        if ids:
            self.copy()
            command = RemoveNodes(ids)
            command.text = f"Cut {_nodes(len(ids))}"
            self.undo.push(command)

    def paste(self) -> None:
        text = QGuiApplication.clipboard().text()
        try:
            command = paste_command(self.undo.document, text)
        except BpvizError as e:
            self.show_status(f"Nothing to paste: {e}")
            return
        if self.undo.push(command):
            self.canvas.select(command.new_ids)

    def duplicate(self) -> None:
        ids = self.canvas.selected_ids()
        if ids:
            command = duplicate_command(self.undo.document, ids)
            if self.undo.push(command):
                self.canvas.select(command.new_ids)

    def select_all(self) -> None:
        self.canvas.select(list(self.undo.document.nodes))

    def set_output(self) -> None:
        ids = self.canvas.selected_ids()
        if len(ids) == 1:
            self.undo.push(SetOutput(ids[0]))
        else:
            self.show_status("Select one node to make it the output")

    def auto_layout(self) -> None:
        """Spaced by the sizes the canvas draws, so no two nodes touch."""
        if len(self.undo.document):
            items = self.canvas.node_items

            def drawn_size(node_id: str) -> tuple[float, float]:
                rect = items[node_id].boundingRect()
                return rect.width(), rect.height()

            self.undo.push(auto_layout_command(self.undo.document, drawn_size))
            self.view.fit_all()

    def zoom_reset(self) -> None:
        self.view.actual_size()
