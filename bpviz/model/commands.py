"""Undoable edits. Each command calls only `Document` mutators and records, when it runs, what
it needs to put back exactly: a node's index in the order, an attr's old value or absence, old
positions, a deleted node's edges, the learned-state block an edit dropped.

Recording at `redo` time (not at construction) keeps commands exact even if the document
changed between building a command and pushing it; after an `undo` the document is back in the
recorded state, so the next `redo` records the same thing again.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from bpviz.engine.errors import GraphError, plural
from bpviz.model.document import Document, Pos, as_pos
from bpviz.model.effects import Effect
from bpviz.model.layout import X_GAP, Y_GAP, SizeOf, auto_layout_positions

__all__ = ["plural"]  # with the commands below; labels read naturally in the Edit menu


def _label(verb: str, ids: Sequence[str]) -> str:
    """'Delete tanh1' for one node, 'Delete 3 nodes' for several."""
    return f"{verb} {ids[0]}" if len(ids) == 1 else f"{verb} {plural(len(ids), 'node')}"


class Command:
    """One step on the undo stack; `text` is its Edit-menu label ("Undo Add tanh");
    `effect` what it does to learned state (model/effects.py), known once it has run."""

    text: str = ""
    effect: Effect = Effect.REDRAW

    def redo(self, doc: Document) -> None:
        raise NotImplementedError

    def undo(self, doc: Document) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.text!r}>"


class _StructuralCommand(Command):
    """A single mutator that drops learned state; undo reverts it and restores that state."""

    _saved_state: dict[str, Any] | None = None

    def redo(self, doc: Document) -> None:
        saved = doc.state
        self._apply(doc)  # a mutator that raises has changed nothing, state included
        self._saved_state = saved

    def undo(self, doc: Document) -> None:
        self._revert(doc)
        if self._saved_state is not None:
            doc.set_state(self._saved_state)

    def _apply(self, doc: Document) -> None:
        raise NotImplementedError

    def _revert(self, doc: Document) -> None:
        raise NotImplementedError


class Compound(Command):
    """Several commands as one undo step: redo in order, undo in reverse.

    If a child fails, the children already done are undone before the error propagates, so a
    failed compound changes nothing.
    """

    def __init__(self, text: str, children: Iterable[Command]) -> None:
        self.text = text
        self.children: list[Command] = list(children)

    @property
    def effect(self) -> Effect:  # type: ignore[override]
        return Effect.strongest(c.effect for c in self.children)

    def redo(self, doc: Document) -> None:
        done: list[Command] = []
        try:
            for child in self.children:
                child.redo(doc)
                done.append(child)
        except Exception:
            for child in reversed(done):
                child.undo(doc)
            raise

    def undo(self, doc: Document) -> None:
        for child in reversed(self.children):
            child.undo(doc)


class AddNode(_StructuralCommand):
    def __init__(
        self,
        node_id: str,
        op: str,
        attrs: Mapping[str, Any] | None = None,
        pos: Pos = (0.0, 0.0),
        index: int | None = None,
    ) -> None:
        self.text = f"Add {op}"
        self.node_id = node_id
        self.op = op
        self.attrs = copy.deepcopy(dict(attrs or {}))
        self.pos = pos
        self.index = index

    def _apply(self, doc: Document) -> None:
        doc.add_node(self.node_id, self.op, self.attrs, self.pos, self.index)

    def _revert(self, doc: Document) -> None:
        doc.remove_node(self.node_id)


class _RemoveUnconnectedNode(_StructuralCommand):
    """Remove one node whose edges are already gone; remembers op, attrs, pos and index."""

    def __init__(self, node_id: str) -> None:
        self.text = f"Delete {node_id}"
        self.node_id = node_id
        self._restore: AddNode | None = None

    def _apply(self, doc: Document) -> None:
        node = doc.node(self.node_id)
        restore = AddNode(node.id, node.op, node.attrs, doc.pos(node.id), doc.node_index(node.id))
        doc.remove_node(self.node_id)
        self._restore = restore

    def _revert(self, doc: Document) -> None:
        assert self._restore is not None, "undo before redo"
        self._restore._apply(doc)


class Connect(_StructuralCommand):
    def __init__(self, src: str, dst: str, port: str) -> None:
        self.text = f"Connect {src} → {dst}.{port}"
        self.src, self.dst, self.port = src, dst, port

    def _apply(self, doc: Document) -> None:
        doc.connect(self.src, self.dst, self.port)

    def _revert(self, doc: Document) -> None:
        doc.disconnect(self.dst, self.port)


class Disconnect(_StructuralCommand):
    """Remove the edge src -> dst.port; refuses if that input is fed by anything else."""

    def __init__(self, src: str, dst: str, port: str) -> None:
        self.text = f"Disconnect {src} → {dst}.{port}"
        self.src, self.dst, self.port = src, dst, port

    def _apply(self, doc: Document) -> None:
        actual = doc.node(self.dst).inputs.get(self.port)
        if actual != self.src:
            fed = f"fed by '{actual}'" if actual else "not connected"
            raise GraphError(f"input '{self.dst}.{self.port}' is {fed}, not by '{self.src}'")
        doc.disconnect(self.dst, self.port)

    def _revert(self, doc: Document) -> None:
        doc.connect(self.src, self.dst, self.port)


class _PlannedCommand(Command):
    """A command whose child steps depend on the document at the time it is done (which
    edges a node has, what fed a port); they are planned in `redo` and undone exactly."""

    _steps: Compound | None = None

    @property
    def effect(self) -> Effect:  # type: ignore[override]
        return self._steps.effect if self._steps is not None else Effect.REDRAW

    def _plan(self, doc: Document) -> list[Command]:
        raise NotImplementedError

    def redo(self, doc: Document) -> None:
        plan = Compound(self.text, self._plan(doc))
        plan.redo(doc)
        self._steps = plan

    def undo(self, doc: Document) -> None:
        assert self._steps is not None, "undo before redo"
        self._steps.undo(doc)


class ReplaceConnection(_PlannedCommand):
    """Drop a wire onto an input: whatever fed it is disconnected and src connected, one step."""

    def __init__(self, src: str, dst: str, port: str) -> None:
        self.text = f"Reconnect {dst}.{port} to {src}"
        self.src, self.dst, self.port = src, dst, port

    def _plan(self, doc: Document) -> list[Command]:
        steps: list[Command] = []
        old_src = doc.node(self.dst).inputs.get(self.port)
        if old_src is not None:
            steps.append(Disconnect(old_src, self.dst, self.port))
        return [*steps, Connect(self.src, self.dst, self.port)]


class RemoveNodes(_PlannedCommand):
    """Delete nodes with all their edges (and the output mark) as one step."""

    def __init__(self, node_ids: Iterable[str]) -> None:
        self.node_ids = list(dict.fromkeys(node_ids))
        self.text = _label("Delete", self.node_ids)

    def _plan(self, doc: Document) -> list[Command]:
        for node_id in self.node_ids:
            doc.node(node_id)  # all or nothing: check every id before removing any
        steps: list[Command] = []
        if doc.output in self.node_ids:
            steps.append(SetOutput(None))
        steps += [Disconnect(e.src, e.dst, e.port) for e in doc.edges_of(self.node_ids)]
        return steps + [_RemoveUnconnectedNode(node_id) for node_id in self.node_ids]


class MoveNodes(Command):
    """Move many nodes at once, e.g. one command per drag, pushed on mouse release.

    `old` may be given when the view already moved the document live during the drag;
    otherwise the positions before `redo` are recorded.
    """

    effect = Effect.NONE

    def __init__(
        self,
        new: Mapping[str, Pos],
        old: Mapping[str, Pos] | None = None,
        text: str | None = None,
    ) -> None:
        self.new: dict[str, Pos] = {k: as_pos(v) for k, v in new.items()}
        self.old: dict[str, Pos] | None = None
        if old is not None:
            self.old = {k: as_pos(old[k]) for k in self.new}
        self._old_given = old is not None
        self.text = text if text is not None else _label("Move", list(self.new))

    def redo(self, doc: Document) -> None:
        for node_id in self.new:
            doc.node(node_id)
        if not self._old_given:
            self.old = {node_id: doc.pos(node_id) for node_id in self.new}
        for node_id, pos in self.new.items():
            doc.move_node(node_id, pos)

    def undo(self, doc: Document) -> None:
        assert self.old is not None, "undo before redo"
        for node_id, pos in self.old.items():
            doc.move_node(node_id, pos)



def auto_layout_command(
    doc: Document, size_of: SizeOf | None = None, x_gap: float = X_GAP, y_gap: float = Y_GAP
) -> MoveNodes:
    """Auto layout (Ctrl+L) as one move, so a layout the person dislikes is one undo away.
    `size_of(node_id)` is each node's drawn size (the window passes its canvas's)."""
    current = {n: doc.pos(n) for n in doc.nodes}
    positions = auto_layout_positions(doc.graph, current, size_of, x_gap, y_gap)
    return MoveNodes(positions, text="Auto layout")


class SetAttr(_StructuralCommand):
    """Change one attr; None resets it to the op's default (the attr is left out of the file)."""

    def __init__(self, node_id: str, name: str, value: Any) -> None:
        verb = "Reset" if value is None else "Change"
        self.text = f"{verb} {name} of {node_id}"
        self.node_id, self.name = node_id, name
        self.value = copy.deepcopy(value)
        self._old: Any = None

    def _apply(self, doc: Document) -> None:
        old = copy.deepcopy(doc.node(self.node_id).attrs.get(self.name))  # None: was absent
        doc.set_attr(self.node_id, self.name, self.value)
        self._old = old

    def _revert(self, doc: Document) -> None:
        doc.set_attr(self.node_id, self.name, self._old)


