"""The editable document: everything a scene file saves, with a signal for every change.

Views (canvas, inspector, plots) subscribe to the signals and never edit anything themselves;
edits arrive as commands that call the mutators below. Every mutator validates through the
engine's `Graph` before touching anything, so a refused edit raises `GraphError` and leaves the
document, and every view of it, exactly as it was.
"""

from __future__ import annotations

import copy
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
from psygnal import Signal

from bpviz.engine.attrs import attr_problem
from bpviz.engine.errors import GraphError
from bpviz.engine.graph import Edge, Graph, Node
from bpviz.engine.optim import TrainingConfig
from bpviz.engine.session import load_data
from bpviz.model.layout import auto_layout_positions
from bpviz.scene import Scene, codec

Pos = tuple[float, float]
LEARNED_ARRAYS: dict[str, tuple[str, ...]] = {"dense": ("W", "b")}
"""Ops whose learned arrays are not attrs, so they are edited with `set_params`."""


def as_pos(pos: Any) -> Pos:
    """Two finite floats, or GraphError: a NaN position would break every view's geometry."""
    try:
        x, y = pos
        x, y = float(x), float(y)
    except (TypeError, ValueError):
        raise GraphError(f"a position is two numbers, got {pos!r}") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise GraphError(f"a position must be finite, got {pos!r}")
    return (x, y)


