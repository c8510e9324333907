"""Graph walks are iterative and linear: 100,000-deep chains load, plan, run and export, and a
bulk build checks acyclicity once."""

from __future__ import annotations

import numpy as np
import pytest

from bpviz.engine.errors import GraphError
from bpviz.engine.graph import Graph, find_cycle
from bpviz.export.common import snapshot
from bpviz.export.numpy_target import numpy_source
from bpviz.scene.document import parse_scene

DEPTH = 100_000


def deep_chain_scene(depth: int = DEPTH) -> dict:
    """x -> neg -> neg -> ... -> dense(2) -> sum, listed output first (the file order that
    needs a real topological sort): a chain as deep as `depth` feeding a layer whose
    parameter shapes depend on everything upstream (what once needed recursion)."""
    ids = ["x", *(f"n{i}" for i in range(depth)), "d", "s"]
    ops = {"x": "const", "d": "dense", "s": "sum"}
    attrs = {"x": {"value": [0.5, -1.5]}, "d": {"units": 2}}
    nodes = [
        {"id": b, "op": ops.get(b, "neg"), "inputs": {"x": a}, "attrs": attrs.get(b, {})}
        for a, b in zip(ids, ids[1:], strict=False)
    ]
    nodes.append({"id": "x", "op": "const", "attrs": attrs["x"]})
    nodes.reverse()  # consumers before their sources
    nodes.insert(0, nodes.pop())
    return {"format": "bpviz-scene", "version": 1, "output": "s", "nodes": nodes}


def test_a_100k_deep_chain_loads_runs_and_exports() -> None:
    scene = parse_scene(deep_chain_scene())
    order = scene.graph.topological_order()
    assert order[:2] == ["x", "n0"] and order[-2:] == ["d", "s"]
    out = scene.forward()
    scene.backward()
    sign = 1.0 if DEPTH % 2 == 0 else -1.0
    x = sign * np.array([0.5, -1.5])  # an even number of negations gives x back
    W, b = scene.param("d", "W"), scene.param("d", "b")
    assert out == float(np.sum(x.dot(W) + b))
    np.testing.assert_array_equal(scene.grad("x"), sign * W.sum(axis=1))
    assert len(scene.graph.ancestors("s")) == DEPTH + 2
    code = numpy_source(snapshot(scene))
    assert code.count("\n    # n") == 2 * DEPTH  # a forward and a backward block per neg
    assert code.index("# n0: neg — ") > code.index(f"# n{DEPTH - 1}: neg — ")


def test_connect_all_refuses_a_cycle_and_makes_no_wire() -> None:
    g = Graph()
    for nid in ("a", "b", "c"):
        g.add_node(nid, "neg")
    with pytest.raises(GraphError, match="cycle 'a' -> 'b' -> 'c' -> 'a'"):
        g.connect_all([("a", "b", "x"), ("b", "c", "x"), ("c", "a", "x")])
    assert [n.inputs for n in g] == [{}, {}, {}]
    assert g.consumers("a") == []
    with pytest.raises(GraphError, match="already connected"):
        g.connect_all([("a", "b", "x"), ("c", "b", "x")])
    assert g.nodes["b"].inputs == {}
    g.connect_all([("a", "b", "x"), ("b", "c", "x")])
    assert g.connect_problem("c", "a", "x") == "connecting 'c' to 'a.x' would close a cycle"


def test_find_cycle_names_a_ring_only_when_there_is_one() -> None:
    assert find_cycle({"a": [], "b": ["a"], "c": ["a", "b"]}) is None
    # d feeds e feeds f feeds d; g hangs off the ring and is not part of it
    ring = find_cycle({"g": ["f"], "d": ["f"], "e": ["d"], "f": ["e"]})
    assert ring == ["d", "e", "f"]
    assert find_cycle({"s": ["s"]}) == ["s"]


def test_topological_order_breaks_ties_by_insertion_order() -> None:
    g = Graph()
    for nid in ("out", "b", "a", "c"):
        g.add_node(nid, "add" if nid == "out" else "neg" if nid == "c" else "const")
    g.connect_all([("b", "out", "a"), ("c", "out", "b"), ("a", "c", "x")])
    assert g.topological_order() == ["b", "a", "c", "out"]