class SetOutput(Command):
    effect = Effect.KEEP  # another node is minimised from the next step; weights stay

    def __init__(self, node_id: str | None) -> None:
        self.text = "Clear output" if node_id is None else f"Set output to {node_id}"
        self.node_id = node_id
        self._old: str | None = None

    def redo(self, doc: Document) -> None:
        old = doc.output
        doc.set_output(self.node_id)
        self._old = old

    def undo(self, doc: Document) -> None:
        doc.set_output(self._old)


class SetParams(Command):
    """Replace learned arrays of a layer: `new` on redo, `old` (what they were) on undo.

    The arrays live in the training session, not in the document, so the caller, which
    reads them there, passes the old ones in."""

    effect = Effect.KEEP  # the other weights, the optimizer state and the history stay

    def __init__(
        self,
        node_id: str,
        new: Mapping[str, Any],
        old: Mapping[str, Any],
        text: str | None = None,
    ) -> None:
        self.node_id = node_id
        self.new = {k: np.array(v, dtype=np.float64) for k, v in new.items()}
        self.old = {k: np.array(v, dtype=np.float64) for k, v in old.items()}
        if set(self.new) != set(self.old):
            raise GraphError(f"node '{node_id}': new and old arrays differ in names")
        self.text = text or f"Set {', '.join(self.new)} of {node_id}"

    def redo(self, doc: Document) -> None:
        doc.set_params(self.node_id, self.new)

    def undo(self, doc: Document) -> None:
        doc.set_params(self.node_id, self.old)


def set_weight_command(
    node_id: str, name: str, index: tuple[int, ...], value: float, current: Any
) -> SetParams:
    """One entry of a layer's array (dragging a weight): one undo step."""
    old = np.array(current, dtype=np.float64)
    new = old.copy()
    try:
        new[index] = value
    except IndexError:
        raise GraphError(f"node '{node_id}': {name} has no entry {list(index)}") from None
    label = f"{node_id}.{name}[{','.join(map(str, index))}]"
    return SetParams(node_id, {name: new}, {name: old}, text=f"Set {label}")