class Document:
    """A scene being edited: the graph, node positions, and the opaque data/training/state.

    `state` (learned weights, optimizer state) no longer fits once the graph's structure or
    attrs change, so those mutators drop it; commands keep the old block to put it back on undo.
    """

    node_added = Signal(str)
    node_removed = Signal(str)
    node_moved = Signal(str, object)
    edge_added = Signal(str, str, str)
    edge_removed = Signal(str, str, str)
    attr_changed = Signal(str, str, object)
    output_changed = Signal(object)
    state_changed = Signal(object)
    data_changed = Signal(object)  # the new `data` dict (a copy) or None
    training_changed = Signal(object)  # the new `training` dict (a copy) or None
    state_restored = Signal(object)  # undo put back learned state a settings edit reset
    params_set = Signal(str, object)  # node id, {array name: new array}
    slots_set = Signal(object)  # {node id: {array name: {slot: array}} or None (dropped)}
    changed = Signal()

    def __init__(self, name: str | None = None, description: str | None = None) -> None:
        self._graph = Graph()
        self._pos: dict[str, Pos] = {}
        self._name = name
        self._description = description
        self._data: dict[str, Any] | None = None
        self._training: dict[str, Any] | None = None
        self._state: dict[str, Any] | None = None
        # the trainer's live learned state (set by TrainingController), so an edit that
        # resets training can keep what was learned for its undo
        self.learned_state_provider: Callable[[], dict[str, Any] | None] | None = None
        self.base_dir: str | None = None  # where relative data paths are read from (not saved)

    # ---- queries -------------------------------------------------------------------------
    @property
    def graph(self) -> Graph:
        """The engine graph, for executors and trainers. Read it; edit only through mutators."""
        return self._graph

    @property
    def nodes(self) -> Mapping[str, Node]:
        """Nodes by id in document order (read-only view; the Node objects must not be edited)."""
        return MappingProxyType(self._graph.nodes)

    @property
    def output(self) -> str | None:
        return self._graph.output

    @property
    def name(self) -> str | None:
        return self._name

    @property
    def description(self) -> str | None:
        return self._description

    @property
    def data(self) -> dict[str, Any] | None:
        """The scene's `data` dict (read it; change it with `SetData`): kind, n, noise,
        transforms… as written in the file. None: no data."""
        return self._data

    @property
    def training(self) -> dict[str, Any] | None:
        """The scene's `training` dict (read it; change it with `SetTraining`), only the keys
        set; `training_config()` has every setting with its default filled in."""
        return self._training

    def training_config(self) -> TrainingConfig:
        """Every training setting, defaults included (the document's dict is checked)."""
        return TrainingConfig.from_dict(self._training)

    def learned_state(self) -> dict[str, Any] | None:
        """What has been learned as it stands: the trainer's live state when one is attached
        and has trained, else the state block the file brought."""
        live = self.learned_state_provider() if self.learned_state_provider else None
        return live if live is not None else copy.deepcopy(self._state)

    @property
    def state(self) -> dict[str, Any] | None:
        return self._state

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._graph.nodes

    def __len__(self) -> int:
        return len(self._graph)

    def node(self, node_id: str) -> Node:
        return self._graph.node(node_id)

    def pos(self, node_id: str) -> Pos:
        self._graph.node(node_id)
        return self._pos[node_id]

    def edges(self) -> list[Edge]:
        """By node order, then the op's port order: undo cannot restore the graph's internal
        port-insertion order, so nothing here depends on it."""
        return [
            Edge(node.inputs[port], node.id, port)
            for node in self._graph
            for port in node.spec.inputs
            if port in node.inputs
        ]

    def edges_of(self, node_ids: Iterable[str]) -> list[Edge]:
        """Every edge into or out of any of `node_ids`, each once, in `edges()` order."""
        ids = set(node_ids)
        return [e for e in self.edges() if e.src in ids or e.dst in ids]

    def consumers(self, node_id: str) -> list[Edge]:
        self._graph.node(node_id)
        return self._graph.consumers(node_id)

    def connect_problem(self, src: str, dst: str, port: str) -> str | None:
        """Why src -> dst.port would be refused, or None (for hover feedback while dragging)."""
        return self._graph.connect_problem(src, dst, port)

    def node_index(self, node_id: str) -> int:
        self._graph.node(node_id)
        return list(self._graph.nodes).index(node_id)

    def unique_id(self, prefix: str, taken: Iterable[str] = ()) -> str:
        """`prefix` + the smallest n >= 1 giving an id unused here and not in `taken`."""
        prefix = re.sub(r"[^A-Za-z0-9_.\-]", "_", prefix)[:56] or "node"
        if not re.match(r"[A-Za-z_]", prefix):
            prefix = "n" + prefix
        reserved = set(taken)
        n = 1
        while f"{prefix}{n}" in self._graph.nodes or f"{prefix}{n}" in reserved:
            n += 1
        return f"{prefix}{n}"

    # ---- mutators ------------------------------------------------------------------------
    def add_node(
        self,
        node_id: str,
        op: str,
        attrs: Mapping[str, Any] | None = None,
        pos: Any = (0.0, 0.0),
        index: int | None = None,
    ) -> None:
        """Add an unconnected node at `index` of the order (default last).

        None-valued attrs are left out: None means "use the default", as in `set_attr`, so
        absence and None never need telling apart when an edit is undone.
        """
        xy = as_pos(pos)
        clean = {k: v for k, v in (attrs or {}).items() if v is not None}
        self._graph.add_node(node_id, op, clean, index=index)
        self._pos[node_id] = xy
        self.node_added.emit(node_id)
        self._structure_changed()

    def remove_node(self, node_id: str) -> None:
        """Remove an unconnected node; edges go first (as their own undoable steps)."""
        node = self._graph.node(node_id)
        if node.inputs or self._graph.consumers(node_id):
            raise GraphError(f"node '{node_id}' still has edges; disconnect them first")
        was_output = self._graph.output == node_id
        self._graph.remove_node(node_id)
        del self._pos[node_id]
        self.node_removed.emit(node_id)
        if was_output:
            self.output_changed.emit(None)
        self._structure_changed()

    def connect(self, src: str, dst: str, port: str) -> None:
        self._graph.connect(src, dst, port)
        self.edge_added.emit(src, dst, port)
        self._structure_changed()

    def disconnect(self, dst: str, port: str) -> str:
        """Remove the edge into dst.port; returns the source it came from."""
        src = self._graph.disconnect(dst, port)
        self.edge_removed.emit(src, dst, port)
        self._structure_changed()
        return src

    def move_node(self, node_id: str, pos: Any) -> None:
        self._graph.node(node_id)
        xy = as_pos(pos)
        self._pos[node_id] = xy
        self.node_moved.emit(node_id, xy)
        self.changed.emit()

    def set_attr(self, node_id: str, name: str, value: Any) -> None:
        """Set an attr; None removes it so the op's default applies (if the default is valid)."""
        node = self._graph.node(node_id)
        if value is None:
            spec = node.spec.attrs.get(name)
            if spec is None:
                raise GraphError(f"node '{node_id}': op '{node.op}' has no attribute '{name}'")
            problem = attr_problem(spec, spec.default)
            if problem:
                raise GraphError(f"node '{node_id}': attrs.{name}: {problem}")
            # Graph.set_attr refuses None for required attrs even when their default is fine.
            node.attrs.pop(name, None)
            self._graph.version += 1
        else:
            self._graph.set_attr(node_id, name, value)
        self.attr_changed.emit(node_id, name, copy.deepcopy(value))
        self._structure_changed()

    def set_output(self, node_id: str | None) -> None:
        """Which node training minimises; not structure, so learned state is kept."""
        self._graph.set_output(node_id)
        self.output_changed.emit(node_id)
        self.changed.emit()

    def set_state(self, state: dict[str, Any] | None) -> None:
        """Replace the learned-state block (undo puts back what an edit dropped)."""
        self._state = state
        self.state_changed.emit(state)
        self.changed.emit()

    def set_data(
        self, data: Mapping[str, Any] | None, base_dir: str | os.PathLike | None = None
    ) -> None:
        """Replace the `data` dict. It is loaded first (relative CSV paths from `base_dir`),
        so a spec that cannot be used raises DatasetError and changes nothing. Learned
        state no longer fits other data: it is dropped (the command keeps it for undo)."""
        new = copy.deepcopy(dict(data)) if data is not None else None
        load_data(new, self.base_dir if base_dir is None else base_dir)
        self._data = new
        self.data_changed.emit(copy.deepcopy(new))
        self._drop_state()
        self.changed.emit()

    def set_training(self, training: Mapping[str, Any] | None, keep_state: bool = True) -> None:
        """Replace the `training` dict; a bad setting raises ConfigError and changes nothing.
        `keep_state=False` drops the learned-state block (an edit that restarts training)."""
        new = copy.deepcopy(dict(training)) if training is not None else None
        TrainingConfig.from_dict(new)
        self._training = new
        self.training_changed.emit(copy.deepcopy(new))
        if not keep_state:
            self._drop_state()
        self.changed.emit()

    def restore_state(
        self, block: dict[str, Any] | None, learned: dict[str, Any] | None = None
    ) -> None:
        """Undo of an edit that restarted training: the file's state `block` comes back into
        the document, and what had been `learned` (the trainer's live state, default the
        block) into the trainer through `state_restored`."""
        self._state = copy.deepcopy(block)
        self.state_changed.emit(self._state)
        self.state_restored.emit(copy.deepcopy(block if learned is None else learned))
        self.changed.emit()

    def _drop_state(self) -> None:
        if self._state is not None:
            self._state = None
            self.state_changed.emit(None)

    def set_params(self, node_id: str, arrays: Mapping[str, Any]) -> None:
        """Give a layer's learned arrays new values (a dragged weight; a layer's weights put
        back). The training session listens and uses them; a learned-state block that holds
        this node is updated too, so saving keeps the edit."""
        node = self._graph.node(node_id)
        names = LEARNED_ARRAYS.get(node.op)
        if names is None:
            raise GraphError(f"node '{node_id}': a {node.op} has no learned arrays to set")
        clean: dict[str, np.ndarray] = {}
        for name, value in arrays.items():
            if name not in names:
                raise GraphError(
                    f"node '{node_id}': a {node.op} has no array '{name}' "
                    f"(it has {', '.join(names)})"
                )
            try:
                a = np.array(value, dtype=np.float64)
            except (TypeError, ValueError):
                raise GraphError(f"node '{node_id}': {name} must be numbers") from None
            if not np.isfinite(a).all():
                raise GraphError(f"node '{node_id}': {name} must be finite")
            clean[name] = a
        held = (self._state or {}).get("params") or {}
        if node_id in held:
            state = copy.deepcopy(self._state)
            state["params"][node_id].update({k: a.tolist() for k, a in clean.items()})
            self._state = state
        self.params_set.emit(node_id, {k: a.copy() for k, a in clean.items()})
        self.changed.emit()

    def set_optimizer_slots(self, slots: Mapping[str, Mapping[str, Any] | None]) -> None:
        """Hand the optimizer's per-parameter state (momentum, Adam's moments) of some nodes
        to the training session, which keeps it: when an edit rewrites learned arrays as other
        nodes (Expand to Scalar Ops), training goes on with the same momentum. None drops a
        node's state."""
        clean: dict[str, dict[str, dict[str, np.ndarray]] | None] = {}
        for node_id, arrays in slots.items():
            clean[node_id] = (
                None
                if arrays is None
                else {
                    name: {k: np.array(a, dtype=np.float64) for k, a in slot.items()}
                    for name, slot in arrays.items()
                }
            )
        self.slots_set.emit(clean)

    def _structure_changed(self) -> None:
        if self._state is not None:
            self._state = None
            self.state_changed.emit(None)
        self.changed.emit()

    # ---- scene dicts ---------------------------------------------------------------------
    @classmethod
    def from_scene_dict(cls, scene: Mapping[str, Any]) -> Document:
        """Build from a validated scene dict (the scene package checks files).

        `pos` is optional in a file: if any node has none, the whole graph is laid out left
        to right, so no node hides under another."""
        doc = cls(scene.get("name"), scene.get("description"))
        entries = scene.get("nodes") or []
        codec.build_graph(entries, scene.get("output"), doc._graph)
        doc._pos = {entry["id"]: as_pos(entry.get("pos") or (0.0, 0.0)) for entry in entries}
        unplaced = any(entry.get("pos") is None for entry in entries)
        return doc._settled(scene.get("data"), scene.get("training"), scene.get("state"), unplaced)

    @classmethod
    def from_scene(cls, scene: Scene) -> Document:
        """The document of a scene just loaded, taking over its graph: what
        `from_scene_dict(scene.to_dict())` builds, without building the graph a second time
        (a fifth of opening a big file). `scene` must not be used afterwards."""
        doc = cls(scene.name, scene.description)
        doc._graph = scene.graph
        doc._pos = {nid: as_pos(scene.positions.get(nid, (0.0, 0.0))) for nid in scene.graph.nodes}
        # as `to_dict` writes it: learned numbers restored from the file, if any
        learned = scene.has_state and bool(scene.session.executor.params)
        state = scene.state_dict() if learned else None
        unplaced = len(scene.positions) < len(scene.graph.nodes)
        return doc._settled(scene.data, scene.training, state, unplaced)

    def _settled(self, data: Any, training: Any, state: Any, unplaced: bool) -> Document:
        """The rest of a document read from a scene (copied: the document owns them), and,
        if any node had no position, the whole graph laid out so no node hides another."""
        self._data = copy.deepcopy(data)
        self._training = copy.deepcopy(training)
        self._state = copy.deepcopy(state)
        if unplaced:
            self._pos.update(auto_layout_positions(self._graph, self._pos))
        return self

    def to_scene_dict(self) -> dict[str, Any]:
        """The scene dict, as the codec lays it out (deterministic: the op's port order)."""
        return codec.scene_dict(
            name=self._name,
            description=self._description,
            output=self._graph.output,
            nodes=[self.node_dict(node_id) for node_id in self._graph.nodes],
            data=self._data,
            training=self._training,
            state=copy.deepcopy(self._state),
        )

    def node_dict(self, node_id: str) -> dict[str, Any]:
        """One node as written in a scene file."""
        return codec.node_dict(self._graph.node(node_id), self._pos[node_id])
