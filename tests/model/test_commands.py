"""Every command: redo, undo back to exactly the saved dict before, redo again identically."""

from __future__ import annotations

import pytest

from bpviz.engine.errors import GraphError
from bpviz.model import (
    AddNode,
    Compound,
    Connect,
    Disconnect,
    MoveNodes,
    RemoveNodes,
    ReplaceConnection,
    SetAttr,
    SetOutput,
)
from tests.model.helpers import STATE, SignalLog, assert_exact_undo, saved


def ids(scene: dict) -> list[str]:
    return [n["id"] for n in scene["nodes"]]


def inputs_of(scene: dict, node_id: str) -> dict[str, str]:
    return next(n["inputs"] for n in scene["nodes"] if n["id"] == node_id)


def test_add_node_at_index(doc):
    after = assert_exact_undo(doc, AddNode("t1", "tanh", None, (10, 20), index=2))
    assert ids(after) == ["x", "w", "t1", "m", "s", "y"]
    assert after["state"] is None
    assert after["nodes"][2]["pos"] == [10.0, 20.0]


def test_add_node_signals(doc, log):
    cmd = AddNode("d1", "dense", {"units": 3})
    cmd.redo(doc)
    cmd.undo(doc)
    assert log.named("node_added", "node_removed", "state_changed") == [
        ("node_added", "d1"),
        ("state_changed", None),
        ("node_removed", "d1"),
        ("state_changed", STATE),
    ]


def test_remove_middle_node_returns_at_same_index_with_all_edges(doc):
    edges_before = doc.edges()
    cmd = RemoveNodes(["m"])
    after = assert_exact_undo(doc, cmd)
    assert ids(after) == ["x", "w", "s", "y"]
    assert "a" not in inputs_of(after, "s")
    cmd.undo(doc)
    assert doc.node_index("m") == 2
    assert doc.edges() == edges_before
    assert doc.state == STATE


def test_remove_many_nodes_and_the_output(doc):
    cmd = RemoveNodes(["y", "x", "m"])
    assert cmd.text == "Delete 3 nodes"
    after = assert_exact_undo(doc, cmd)
    assert ids(after) == ["w", "s"]
    assert after["output"] is None
    assert inputs_of(after, "s") == {}


def test_remove_signals(doc, log):
    RemoveNodes(["x"]).redo(doc)
    assert log.named("edge_removed", "node_removed") == [
        ("edge_removed", "x", "m", "b"),
        ("edge_removed", "x", "s", "b"),
        ("node_removed", "x"),
    ]


def test_connect(doc):
    doc.disconnect("s", "a")
    cmd = Connect("w", "s", "a")
    assert cmd.text == "Connect w → s.a"
    after = assert_exact_undo(doc, cmd)
    assert inputs_of(after, "s") == {"a": "w", "b": "x"}


def test_disconnect_restores_state(doc, log):
    after = assert_exact_undo(doc, Disconnect("x", "m", "b"))
    assert inputs_of(after, "m") == {"a": "w"}
    assert after["state"] is None
    assert log.named("edge_removed")[0] == ("edge_removed", "x", "m", "b")
    assert log.named("edge_added")[0] == ("edge_added", "x", "m", "b")


def test_disconnect_wrong_source_is_refused(doc):
    before = saved(doc)
    with pytest.raises(GraphError, match="fed by 'w'"):
        Disconnect("x", "m", "a").redo(doc)
    assert saved(doc) == before


def test_replace_connection(doc, log):
    cmd = ReplaceConnection("x", "y", "x")
    after = assert_exact_undo(doc, cmd)
    assert inputs_of(after, "y") == {"x": "x"}
    log.clear()
    cmd.undo(doc)
    assert log.named("edge_removed", "edge_added") == [
        ("edge_removed", "x", "y", "x"),
        ("edge_added", "s", "y", "x"),
    ]


def test_replace_connection_onto_free_input(doc):
    doc.disconnect("s", "a")
    after = assert_exact_undo(doc, ReplaceConnection("w", "s", "a"))
    assert inputs_of(after, "s")["a"] == "w"


def test_replace_connection_that_would_cycle_changes_nothing(doc, log):
    before = saved(doc)
    with pytest.raises(GraphError, match="cycle"):
        ReplaceConnection("y", "m", "a").redo(doc)
    assert saved(doc) == before


