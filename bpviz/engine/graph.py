"""The computational graph's structure: nodes with an op, named input ports and attrs.

Every edit checks first and changes nothing when it fails, so a refused edit never leaves a
half-changed graph. `version` increases on every change so executors know to re-plan.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from bpviz.engine.attrs import attr_problem, attrs_problems, copy_value
from bpviz.engine.errors import GraphError
from bpviz.engine.ops import REGISTRY, OpSpec

ID_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}\Z")


@dataclass
class Node:
    id: str
    op: str
    inputs: dict[str, str] = field(default_factory=dict)  # port -> source node id
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def spec(self) -> OpSpec:
        return REGISTRY[self.op]


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    port: str


class Graph:
    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.output: str | None = None
        self.version = 0
        self._nx = nx.DiGraph()

    # ---- queries -------------------------------------------------------------------------
    def __contains__(self, node_id: str) -> bool:
        return node_id in self.nodes

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes.values())

    def __len__(self) -> int:
        return len(self.nodes)

    def node(self, node_id: str) -> Node:
        try:
            return self.nodes[node_id]
        except KeyError:
            raise GraphError(f"no node '{node_id}'") from None

    def edges(self) -> list[Edge]:
        return [
            Edge(src, n.id, port) for n in self.nodes.values() for port, src in n.inputs.items()
        ]

    def consumers(self, node_id: str) -> list[Edge]:
        return [
            Edge(node_id, dst, port)
            for dst in self._nx.successors(node_id)
            for port, src in self.nodes[dst].inputs.items()
            if src == node_id
        ]

    def topological_order(self) -> list[str]:
        """Deterministic: ties broken by insertion order, so steps replay identically."""
        rank = {nid: i for i, nid in enumerate(self.nodes)}
        return list(nx.lexicographical_topological_sort(self._nx, key=rank.__getitem__))

    def ancestors(self, node_id: str) -> set[str]:
        """Every node `node_id` depends on: the nodes a backward pass from it reaches."""
        self.node(node_id)
        return nx.ancestors(self._nx, node_id)

    def missing_inputs(self, node_id: str) -> list[str]:
        node = self.node(node_id)
        return [p for p in node.spec.inputs if p not in node.inputs]

    def connect_problem(self, src: str, dst: str, port: str, replacing: bool = False) -> str | None:
        """Why src -> dst.port cannot be made, or None if it can (the UI shows this reason).

        With `replacing`, an occupied port is fine: the caller will swap its edge out."""
        if src not in self.nodes:
            return f"no node '{src}'"
        if dst not in self.nodes:
            return f"no node '{dst}'"
        node = self.nodes[dst]
        if port not in node.spec.inputs:
            ports = ", ".join(node.spec.inputs) or "none"
            return f"op '{node.op}' has no input '{port}' (inputs: {ports})"
        if port in node.inputs and not (replacing and node.inputs[port] != src):
            return f"input '{dst}.{port}' is already connected to '{node.inputs[port]}'"
        if src == dst:
            return f"a node cannot feed itself ('{src}')"
        if nx.has_path(self._nx, dst, src):
            return f"connecting '{src}' to '{dst}.{port}' would close a cycle"
        return None

    # ---- edits ---------------------------------------------------------------------------
    def add_node(
        self,
        node_id: str,
        op: str,
        attrs: Mapping[str, Any] | None = None,
        inputs: Mapping[str, str] | None = None,
        index: int | None = None,
    ) -> Node:
        """Add a node (at position `index` of the node order, default last) and its inputs."""
        if not isinstance(node_id, str) or not ID_PATTERN.match(node_id):
            raise GraphError(
                f"invalid node id {node_id!r} (letters, digits, _ . -; start with a letter)"
            )
        if node_id in self.nodes:
            raise GraphError(f"duplicate node id '{node_id}'")
        if op not in REGISTRY:
            raise GraphError(f"unknown op '{op}' (known: {', '.join(sorted(REGISTRY))})")
        # None means "use the default", as in set_attr; a stored None would hide the default
        attrs = {k: copy_value(v) for k, v in (attrs or {}).items() if v is not None}
        problems = attrs_problems(REGISTRY[op], attrs)
        if problems:
            name, problem = problems[0]
            raise GraphError(f"node '{node_id}': attrs.{name}: {problem}")
        node = Node(node_id, op, {}, attrs)
        if index is None or index >= len(self.nodes):
            self.nodes[node_id] = node
        else:
            items = list(self.nodes.items())
            items.insert(max(index, 0), (node_id, node))
            self.nodes = dict(items)
        self._nx.add_node(node_id)
        try:
            for port, src in (inputs or {}).items():
                self.connect(src, node_id, port)
        except GraphError:
            self.remove_node(node_id)
            raise
        self.version += 1
        return self.nodes[node_id]

    def remove_node(self, node_id: str) -> None:
        """Remove a node and every edge into or out of it."""
        self.node(node_id)
        for edge in self.consumers(node_id):
            del self.nodes[edge.dst].inputs[edge.port]
        del self.nodes[node_id]
        self._nx.remove_node(node_id)
        if self.output == node_id:
            self.output = None
        self.version += 1

    def connect(self, src: str, dst: str, port: str) -> None:
        problem = self.connect_problem(src, dst, port)
        if problem:
            raise GraphError(problem)
        self.nodes[dst].inputs[port] = src
        self._nx.add_edge(src, dst)
        self.version += 1

    def disconnect(self, dst: str, port: str) -> str:
        """Remove the edge into dst.port; returns the source it came from."""
        node = self.node(dst)
        if port not in node.inputs:
            raise GraphError(f"input '{dst}.{port}' is not connected")
        src = node.inputs.pop(port)
        if src not in node.inputs.values():
            self._nx.remove_edge(src, dst)
        self.version += 1
        return src

    def set_attr(self, node_id: str, name: str, value: Any) -> None:
        node = self.node(node_id)
        spec = node.spec.attrs.get(name)
        if spec is None:
            raise GraphError(f"node '{node_id}': op '{node.op}' has no attribute '{name}'")
        problem = attr_problem(spec, value)
        if problem:
            raise GraphError(f"node '{node_id}': attrs.{name}: {problem}")
        if value is None:
            node.attrs.pop(name, None)
        else:
            node.attrs[name] = copy_value(value)
        self.version += 1

    def set_output(self, node_id: str | None) -> None:
        if node_id is not None:
            self.node(node_id)
        self.output = node_id
        self.version += 1

    def copy(self) -> Graph:
        other = Graph()
        for n in self.nodes.values():
            other.nodes[n.id] = Node(n.id, n.op, dict(n.inputs), copy_value(n.attrs))
        other._nx = self._nx.copy()
        other.output = self.output
        return other
