"""Network-shape edits in one step each: splice a node into a wire, insert a dense layer
after a node, step a dense layer's units. Built from the plain commands, so undo is exact."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from bpviz.engine.errors import GraphError
from bpviz.engine.graph import Edge
from bpviz.engine.ops import REGISTRY
from bpviz.model.commands import AddNode, Command, Connect, Disconnect, SetAttr, _PlannedCommand
from bpviz.model.document import Document, Pos

LAYER_UNITS = 4  # a new hidden layer after a node that is not itself a dense layer
LAYER_ACTIVATION = "tanh"
LAYER_OFFSET = (150.0, 80.0)  # where an inserted layer appears, relative to its source


def splice_problem(doc: Document, op: str, edge: Edge, port: str | None = None) -> str | None:
    """Why a new `op` node cannot be dropped onto `edge`, or None if it can."""
    spec = REGISTRY.get(op)
    if spec is None:
        return f"unknown op '{op}'"
    if not spec.inputs:
        return f"'{op}' has no input to take the wire"
    if port is not None and port not in spec.inputs:
        return f"op '{op}' has no input '{port}' (inputs: {', '.join(spec.inputs)})"
    if edge.dst not in doc or doc.node(edge.dst).inputs.get(edge.port) != edge.src:
        return f"there is no wire {edge.src} → {edge.dst}.{edge.port}"
    return None


class SpliceNode(_PlannedCommand):
    """Add a node in the middle of a wire src → dst.port: src feeds the node's `port` (its
    first input by default) and the node feeds dst.port. One undo step."""

    def __init__(
        self,
        node_id: str,
        op: str,
        edge: Edge,
        attrs: Mapping[str, Any] | None = None,
        pos: Pos = (0.0, 0.0),
        port: str | None = None,
    ) -> None:
        self.text = f"Insert {op} into {edge.src} → {edge.dst}"
        self.node_id, self.op, self.edge = node_id, op, edge
        self.attrs = copy.deepcopy(dict(attrs or {}))
        self.pos, self.port = pos, port

    def _plan(self, doc: Document) -> list[Command]:
        problem = splice_problem(doc, self.op, self.edge, self.port)
        if problem:
            raise GraphError(problem)
        e = self.edge
        port = self.port or REGISTRY[self.op].inputs[0]
        return [
            AddNode(self.node_id, self.op, self.attrs, self.pos),
            Disconnect(e.src, e.dst, e.port),
            Connect(e.src, self.node_id, port),
            Connect(self.node_id, e.dst, e.port),
        ]


class InsertLayerAfter(_PlannedCommand):
    """A dense layer fed by `node_id` that takes over all of its consumers. After a dense
    layer it copies its units and activation (so everything downstream still fits); after
    anything else it is a LAYER_UNITS-unit LAYER_ACTIVATION layer. `node_id`'s own output
    mark stays where it is."""

    def __init__(
        self,
        node_id: str,
        new_id: str | None = None,
        units: int | None = None,
        activation: str | None = None,
        pos: Pos | None = None,
    ) -> None:
        self.text = f"Insert layer after {node_id}"
        self.node_id, self.new_id = node_id, new_id
        self.units, self.activation, self.pos = units, activation, pos
        self.layer_id: str | None = None  # the new layer's id, once done

    def _plan(self, doc: Document) -> list[Command]:
        node = doc.node(self.node_id)
        dense = node.op == "dense"
        units = self.units or (node.attrs.get("units", 1) if dense else LAYER_UNITS)
        act = self.activation or (
            node.attrs.get("activation", "none") if dense else LAYER_ACTIVATION
        )
        new_id = self.new_id or self.layer_id or doc.unique_id("dense")
        x, y = doc.pos(self.node_id)
        pos = self.pos or (x + LAYER_OFFSET[0], y + LAYER_OFFSET[1])
        steps: list[Command] = [
            AddNode(new_id, "dense", {"units": units, "activation": act}, pos),
            Connect(self.node_id, new_id, "x"),
        ]
        for e in doc.consumers(self.node_id):
            steps += [Disconnect(e.src, e.dst, e.port), Connect(new_id, e.dst, e.port)]
        self.layer_id = new_id
        return steps


def change_units(doc: Document, node_id: str, delta: int) -> SetAttr:
    """The edit for a dense layer's ± buttons: units + delta, at least 1."""
    node = doc.node(node_id)
    if node.op != "dense":
        raise GraphError(f"node '{node_id}' is a {node.op}, not a dense layer")
    return SetAttr(node_id, "units", max(1, int(node.attrs.get("units", 1)) + delta))
