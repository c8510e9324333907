"""What a well-typed scene must also mean: unique ids, known ops and ports, existing sources,
no cycles, sensible attrs and an output (the codec then builds the engine `Graph`).

Every check names the file place, so these run before `Graph` (whose own errors know node ids
but not where in the file a node sits). The order is fixed so the same file always reports
the same first problem.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from bpviz.engine.attrs import attr_problem
from bpviz.engine.graph import ID_PATTERN, find_cycle
from bpviz.engine.ops import REGISTRY, AttrSpec, OpSpec
from bpviz.scene.codec import node_entry
from bpviz.scene.errors import SceneError, describe, join_place
from bpviz.scene.schema import NodeModel, SceneModel

MAX_UNIFORM_RANGE = 1e300  # numpy's uniform(-R, R) overflows near 9e307


def node_place(index: int, *rest: Any) -> str:
    return join_place(("nodes", index, *rest))


def check_ids(nodes: list[NodeModel]) -> dict[str, int]:
    """Node id -> position in the file; refuses malformed and repeated ids."""
    index: dict[str, int] = {}
    for i, node in enumerate(nodes):
        check_id(node.id, i, index)
    return index


def check_id(node_id: str, i: int, index: dict[str, int]) -> None:
    """The id of nodes[i], well formed and not in `index` (the ids before it), added to it."""
    if not ID_PATTERN.fullmatch(node_id):
        raise SceneError(
            f"invalid id {describe(node_id)} (1 to 64 letters, digits, _ . -;"
            " starting with a letter or _)",
            node_place(i, "id"),
        )
    if node_id in index:
        raise SceneError(
            f"duplicate id '{node_id}' (already used by nodes[{index[node_id]}])",
            node_place(i, "id"),
        )
    index[node_id] = i


def op_of(node: NodeModel, i: int) -> OpSpec:
    spec = REGISTRY.get(node.op)
    if spec is None:
        known = ", ".join(sorted(REGISTRY))
        raise SceneError(f"unknown op {describe(node.op)} (known: {known})", node_place(i, "op"))
    return spec


def attr_value_problem(spec: AttrSpec, value: Any) -> str | None:
    """The engine's check, made total: huge integers or odd nesting are problems, not crashes."""
    try:
        problem = attr_problem(spec, value)
        if problem is None and spec.kind == "init" and isinstance(value, Mapping):
            r = float(value["uniform"])
            if not (math.isfinite(r) and r <= MAX_UNIFORM_RANGE):
                limit = f"{MAX_UNIFORM_RANGE:g}"
                return f"uniform range must be a finite number up to {limit}, got {describe(r)}"
    except (OverflowError, ValueError, TypeError, RecursionError):
        return f"not a usable value: {describe(value)}"
    return problem


def check_attrs(node: NodeModel, spec: OpSpec, i: int) -> None:
    """Unknown names, then each attr in the op's order; null means 'the default' unless the
    attr is required."""
    for name in node.attrs:
        if name not in spec.attrs:
            known = ", ".join(spec.attrs) or "none"
            raise SceneError(
                f"op '{spec.name}' has no attribute '{name}' (attributes: {known})",
                node_place(i, "attrs", name),
            )
    if not node.attrs:
        return  # every default is valid (tests/engine check each op's)
    for name, attr in spec.attrs.items():
        problem = attr_value_problem(attr, node.attrs.get(name, attr.default))
        if problem:
            raise SceneError(problem, node_place(i, "attrs", name))


def check_inputs(node: NodeModel, spec: OpSpec, i: int, ids: Mapping[str, int], complete: bool):
    """Every wired port exists and its source is a node; with `complete`, every port is wired."""
    for port, src in node.inputs.items():
        if port not in spec.inputs:
            ports = ", ".join(spec.inputs)
            has = f"inputs: {ports}" if ports else "it has no inputs"
            raise SceneError(
                f"op '{spec.name}' has no input '{port}' ({has})", node_place(i, "inputs", port)
            )
        if src not in ids:
            raise SceneError(f"no node '{src}'", node_place(i, "inputs", port))
    if complete:
        for port in spec.inputs:
            if port not in node.inputs:
                raise SceneError(
                    f"missing input '{port}' of op '{spec.name}'", node_place(i, "inputs")
                )


def check_node(node: NodeModel, i: int, ids: Mapping[str, int], complete: bool) -> None:
    """Op, attrs and inputs of nodes[i], given every node's id."""
    spec = op_of(node, i)
    check_attrs(node, spec, i)
    check_inputs(node, spec, i, ids, complete)


def check_acyclic(inputs: Mapping[str, Mapping[str, str]], ids: Mapping[str, int]) -> None:
    """Names every node of one cycle, starting from the one listed first in the file.
    `inputs`: node id -> its port -> source id.

    One linear pass over the whole graph; a cycle is looked for only when one exists."""
    ring = find_cycle({nid: wired.values() for nid, wired in inputs.items()})
    if ring is None:
        return
    start = min(range(len(ring)), key=lambda k: ids[ring[k]])
    ring = ring[start:] + ring[:start]
    port = next(p for p, src in inputs[ring[0]].items() if src == ring[-1])
    path = " -> ".join(f"'{n}'" for n in [*ring, ring[0]])
    raise SceneError(f"cycle {path}", node_place(ids[ring[0]], "inputs", port))


def check_output(output: str | None, ids: Mapping[str, int], complete: bool) -> None:
    if output is None:
        if complete and ids:
            raise SceneError("required: the id of the node whose value is the result", "output")
    elif output not in ids:
        raise SceneError(f"no node {describe(output)}", "output")


def check_graph(scene: SceneModel, complete: bool) -> dict[str, int]:
    """All meaning checks on nodes and output; returns node id -> file index."""
    ids = check_ids(scene.nodes)
    for i, node in enumerate(scene.nodes):
        check_node(node, i, ids, complete)
    check_acyclic({node.id: node.inputs for node in scene.nodes}, ids)
    check_output(scene.output, ids, complete)
    return ids


def normal_nodes(scene: SceneModel) -> list[dict[str, Any]]:
    """Node dicts as the codec writes them (every key present, ports and attrs in the op's
    order, null attrs dropped: null means the default, as in the editor)."""
    return [node_entry(n.id, n.op, n.inputs, n.attrs, n.pos) for n in scene.nodes]
