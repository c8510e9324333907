"""Expand to Scalar Ops: a small dense layer rewritten as the graph it stands for.

Each weight becomes its own scalar `param` (holding its current value), each product a `mul`,
the sums `add`s, the activation its own node; `column` picks each input feature and `concat`
joins the units again, so every consumer reads the same (batch × units) value as before, and
every value and gradient is the dense layer's. The last node takes over the layer's id, so
wires, the output mark and views that name the layer keep pointing at it. One undo step
brings the layer back with the weights it had.

The optimizer's state of each weight (a momentum buffer, Adam's two moments) moves with it
to its scalar param, and back on undo, so training goes on exactly as the layer's would.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from bpviz.engine.errors import GraphError
from bpviz.engine.graph import ID_PATTERN
from bpviz.model.commands import (
    AddNode,
    Command,
    Connect,
    RemoveNodes,
    SetOutput,
    SetParams,
    _PlannedCommand,
)
from bpviz.model.document import Document
from bpviz.model.effects import Effect

Slots = dict[str, dict[str, np.ndarray]]  # array name -> {slot name ("m", "v"): array}

MAX_INPUTS = 4
MAX_UNITS = 4
DX, DY = 170.0, 64.0  # spacing of the written-out graph's columns and rows


def expand_problem(doc: Document, node_id: str, params: Mapping[str, Any] | None) -> str | None:
    """Why `node_id` cannot be expanded (for a disabled menu entry's tip), or None."""
    if node_id not in doc:
        return f"no node '{node_id}'"
    node = doc.node(node_id)
    if node.op != "dense":
        return f"'{node_id}' is a {node.op}, not a dense layer"
    if "x" not in node.inputs:
        return f"'{node_id}' has no input yet"
    if not params or "W" not in params or "b" not in params:
        return f"'{node_id}' has no weights yet (run Forward first)"
    n_in, units = np.shape(params["W"])
    if n_in > MAX_INPUTS or units > MAX_UNITS:
        return (
            f"'{node_id}' has {n_in} inputs × {units} units; scalar ops are written out for "
            f"at most {MAX_INPUTS} × {MAX_UNITS}"
        )
    return None


class SetSlots(Command):
    """Optimizer state of some nodes: `new` on redo, `old` on undo (None: no state)."""

    effect = Effect.KEEP

    def __init__(self, new: Mapping[str, Slots | None], old: Mapping[str, Slots | None]) -> None:
        self.new, self.old = dict(new), dict(old)
        self.text = "Move optimizer state"

    def redo(self, doc: Document) -> None:
        doc.set_optimizer_slots(self.new)

    def undo(self, doc: Document) -> None:
        doc.set_optimizer_slots(self.old)


def split_slots(slots: Mapping[str, Mapping[str, Any]], ids: Mapping[tuple, str]) -> dict:
    """The layer's W and b slots cut into one slot per scalar param: `ids` maps ("W", i, j)
    and ("b", j) to the param node holding that entry."""
    out: dict[str, Slots] = {}
    for key, node_id in ids.items():
        slot = slots.get(key[0])
        if slot:
            out[node_id] = {
                "value": {k: np.array(a[key[1:]], dtype=np.float64) for k, a in slot.items()}
            }
    return out


class ExpandToScalarOps(_PlannedCommand):
    """Replace dense layer `node_id` (weights `params` and optimizer state `slots`, as the
    session holds them) by its scalar graph; undo puts the layer, those weights and that
    state back."""

    def __init__(
        self,
        node_id: str,
        params: Mapping[str, Any],
        slots: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.node_id = node_id
        self.params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
        self.slots: Slots = {
            name: {k: np.array(a, dtype=np.float64) for k, a in slot.items()}
            for name, slot in (slots or {}).items()
        }
        self.text = f"Expand {node_id} to Scalar Ops"
        self.new_ids: list[str] = []

    def _plan(self, doc: Document) -> list[Command]:
        problem = expand_problem(doc, self.node_id, self.params)
        if problem:
            raise GraphError(f"cannot expand: {problem}")
        layer = doc.node(self.node_id)
        W, b = self.params["W"], self.params["b"]
        source = layer.inputs["x"]
        consumers = [(e.dst, e.port) for e in doc.consumers(self.node_id)]
        was_output = doc.output == self.node_id
        x0, y0 = doc.pos(self.node_id)
        writer = _Writer(doc, self.node_id, x0, y0)
        final = writer.write(source, W, b, layer.attrs.get("activation", "none"))
        self.new_ids = [c.node_id for c in writer.adds]
        steps: list[Command] = [
            SetParams(self.node_id, self.params, self.params),  # undo: the weights come back
            RemoveNodes([self.node_id]),
            *writer.adds,
            *writer.wires,
            *(Connect(final, dst, port) for dst, port in consumers),
        ]
        if was_output:
            steps.append(SetOutput(final))
        if self.slots:
            moved = split_slots(self.slots, writer.params)
            steps.append(
                SetSlots(
                    moved | {self.node_id: None}, dict.fromkeys(moved) | {self.node_id: self.slots}
                )
            )
        return steps


class _Writer:
    """Collects the AddNode and Connect steps of one layer's scalar graph."""

    def __init__(self, doc: Document, layer_id: str, x0: float, y0: float) -> None:
        self.doc = doc
        self.layer_id = layer_id
        self.x0, self.y0 = x0, y0
        self.adds: list[AddNode] = []
        self.wires: list[Connect] = []
        self.params: dict[tuple, str] = {}  # ("W", i, j) or ("b", j) -> its param node
        self._taken: set[str] = set()

    def _id(self, suffix: str) -> str:
        base = f"{self.layer_id}.{suffix}"
        if ID_PATTERN.match(base) and base not in self.doc and base not in self._taken:
            chosen = base
        else:
            chosen = self.doc.unique_id(base, self._taken)
        self._taken.add(chosen)
        return chosen

    def node(
        self, suffix: str, op: str, col: float, row: float, node_id: str | None = None, **attrs
    ) -> str:
        nid = node_id or self._id(suffix)
        self.adds.append(AddNode(nid, op, attrs, (self.x0 + col * DX, self.y0 + row * DY)))
        return nid

    def wire(self, src: str, dst: str, port: str) -> None:
        self.wires.append(Connect(src, dst, port))

    def write(self, source: str, W: np.ndarray, b: np.ndarray, activation: str) -> str:
        n_in, units = W.shape
        rows = n_in * units
        top = -(rows - 1) / 2  # the block is centred where the layer was
        columns = []
        for i in range(n_in):
            col = self.node(f"x{i}", "column", 0, top + (i + 0.5) * units - 0.5, index=i)
            self.wire(source, col, "x")
            columns.append(col)
        outs = []
        for j in range(units):
            last_unit = j == units - 1
            row0 = top + j * n_in
            total = None
            for i in range(n_in):
                w = self.node(f"w{i}{j}", "param", 1, row0 + i, value=float(W[i, j]))
                self.params[("W", i, j)] = w
                m = self.node(f"m{i}{j}", "mul", 2, row0 + i)
                self.wire(columns[i], m, "a")
                self.wire(w, m, "b")
                if total is None:
                    total = m
                else:
                    s = self.node(f"s{i}{j}", "add", 3, row0 + i - 0.5)
                    self.wire(total, s, "a")
                    self.wire(m, s, "b")
                    total = s
            mid = row0 + (n_in - 1) / 2
            bias = self.node(f"b{j}", "param", 3, row0 + n_in - 0.5, value=float(b[j]))
            self.params[("b", j)] = bias
            only = units == 1 and last_unit
            z_final = only and activation == "none"
            z = self.node(f"z{j}", "add", 4, mid, node_id=self.layer_id if z_final else None)
            self.wire(total, z, "a")
            self.wire(bias, z, "b")
            out = z
            if activation != "none":
                out = self.node(
                    f"a{j}", activation, 5, mid, node_id=self.layer_id if only else None
                )
                self.wire(z, out, "x")
            outs.append(out)
        joined = outs[0]
        for j in range(1, units):
            final = j == units - 1
            cat = self.node(
                f"c{j}", "concat", 6, top + j * n_in, node_id=self.layer_id if final else None
            )
            self.wire(joined, cat, "a")
            self.wire(outs[j], cat, "b")
            joined = cat
        return joined


def expand_command(
    doc: Document,
    node_id: str,
    params: Mapping[str, Any] | None,
    slots: Mapping[str, Mapping[str, Any]] | None = None,
) -> Command:
    """The command, or GraphError saying why this layer cannot be expanded; `slots` is the
    optimizer's state of the layer's arrays, carried over to the scalar params."""
    problem = expand_problem(doc, node_id, params)
    if problem:
        raise GraphError(f"cannot expand: {problem}")
    assert params is not None
    return ExpandToScalarOps(node_id, params, slots)
