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
from bpviz.model.edits import InsertLayerAfter, SpliceNode, change_units, splice_problem
from bpviz.model.effects import Effect
from bpviz.model.layout import auto_layout_command, auto_layout_positions
from bpviz.model.settings import (
    SetData,
    SetDataValue,
    SetTraining,
    SetTrainingValue,
    data_effect,
    training_effect,
    training_key_effect,
)
from bpviz.model.templates import Template, template, templates

__all__ = [
    "AddNode",
    "ClipboardError",
    "Command",
    "Compound",
    "Connect",
    "Disconnect",
    "Document",
    "Effect",
    "InsertLayerAfter",
    "MoveNodes",
    "PasteNodes",
    "Pos",
    "RemoveNodes",
    "ReplaceConnection",
    "SetAttr",
    "SetData",
    "SetDataValue",
    "SetOutput",
    "SetTraining",
    "SetTrainingValue",
    "SpliceNode",
    "Template",
    "SetParams",
    "auto_layout_command",
    "auto_layout_positions",
    "change_units",
    "data_effect",
    "copy_nodes",
    "duplicate_command",
    "paste_command",
    "splice_problem",
    "template",
    "templates",
    "training_effect",
    "training_key_effect",
    "set_weight_command",
]
