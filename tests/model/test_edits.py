"""Network-shape edits: splice into a wire, insert a layer after a node, step units."""

from __future__ import annotations

import re

import pytest

from bpviz.engine.errors import GraphError
from bpviz.engine.graph import Edge
from bpviz.model import Document, InsertLayerAfter, SpliceNode, change_units, splice_problem
from tests.model.helpers import assert_exact_undo, saved


def test_splice_puts_a_node_into_a_wire_in_one_step(mlp_doc: Document) -> None:
    cmd = SpliceNode("act", "relu", Edge("h", "out", "x"), pos=(25.0, 5.0))
    after = assert_exact_undo(mlp_doc, cmd)
    nodes = {n["id"]: n for n in after["nodes"]}
    assert nodes["act"]["inputs"] == {"x": "h"}
    assert nodes["out"]["inputs"] == {"x": "act"}
    assert nodes["act"]["pos"] == [25.0, 5.0]


def test_splice_into_a_chosen_port(mlp_doc: Document) -> None:
    assert_exact_undo(mlp_doc, SpliceNode("m", "mul", Edge("x", "h", "x"), port="b"))
    assert mlp_doc.node("m").inputs == {"b": "x"}  # 'a' is left for the person to wire
    assert mlp_doc.node("h").inputs == {"x": "m"}


@pytest.mark.parametrize(
    ("op", "edge", "port", "problem"),
    [
        ("const", Edge("h", "out", "x"), None, "'const' has no input to take the wire"),
        ("tanh", Edge("h", "out", "x"), "y", "op 'tanh' has no input 'y' (inputs: x)"),
        ("tanh", Edge("x", "out", "x"), None, "there is no wire x → out.x"),
        ("nope", Edge("h", "out", "x"), None, "unknown op 'nope'"),
    ],
)
def test_splice_refusals_change_nothing(
    mlp_doc: Document, op: str, edge: Edge, port: str | None, problem: str
) -> None:
    assert splice_problem(mlp_doc, op, edge, port) == problem
    before = saved(mlp_doc)
    with pytest.raises(GraphError, match=re.escape(problem)):
        SpliceNode("n1", op, edge, port=port).redo(mlp_doc)
    assert saved(mlp_doc) == before


def test_insert_layer_after_a_dense_layer_copies_it_and_takes_its_consumers(
    mlp_doc: Document,
) -> None:
    cmd = InsertLayerAfter("h")
    after = assert_exact_undo(mlp_doc, cmd)
    nodes = {n["id"]: n for n in after["nodes"]}
    assert cmd.layer_id == "dense1"
    assert nodes["dense1"]["attrs"] == {"units": 4, "activation": "tanh"}
    assert nodes["dense1"]["inputs"] == {"x": "h"}
    assert nodes["out"]["inputs"] == {"x": "dense1"}
    assert nodes["dense1"]["pos"] == [20.0 + 150.0, 0.0 + 80.0]


def test_insert_layer_after_the_input_is_a_hidden_layer(mlp_doc: Document) -> None:
    InsertLayerAfter("x", new_id="hid", units=8).redo(mlp_doc)
    assert mlp_doc.node("hid").attrs == {"units": 8, "activation": "tanh"}
    assert mlp_doc.node("h").inputs == {"x": "hid"}


def test_insert_layer_after_a_fan_out_rewires_every_consumer() -> None:
    doc = Document()
    doc.add_node("x", "input")
    doc.add_node("a", "tanh")
    doc.add_node("b", "mul")
    for dst, port in (("a", "x"), ("b", "a"), ("b", "b")):
        doc.connect("x", dst, port)
    assert_exact_undo(doc, InsertLayerAfter("x", activation="relu"))
    assert doc.node("a").inputs == {"x": "dense1"}
    assert doc.node("b").inputs == {"a": "dense1", "b": "dense1"}
    assert doc.node("dense1").attrs == {"units": 4, "activation": "relu"}


def test_units_step_up_and_down_but_not_below_one(mlp_doc: Document) -> None:
    after = assert_exact_undo(mlp_doc, change_units(mlp_doc, "h", +1))
    assert {n["id"]: n for n in after["nodes"]}["h"]["attrs"]["units"] == 5
    assert change_units(mlp_doc, "out", -1).value == 1
    with pytest.raises(GraphError, match="node 'x' is a input, not a dense layer"):
        change_units(mlp_doc, "x", 1)


def test_every_command_says_what_it_does_to_learned_state(mlp_doc: Document) -> None:
    from bpviz.model import (
        AddNode,
        Compound,
        Effect,
        MoveNodes,
        RemoveNodes,
        SetData,
        SetOutput,
        SetTrainingValue,
    )

    cases = [
        (MoveNodes({"h": (5.0, 5.0)}), Effect.NONE),
        (SetOutput("out"), Effect.KEEP),
        (SetTrainingValue("lr", 0.3), Effect.KEEP),
        (AddNode("n1", "tanh"), Effect.REDRAW),
        (RemoveNodes(["n1"]), Effect.REDRAW),
        (InsertLayerAfter("h"), Effect.REDRAW),
        (SetData({"kind": "moons", "n": 20}), Effect.RESET),
        (
            Compound("two", [MoveNodes({"h": (0.0, 0.0)}), SetTrainingValue("seed", 3)]),
            Effect.RESET,
        ),
    ]
    for cmd, effect in cases:
        cmd.redo(mlp_doc)
        assert cmd.effect is effect, cmd
        assert cmd.effect.restarts is (effect in (Effect.REDRAW, Effect.RESET))
