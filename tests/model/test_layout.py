"""Auto layout: wires run left to right, one undoable move."""

from __future__ import annotations

import pytest

from bpviz.model import Document, auto_layout_command
from bpviz.model.layout import layer_of_each_node
from tests.model.helpers import assert_exact_undo


@pytest.mark.parametrize("fixture", ["doc", "mlp_doc"])
def test_every_edge_runs_left_to_right(request, fixture):
    d: Document = request.getfixturevalue(fixture)
    state = d.state
    cmd = auto_layout_command(d)
    assert cmd.text == "Auto layout"
    assert_exact_undo(d, cmd)
    for e in d.edges():
        assert d.pos(e.src)[0] < d.pos(e.dst)[0]
    assert d.state == state  # moving nodes keeps learned weights


def test_layers_are_longest_paths_spaced_by_node_sizes_and_centred(doc):
    assert layer_of_each_node(doc.graph) == {"x": 0, "w": 0, "m": 1, "s": 2, "y": 3}
    sizes = {"x": (50, 20), "w": (80, 40), "m": (60, 30), "s": (70, 20), "y": (40, 10)}
    auto_layout_command(doc, sizes.__getitem__, x_gap=100, y_gap=50).redo(doc)
    # each layer starts past the widest node of the one before, plus the gap
    assert {n: doc.pos(n)[0] for n in doc.nodes} == {
        "x": 0.0, "w": 0.0, "m": 180.0, "s": 340.0, "y": 510.0
    }  # fmt: skip
    # the old boxes ran from y=0 to y=140 (w at 100, 40 high): every layer centres on 70
    assert {n: doc.pos(n)[1] for n in doc.nodes} == {
        "x": 15.0, "w": 85.0, "m": 55.0, "s": 60.0, "y": 65.0
    }  # fmt: skip


def test_estimated_sizes_count_ports_and_header_controls():
    """Qt-free stand-in for the drawn box: rows per input port, a scale line, port overhang;
    a dense layer's header keeps room for its controls."""
    from bpviz.model.layout import estimated_size

    d = Document()
    d.add_node("x", "input")
    d.add_node("add", "add")
    d.add_node("hidden", "dense", attrs={"units": 2, "activation": "sigmoid"})
    d.add_node("n" * 40, "tanh")
    one_row = 26 + 22 + 30 + 6 + 12 + 15
    assert estimated_size(d.graph.node("x")) == (175.0, one_row)
    assert estimated_size(d.graph.node("add")) == (175.0, one_row + 22)
    # 18 + 6 × 14.5 + 130 = 235 -> 240 wide, plus 7.5 on each side
    assert estimated_size(d.graph.node("hidden")) == (255.0, one_row)
    assert estimated_size(d.graph.node("n" * 40)) == (335.0, one_row)  # capped at 320


def count_crossings(d: Document) -> int:
    edges = [(d.pos(e.src), d.pos(e.dst)) for e in d.edges()]
    crossings = 0
    for i, ((ax, ay), (bx, by)) in enumerate(edges):
        for (cx, cy), (dx, dy) in edges[i + 1 :]:
            if (ax, bx) == (cx, dx) and (ay - cy) * (by - dy) < 0:
                crossings += 1
    return crossings


def test_barycentre_untangles_crossed_wires():
    d = Document()
    for i, name in enumerate(["a", "b", "c"]):
        d.add_node(name, "const", pos=(0, i * 10))
    # listed so that document order alone would cross the wires
    d.add_node("tc", "tanh", pos=(0, 0))
    d.add_node("tb", "tanh", pos=(0, 0))
    d.add_node("ta", "tanh", pos=(0, 0))
    for name in ["a", "b", "c"]:
        d.connect(name, "t" + name, "x")
    auto_layout_command(d).redo(d)
    assert count_crossings(d) == 0


def test_empty_document():
    d = Document()
    cmd = auto_layout_command(d)
    cmd.redo(d)
    cmd.undo(d)
    assert d.to_scene_dict()["nodes"] == []


def test_a_source_sits_just_before_its_first_consumer():
    """A target feeding the loss at the end of a chain is laid out beside the last layer, not
    in the first column with its wire behind every node in between."""
    d = Document()
    d.add_node("x", "input")
    d.add_node("h1", "tanh")
    d.add_node("h2", "tanh")
    d.add_node("t", "target")
    d.add_node("k", "const")
    d.add_node("loss", "mse")
    d.connect("x", "h1", "x")
    d.connect("h1", "h2", "x")
    d.connect("h2", "loss", "pred")
    d.connect("t", "loss", "target")
    assert layer_of_each_node(d.graph) == {"x": 0, "h1": 1, "h2": 2, "t": 2, "k": 0, "loss": 3}
