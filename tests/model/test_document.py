"""The document's mutators, signals, queries and scene dicts."""

from __future__ import annotations

import copy

import pytest

from bpviz.engine.errors import GraphError
from bpviz.model import Document
from tests.model.helpers import STATE, chain_scene, mlp_scene, saved


def test_scene_dict_round_trip_keeps_everything():
    for scene in (chain_scene(), mlp_scene()):
        assert Document.from_scene_dict(scene).to_scene_dict() == scene


def test_to_scene_dict_key_order_and_node_fields():
    d = Document()
    d.add_node("a", "const", {"value": 2.0}, (1, 2))
    scene = d.to_scene_dict()
    assert list(scene) == ["format", "version", "output", "nodes", "data", "training", "state"]
    assert scene["nodes"] == [
        {"id": "a", "op": "const", "inputs": {}, "attrs": {"value": 2.0}, "pos": [1.0, 2.0]}
    ]
    assert all(isinstance(v, float) for v in scene["nodes"][0]["pos"])


def test_to_scene_dict_is_a_copy(doc):
    scene = doc.to_scene_dict()
    scene["state"]["optimizer"]["step"] = 99
    scene["nodes"][0]["attrs"]["value"] = 5.0
    assert doc.state == STATE
    assert doc.node("x").attrs["value"] == 0.7


def test_from_scene_dict_does_not_alias_its_input():
    scene = chain_scene()
    d = Document.from_scene_dict(scene)
    scene["state"]["optimizer"]["step"] = 99
    assert d.state["optimizer"]["step"] == 7


def test_add_node_emits_and_drops_state(doc, log):
    doc.add_node("t1", "tanh", None, (5, 6), index=1)
    assert log == [("node_added", "t1"), ("state_changed", None), ("changed",)]
    assert doc.node_index("t1") == 1
    assert doc.pos("t1") == (5.0, 6.0)
    assert doc.state is None


def test_move_and_output_keep_state(doc, log):
    doc.move_node("x", (3, 4))
    doc.set_output("s")
    assert log == [
        ("node_moved", "x", (3.0, 4.0)),
        ("changed",),
        ("output_changed", "s"),
        ("changed",),
    ]
    assert doc.state == STATE


def test_connect_disconnect_signals(doc, log):
    assert doc.disconnect("y", "x") == "s"
    doc.connect("m", "y", "x")
    assert log.named("edge_added", "edge_removed") == [
        ("edge_removed", "s", "y", "x"),
        ("edge_added", "m", "y", "x"),
    ]
    assert log.named("changed") == [("changed",)] * 2


def test_set_attr_and_reset_to_default(doc, log):
    doc.set_attr("x", "value", [1.0, 2.0])
    assert doc.node("x").attrs["value"] == [1.0, 2.0]
    doc.set_attr("x", "value", None)  # required, but its default (1.0) is valid
    assert "value" not in doc.node("x").attrs
    assert log.named("attr_changed") == [
        ("attr_changed", "x", "value", [1.0, 2.0]),
        ("attr_changed", "x", "value", None),
    ]


def test_remove_node_refuses_while_connected(doc, log):
    before = saved(doc)
    with pytest.raises(GraphError, match="still has edges"):
        doc.remove_node("x")
    assert saved(doc) == before and log == []


def test_removing_the_output_clears_it(doc, log):
    doc.disconnect("y", "x")
    log.clear()
    doc.remove_node("y")
    assert doc.output is None
    assert log[:2] == [("node_removed", "y"), ("output_changed", None)]


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d.add_node("x", "tanh"),  # duplicate id
        lambda d: d.add_node("9bad", "tanh"),
        lambda d: d.add_node("n", "nope"),
        lambda d: d.add_node("n", "dense", {"units": 0}),
        lambda d: d.add_node("n", "tanh", pos=(float("nan"), 0)),
        lambda d: d.add_node("n", "tanh", pos="here"),
        lambda d: d.connect("y", "m", "a"),  # occupied
        lambda d: d.connect("y", "x", "a"),  # const has no inputs
        lambda d: d.connect("m", "m", "a"),
        lambda d: d.disconnect("m", "z"),
        lambda d: d.disconnect("x", "a"),
        lambda d: d.move_node("ghost", (0, 0)),
        lambda d: d.move_node("x", (0, float("inf"))),
        lambda d: d.set_attr("x", "value", "big"),
        lambda d: d.set_attr("x", "units", 3),
        lambda d: d.set_attr("ghost", "value", 1.0),
        lambda d: d.set_output("ghost"),
        lambda d: d.remove_node("ghost"),
    ],
)
def test_failed_edits_change_nothing(doc, log, edit):
    before = saved(doc)
    with pytest.raises(GraphError):
        edit(doc)
    assert saved(doc) == before
    assert log == []


def test_cycle_refused(doc):
    before = saved(doc)
    doc.disconnect("m", "a")
    with pytest.raises(GraphError, match="cycle"):
        doc.connect("y", "m", "a")
    doc.connect("w", "m", "a")
    doc.set_state(copy.deepcopy(STATE))
    assert saved(doc) == before


def test_queries(doc):
    assert list(doc.nodes) == ["x", "w", "m", "s", "y"]
    assert "x" in doc and "q" not in doc and len(doc) == 5
    assert doc.node_index("s") == 3
    assert {(e.src, e.dst, e.port) for e in doc.edges_of(["x"])} == {
        ("x", "m", "b"),
        ("x", "s", "b"),
    }
    assert doc.connect_problem("y", "m", "a") is not None
    with pytest.raises(TypeError):
        doc.nodes["q"] = doc.node("x")  # read-only view
    with pytest.raises(GraphError):
        doc.node_index("ghost")
    with pytest.raises(GraphError):
        doc.pos("ghost")


def test_unique_id(doc):
    assert doc.unique_id("tanh") == "tanh1"
    doc.add_node("tanh1", "tanh")
    assert doc.unique_id("tanh") == "tanh2"
    assert doc.unique_id("tanh", taken={"tanh2"}) == "tanh3"
    assert doc.unique_id("3d layer") == "n3d_layer1"


def _without_positions(scene: dict) -> dict:
    scene = copy.deepcopy(scene)
    for node in scene["nodes"]:
        node.pop("pos")
    return scene


def test_a_scene_without_positions_is_laid_out_left_to_right():
    """Through the path the window takes: file -> Scene -> dict -> Document."""
    from bpviz.scene import parse_scene

    scene = parse_scene(_without_positions(mlp_scene()), runnable=False)
    assert all("pos" not in n for n in scene.to_dict()["nodes"])  # absent stays absent
    d = Document.from_scene_dict(scene.to_dict())
    spots = [d.pos(n) for n in d.nodes]
    assert len(set(spots)) == len(spots)  # nothing hides under another node
    for e in d.edges():
        assert d.pos(e.src)[0] < d.pos(e.dst)[0]
    assert min(x for x, _ in spots) == 0.0


def test_one_node_without_a_position_lays_out_the_whole_graph():
    scene = mlp_scene()
    scene["nodes"][1].pop("pos")
    d = Document.from_scene_dict(scene)
    for e in d.edges():
        assert d.pos(e.src)[0] < d.pos(e.dst)[0]


def test_given_positions_are_kept():
    scene = mlp_scene()
    d = Document.from_scene_dict(scene)
    assert [list(d.pos(n["id"])) for n in scene["nodes"]] == [n["pos"] for n in scene["nodes"]]