def test_move_nodes_one_command(doc, log):
    cmd = MoveNodes({"x": (1, 2), "w": (3, 4)})
    assert cmd.text == "Move 2 nodes"
    after = assert_exact_undo(doc, cmd)
    assert after["nodes"][0]["pos"] == [1.0, 2.0]
    assert after["state"] == STATE
    assert ("node_moved", "w", (3.0, 4.0)) in log


def test_move_nodes_with_old_positions_given(doc):
    doc.move_node("x", (50, 50))  # a view that moved the document live while dragging
    cmd = MoveNodes({"x": (50, 50)}, old={"x": (0, 0)})
    cmd.redo(doc)
    cmd.undo(doc)
    assert doc.pos("x") == (0.0, 0.0)


def test_move_unknown_node_changes_nothing(doc):
    before = saved(doc)
    with pytest.raises(GraphError):
        MoveNodes({"x": (9, 9), "ghost": (1, 1)}).redo(doc)
    assert saved(doc) == before


def test_set_attr_existing_value(mlp_doc):
    cmd = SetAttr("h", "units", 8)
    assert cmd.text == "Change units of h"
    after = assert_exact_undo(mlp_doc, cmd)
    assert after["nodes"][2]["attrs"] == {"units": 8, "activation": "tanh"}


def test_set_attr_that_was_absent_is_absent_again(mlp_doc):
    after = assert_exact_undo(mlp_doc, SetAttr("out", "init", "he"))
    assert after["nodes"][3]["attrs"] == {"units": 1, "init": "he"}


def test_reset_attr_comes_back_in_its_place(mlp_doc):
    after = assert_exact_undo(mlp_doc, SetAttr("h", "units", None))
    assert after["nodes"][2]["attrs"] == {"activation": "tanh"}


def test_set_attr_signals_and_state(doc, log):
    cmd = SetAttr("x", "value", 2.5)
    cmd.redo(doc)
    cmd.undo(doc)
    assert log.named("attr_changed") == [
        ("attr_changed", "x", "value", 2.5),
        ("attr_changed", "x", "value", 0.7),
    ]
    assert doc.state == STATE


def test_set_attr_invalid_changes_nothing(mlp_doc):
    before = saved(mlp_doc)
    with pytest.raises(GraphError):
        SetAttr("h", "units", -1).redo(mlp_doc)
    assert saved(mlp_doc) == before


def test_set_output(doc, log):
    after = assert_exact_undo(doc, SetOutput("s"))
    assert after["output"] == "s"
    assert after["state"] == STATE
    assert log.named("output_changed")[:2] == [("output_changed", "s"), ("output_changed", "y")]
    assert_exact_undo(doc, SetOutput(None))


def test_compound_redoes_in_order_and_undoes_in_reverse(doc):
    cmd = Compound(
        "Insert relu",
        [
            Disconnect("s", "y", "x"),
            AddNode("r1", "relu", pos=(500, 0)),
            Connect("s", "r1", "x"),
            Connect("r1", "y", "x"),
        ],
    )
    after = assert_exact_undo(doc, cmd)
    assert inputs_of(after, "y") == {"x": "r1"}


def test_compound_failure_rolls_back(doc):
    before = saved(doc)
    log = SignalLog(doc)
    cmd = Compound("bad", [AddNode("r1", "relu"), Connect("r1", "ghost", "x")])
    with pytest.raises(GraphError):
        cmd.redo(doc)
    assert saved(doc) == before
    assert log.named("node_added", "node_removed") == [
        ("node_added", "r1"),
        ("node_removed", "r1"),
    ]


@pytest.mark.parametrize(
    ("cmd", "text"),
    [
        (AddNode("t", "tanh"), "Add tanh"),
        (RemoveNodes(["m"]), "Delete m"),
        (Disconnect("x", "m", "b"), "Disconnect x → m.b"),
        (ReplaceConnection("x", "y", "x"), "Reconnect y.x to x"),
        (MoveNodes({"x": (0, 0)}), "Move x"),
        (SetAttr("x", "value", None), "Reset value of x"),
        (SetOutput("m"), "Set output to m"),
        (SetOutput(None), "Clear output"),
    ],
)
def test_labels(cmd, text):
    assert cmd.text == text
