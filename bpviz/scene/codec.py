"""The scene file's encoding, defined once: the format name and version, the header, how a
node is written as a dict, how a whole scene dict is laid out, and how checked node dicts
become an engine `Graph`.

The loader (`scene.document`), the editable document (`model.document`) and the clipboard all
read and write scenes through these functions, so the three can never disagree about what a
scene file looks like.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bpviz.engine.attrs import copy_value
from bpviz.engine.errors import BpvizError
from bpviz.engine.graph import Graph, Node
from bpviz.engine.ops import REGISTRY
from bpviz.scene.errors import SceneError, join_place

FORMAT = "bpviz-scene"
CURRENT_VERSION = 1

NodeDict = dict[str, Any]


def header() -> dict[str, Any]:
    """The first two keys of every scene file (and clipboard fragment)."""
    return {"format": FORMAT, "version": CURRENT_VERSION}


def node_entry(
    node_id: str, op: str, inputs: Mapping[str, str], attrs: Mapping[str, Any], pos: Any
) -> NodeDict:
    """One node as a scene file writes it: every key present, ports and attrs in the op's
    order (so the text is deterministic), null attrs left out (null means the default),
    attrs copied (so the dict never shares a list with a live graph), `pos` as two floats —
    or no `pos` at all when it is None (a file without one is laid out when opened)."""
    spec = REGISTRY[op]
    entry = {
        "id": node_id,
        "op": op,
        "inputs": {p: inputs[p] for p in spec.inputs if p in inputs},
        "attrs": {k: copy_value(attrs[k]) for k in spec.attrs if attrs.get(k) is not None},
    }
    if pos is not None:
        x, y = pos
        entry["pos"] = [float(x), float(y)]
    return entry


def node_dict(node: Node, pos: Any = (0.0, 0.0)) -> NodeDict:
    """An engine graph node at `pos` (None: no position), as a scene file writes it."""
    return node_entry(node.id, node.op, node.inputs, node.attrs, pos)


def scene_dict(
    *,
    output: str | None,
    nodes: Iterable[NodeDict],
    name: str | None = None,
    description: str | None = None,
    data: Mapping[str, Any] | None = None,
    training: Mapping[str, Any] | None = None,
    state: Mapping[str, Any] | None = None,
    with_state: bool = True,
) -> dict[str, Any]:
    """A whole scene dict in the file's key order; name and description only when set,
    `state` (even when None) unless `with_state` is False. Data and training are copied;
    `state` is taken as it is (it can be large: the caller hands over a fresh one)."""
    d = header()
    if name is not None:
        d["name"] = name
    if description is not None:
        d["description"] = description
    d["output"] = output
    d["nodes"] = list(nodes)
    d["data"] = copy_value(data)
    d["training"] = copy_value(training)
    if with_state:
        d["state"] = state
    return d


def positions(nodes: Iterable[NodeDict]) -> dict[str, tuple[float, float]]:
    """Node id -> (x, y) of checked node dicts that have a position."""
    return {n["id"]: (float(n["pos"][0]), float(n["pos"][1])) for n in nodes if "pos" in n}


def build_graph(
    nodes: list[NodeDict], output: str | None, graph: Graph | None = None, *, checked: bool = False
) -> Graph:
    """The engine graph for node dicts (nodes first, then every wire at once: a file may list
    a node before its sources, and acyclicity is checked once for the whole graph). With
    `checked`, the scene validator has checked ids, ops and attrs already and they are not
    checked again (a million-node file loads in seconds). A failure here is a bug in the
    checks that ran before, but it still names the place in the file."""
    graph = Graph() if graph is None else graph
    place: tuple[Any, ...] = ("output",)
    try:
        for i, node in enumerate(nodes):
            if checked:
                graph.add_checked_node(node["id"], node["op"], dict(node.get("attrs") or {}))
            else:
                place = ("nodes", i)
                graph.add_node(node["id"], node["op"], node.get("attrs"))
        place = ("nodes",)
        graph.connect_all(
            (src, node["id"], port)
            for node in nodes
            for port, src in (node.get("inputs") or {}).items()
        )
        place = ("output",)
        graph.set_output(output)
    except BpvizError as e:
        raise SceneError(str(e), join_place(place)) from e
    return graph
