from __future__ import annotations

import pytest

from bpviz.engine.errors import GraphError
from bpviz.engine.graph import Graph
from tests.engine.helpers import chain_graph


def snapshot(g: Graph) -> tuple:
    return [(n.id, n.op, dict(n.inputs), dict(n.attrs)) for n in g], g.output


@pytest.mark.parametrize(
    ("src", "dst", "port", "reason"),
    [
        ("nope", "y", "x", "no node 'nope'"),
        ("x", "nope", "a", "no node 'nope'"),
        ("x", "s", "c", "has no input 'c'"),
        ("w", "s", "a", "already connected"),
        ("y", "m", "a", "already connected"),
        ("y", "y", "x", "already connected"),
    ],
)
def test_bad_connections_are_refused_and_change_nothing(
    src: str, dst: str, port: str, reason: str
) -> None:
    g = chain_graph()
    before = snapshot(g)
    with pytest.raises(GraphError, match=reason):
        g.connect(src, dst, port)
    assert snapshot(g) == before


def test_cycle_and_self_loop_are_refused() -> None:
    g = chain_graph()
    g.disconnect("m", "a")
    with pytest.raises(GraphError, match="cycle"):
        g.connect("y", "m", "a")
    g.add_node("t", "tanh")
    with pytest.raises(GraphError, match="itself"):
        g.connect("t", "t", "x")
    assert g.connect_problem("w", "m", "a") is None


def test_add_node_validates_id_op_and_attrs() -> None:
    g = chain_graph()
    before = snapshot(g)
    for args, reason in [
        (("x", "const"), "duplicate"),
        (("9bad", "const"), "invalid node id"),
        (("z", "frobnicate"), "unknown op"),
        (("z", "dense", {"units": "four"}), "attrs.units: expected an integer"),
        (("z", "dense", {"units": 4, "colour": 1}), "attrs.colour: unknown"),
        (("z", "tanh", {}, {"x": "missing"}), "no node 'missing'"),
    ]:
        with pytest.raises(GraphError, match=reason):
            g.add_node(*args)
        assert snapshot(g) == before


def test_remove_node_drops_its_edges_and_output() -> None:
    g = chain_graph()
    g.remove_node("x")
    assert "x" not in g.nodes["m"].inputs.values()
    assert g.nodes["s"].inputs == {"a": "m"}
    g.remove_node("y")
    assert g.output is None


def test_same_source_on_two_ports_disconnects_cleanly() -> None:
    g = Graph()
    g.add_node("a", "const", {"value": 2.0})
    g.add_node("sq", "mul", inputs={"a": "a", "b": "a"})
    g.disconnect("sq", "a")
    assert g.consumers("a")[0].port == "b"
    g.disconnect("sq", "b")
    assert g.consumers("a") == []


def test_topological_order_is_deterministic() -> None:
    assert chain_graph().topological_order() == ["x", "w", "m", "s", "y"]


def test_copy_value_shares_no_list_or_dict() -> None:
    from bpviz.engine.attrs import copy_value

    value = {"a": [1.0, [2.0, {"b": [3]}]], "c": (4, 5), "d": "text"}
    copied = copy_value(value)
    assert copied == {"a": [1.0, [2.0, {"b": [3]}]], "c": [4, 5], "d": "text"}
    value["a"][1][1]["b"].append(9)
    value["a"].append(0)
    assert copied == {"a": [1.0, [2.0, {"b": [3]}]], "c": [4, 5], "d": "text"}


@pytest.mark.parametrize("first", ["disconnect", "connect"])
def test_an_adopted_graph_can_be_edited_at_once(first: str) -> None:
    """A loaded graph works out its consumers only when first asked; the first edit still
    counts each wire once (they used to be worked out after the edit: counted twice, or a
    KeyError on disconnecting)."""
    built = chain_graph()  # x feeds m (port b) and s (port b)
    g = Graph.adopt(built.nodes, built.output, in_order=True)

    def fed_by_x() -> list[tuple[str, str]]:
        return sorted((e.dst, e.port) for e in g.consumers("x"))

    if first == "disconnect":
        g.disconnect("m", "b")
        assert fed_by_x() == [("s", "b")]
        g.connect("x", "m", "b")
        assert fed_by_x() == [("m", "b"), ("s", "b")]
        g.remove_node("m")
        assert fed_by_x() == [("s", "b")]
    else:
        g.add_node("t", "tanh")
        g.connect("x", "t", "x")
        assert fed_by_x() == [("m", "b"), ("s", "b"), ("t", "x")]
        g.remove_node("m")
        g.remove_node("t")
        assert fed_by_x() == [("s", "b")]
