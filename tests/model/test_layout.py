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


def test_layers_are_longest_paths_and_centred(doc):
    assert layer_of_each_node(doc.graph) == {"x": 0, "w": 0, "m": 1, "s": 2, "y": 3}
    auto_layout_command(doc, x_gap=100, y_gap=50).redo(doc)
    xs = {n: doc.pos(n)[0] for n in doc.nodes}
    assert xs == {"x": 0.0, "w": 0.0, "m": 100.0, "s": 200.0, "y": 300.0}
    middle = (0.0 + 100.0) / 2  # the old vertical extent
    assert doc.pos("x")[1] + doc.pos("w")[1] == pytest.approx(2 * middle)
    assert doc.pos("m")[1] == pytest.approx(middle)


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
