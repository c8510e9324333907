"""The computational graph's structure: nodes with an op, named input ports and attrs.

Every edit checks first and changes nothing when it fails, so a refused edit never leaves a
half-changed graph. `version` increases on every change so executors know to re-plan.

Every walk is iterative and linear in nodes + edges (100,000-deep chains are legal): one edit
searches only what the new wire reaches, and a bulk build (`connect_all`, used when loading)
checks acyclicity once for the whole graph.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from bpviz.engine.attrs import attr_problem, attrs_problems, copy_value
from bpviz.engine.errors import GraphError
from bpviz.engine.ops import REGISTRY, OpSpec

ID_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}\Z")


@dataclass(slots=True)
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


def find_cycle(inputs: Mapping[str, Iterable[str]]) -> list[str] | None:
    """One cycle of the graph given as node -> its sources (every source a key), or None.

    Kahn's algorithm removes every node not on or behind a cycle, in O(nodes + edges); only
    when some remain is a cycle named: walking from the first remaining node to a remaining
    source always closes a ring. The ring is in data-flow order (each node feeds the next,
    the last feeds the first)."""
    rank = {n: i for i, n in enumerate(inputs)}
    if all(rank[s] < r for n, r in rank.items() for s in inputs[n]):
        return None  # listed in an order where every source comes first: no cycle
    pending: dict[str, int] = {}
    consumers: dict[str, list[str]] = {n: [] for n in inputs}
    for node, srcs in inputs.items():
        count = 0
        for src in srcs:
            consumers[src].append(node)
            count += 1
        pending[node] = count
    ready = [n for n, c in pending.items() if c == 0]
    while ready:
        for dst in consumers[ready.pop()]:
            pending[dst] -= 1
            if pending[dst] == 0:
                ready.append(dst)
    left = next((n for n, c in pending.items() if c), None)
    if left is None:
        return None
    walk: list[str] = []
    seen: dict[str, int] = {}
    while left not in seen:
        seen[left] = len(walk)
        walk.append(left)
        left = next(s for s in inputs[left] if pending[s])
    ring = walk[seen[left] :]
    ring.reverse()
    return ring


class Graph:
    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.output: str | None = None
        self.version = 0
        # src -> {dst: number of dst's ports it feeds}; consumers in wiring order. None until
        # first needed (a loaded graph that is only run never needs it): see `_successors`
        self._succ: dict[str, dict[str, int]] | None = {}
        self._order: tuple[int, list[str]] | None = None  # (version, topological order)

    @classmethod
    def adopt(cls, nodes: dict[str, Node], output: str | None, in_order: bool) -> Graph:
        """A graph made of nodes that a validator has checked completely (ids, ops, attrs,
        ports, every source present, no cycle), taken as they are: no check and no copy, so
        a million-node file loads in seconds. `in_order`: every node's sources come before
        it in `nodes`, which is then the topological order."""
        graph = cls()
        graph.nodes = nodes
        graph.output = output
        graph.version = 1
        graph._succ = None
        if in_order:
            graph._order = (graph.version, list(nodes))
        return graph

    @property
    def _successors(self) -> dict[str, dict[str, int]]:
        succ = self._succ
        if succ is None:
            succ = {nid: {} for nid in self.nodes}
            for node in self.nodes.values():
                for src in node.inputs.values():
                    into = succ[src]
                    into[node.id] = into.get(node.id, 0) + 1
            self._succ = succ
        return succ

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
            for dst in self._successors[node_id]
            for port, src in self.nodes[dst].inputs.items()
            if src == node_id
        ]

    def topological_order(self) -> list[str]:
        """Deterministic: ties broken by insertion order, so steps replay identically.

        Of the nodes whose sources are all placed, the earliest inserted goes next. When the
        insertion order already has every source before its consumers (as files and editing
        usually leave it), that is the insertion order itself, found in one linear scan."""
        if self._order is not None and self._order[0] == self.version:
            return list(self._order[1])
        rank = {nid: i for i, nid in enumerate(self.nodes)}
        nodes = self.nodes
        if all(rank[s] < rank[n.id] for n in nodes.values() for s in n.inputs.values()):
            order = list(nodes)
        else:  # Kahn's algorithm over positions, the ready nodes in a heap by position
            ids = list(nodes)
            pending = [len(n.inputs) for n in nodes.values()]
            feeds: list[list[int]] = [[] for _ in ids]  # per position: consumers, per port
            for r, n in enumerate(nodes.values()):
                for src in n.inputs.values():
                    feeds[rank[src]].append(r)
            heap = [r for r, count in enumerate(pending) if count == 0]  # sorted: a heap
            order = []
            pop, push = heapq.heappop, heapq.heappush
            while heap:
                r = pop(heap)
                order.append(ids[r])
                for dst in feeds[r]:
                    pending[dst] -= 1
                    if pending[dst] == 0:
                        push(heap, dst)
        self._order = (self.version, order)
        return list(order)

    def ancestors(self, node_id: str) -> set[str]:
        """Every node `node_id` depends on: the nodes a backward pass from it reaches."""
        seen: set[str] = set()
        todo = list(self.node(node_id).inputs.values())
        while todo:
            nid = todo.pop()
            if nid not in seen:
                seen.add(nid)
                todo.extend(self.nodes[nid].inputs.values())
        return seen

    def _reaches(self, start: str, goal: str) -> bool:
        """Whether a path of wires leads from `start` to `goal` (searching forward)."""
        seen = {start}
        todo = [start]
        while todo:
            for dst in self._successors[todo.pop()]:
                if dst == goal:
                    return True
                if dst not in seen:
                    seen.add(dst)
                    todo.append(dst)
        return False

    def missing_inputs(self, node_id: str) -> list[str]:
        node = self.node(node_id)
        return [p for p in node.spec.inputs if p not in node.inputs]

    def connect_problem(self, src: str, dst: str, port: str, replacing: bool = False) -> str | None:
        """Why src -> dst.port cannot be made, or None if it can (the UI shows this reason).

        With `replacing`, an occupied port is fine: the caller will swap its edge out."""
        problem = self._wire_problem(src, dst, port, replacing)
        if problem is None and self._reaches(dst, src):
            return f"connecting '{src}' to '{dst}.{port}' would close a cycle"
        return problem

    def _wire_problem(self, src: str, dst: str, port: str, replacing: bool) -> str | None:
        """Every reason but a cycle: those need a search, done per edit or once per build."""
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
        self._successors[node_id] = {}
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
        node = self.node(node_id)
        for edge in self.consumers(node_id):
            del self.nodes[edge.dst].inputs[edge.port]
        for src in set(node.inputs.values()):
            del self._successors[src][node_id]
        del self.nodes[node_id]
        del self._successors[node_id]
        if self.output == node_id:
            self.output = None
        self.version += 1

    def add_checked_node(self, node_id: str, op: str, attrs: dict[str, Any]) -> None:
        """Append a node whose id, op and attrs a validator has already checked (bulk loading
        at scale); `attrs` is kept as given, so pass a dict no one else holds."""
        self.nodes[node_id] = Node(node_id, op, {}, attrs)
        self._successors[node_id] = {}
        self.version += 1

    def connect(self, src: str, dst: str, port: str) -> None:
        problem = self.connect_problem(src, dst, port)
        if problem:
            raise GraphError(problem)
        self._wire(src, dst, port)
        self.version += 1

    def connect_all(self, edges: Iterable[tuple[str, str, str]]) -> None:
        """Make many (src, dst, port) wires at once, checking acyclicity once at the end
        (linear, where one `connect` per wire searches the graph each time). All or nothing:
        on any problem no wire is made and GraphError names the first one, or a cycle."""
        made: list[tuple[str, str, str]] = []
        try:
            for src, dst, port in edges:
                problem = self._wire_problem(src, dst, port, replacing=False)
                if problem:
                    raise GraphError(problem)
                self._wire(src, dst, port)
                made.append((src, dst, port))
            ring = find_cycle({nid: n.inputs.values() for nid, n in self.nodes.items()})
            if ring is not None:
                rank = {nid: i for i, nid in enumerate(self.nodes)}
                start = min(range(len(ring)), key=lambda k: rank[ring[k]])
                ring = ring[start:] + ring[:start]
                path = " -> ".join(f"'{n}'" for n in [*ring, ring[0]])
                raise GraphError(f"these wires would close a cycle {path}")
        except GraphError:
            for _src, dst, port in reversed(made):
                self._unwire(dst, port)
            raise
        finally:
            self.version += 1

    # both read the successors before changing an input: built lazily from the inputs,
    # they would otherwise already hold the change and count it twice (or miss it)
    def _wire(self, src: str, dst: str, port: str) -> None:
        succ = self._successors[src]
        self.nodes[dst].inputs[port] = src
        succ[dst] = succ.get(dst, 0) + 1

    def _unwire(self, dst: str, port: str) -> str:
        successors = self._successors
        src = self.nodes[dst].inputs.pop(port)
        succ = successors[src]
        succ[dst] -= 1
        if not succ[dst]:
            del succ[dst]
        return src

    def disconnect(self, dst: str, port: str) -> str:
        """Remove the edge into dst.port; returns the source it came from."""
        node = self.node(dst)
        if port not in node.inputs:
            raise GraphError(f"input '{dst}.{port}' is not connected")
        src = self._unwire(dst, port)
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
        other._succ = {nid: dict(succ) for nid, succ in self._successors.items()}
        other.output = self.output
        return other
