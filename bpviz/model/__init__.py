"""The editable document: nodes, edges, positions and attrs; signals; undoable commands;
clipboard and auto layout. No Qt here: `ui/` wraps commands into a QUndoStack."""

from bpviz.model.clipboard import (
    ClipboardError,
    PasteNodes,
    copy_nodes,
    duplicate_command,
    paste_command,
)
from bpviz.model.commands import (
    AddNode,
    Command,
    Compound,
    Connect,
    Disconnect,
    MoveNodes,
    RemoveNodes,
    ReplaceConnection,
    SetAttr,
    SetOutput,
    SetParams,
    set_weight_command,
)
from bpviz.model.document import Document, Pos
from bpviz.model.layout import auto_layout_command, auto_layout_positions

__all__ = [
    "AddNode",
    "ClipboardError",
    "Command",
    "Compound",
    "Connect",
    "Disconnect",
    "Document",
    "MoveNodes",
    "PasteNodes",
    "Pos",
    "RemoveNodes",
    "ReplaceConnection",
    "SetAttr",
    "SetOutput",
    "SetParams",
    "auto_layout_command",
    "auto_layout_positions",
    "copy_nodes",
    "duplicate_command",
    "paste_command",
    "set_weight_command",
]
