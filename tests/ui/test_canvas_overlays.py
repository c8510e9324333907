"""A pass's numbers reach the nodes and wires on screen at once, the others when they come
into view (overlays.py): what is shown is always the latest pass."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QGraphicsPathItem

from bpviz.ui.main_window import MainWindow
from bpviz.ui.theme import current_theme

FAR = 6000.0  # the right part of the scene: never on screen while the left part is


def two_parts(path: Path) -> Path:
    """a·b on the left; q = p·c and L = q + c far to the right."""

    def node(nid: str, op: str, x: float, y: float, inputs=None, **attrs) -> dict:  # noqa: ANN001, ANN003
        return {"id": nid, "op": op, "inputs": inputs or {}, "attrs": attrs, "pos": [x, y]}

    nodes = [
        node("a", "const", 0, 0, value=2.0),
        node("b", "const", 0, 150, value=3.0),
        node("p", "mul", 250, 50, {"a": "a", "b": "b"}),
        node("c", "const", FAR, 0, value=-1.0),
        node("q", "mul", FAR + 250, 50, {"a": "p", "b": "c"}),
        node("L", "add", FAR + 500, 0, {"a": "q", "b": "c"}),
    ]
    scene = {"format": "bpviz-scene", "version": 1, "output": "L", "nodes": nodes}
    path.write_text(json.dumps(scene))
    return path


def test_numbers_reach_nodes_scrolled_into_view_after_a_pass(
    window: MainWindow, tmp_path: Path
) -> None:
    assert window.files.open_file(two_parts(tmp_path / "two.json"))
    view, canvas = window.view, window.canvas
    view.actual_size()
    view.centerOn(canvas.node_items["p"])
    view.grab()
    window.registry["backward"].trigger()
    view.grab()  # the left part is painted; the right part is not on screen
    overlays = canvas.overlays
    q, L = canvas.node_items["q"], canvas.node_items["L"]
    wire = canvas.edge_items[("c", "q", "b")]
    assert canvas.node_items["p"]._seen == overlays.generation
    assert q._seen != overlays.generation and wire._seen != overlays.generation  # not touched
    view.centerOn(q)
    view.grab()  # scrolled there: what is painted shows the pass
    assert (q._value.item(), q._grad.item()) == (-6.0, 1.0)
    assert (L._value.item(), L._grad.item()) == (-7.0, 1.0)
    pen = QGraphicsPathItem.pen(wire)  # the pen Qt paints with (not brought up to date here)
    assert pen.color().name() == current_theme().grad_positive  # it carries dL/dq · p = 6
    assert pen.widthF() == 7.0  # the largest gradient on the canvas: the widest wire
    carried = window.training_ui.controller.contributions[("c", "q", "b")]
    np.testing.assert_array_equal(carried, 6.0)


def test_new_numbers_are_painted_without_anything_else_repainting(
    window: MainWindow, qtbot, tmp_path: Path  # noqa: ANN001
) -> None:
    """A pass (Forward, a Run refresh) asks for the repaint that shows its numbers: in a
    real window nothing else repaints the canvas, and the nodes kept the old ones."""
    assert window.files.open_file(two_parts(tmp_path / "two.json"))
    view, canvas = window.view, window.canvas
    view.actual_size()
    view.centerOn(canvas.node_items["p"])
    qtbot.wait(50)  # shown and painted, nothing pending
    p = canvas.node_items["p"]
    window.training_ui.speed_slider.setValue(window.training_ui.speed_slider.maximum())
    window.registry["forward"].trigger()  # no animation at full speed: just the numbers
    qtbot.waitUntil(lambda: p._value is not None and p._value.item() == 6.0, timeout=2000)
    canvas.document.set_attr("a", "value", 5.0)  # an edit: Forward computes 15
    window.registry["forward"].trigger()
    qtbot.waitUntil(lambda: p._value is not None and p._value.item() == 15.0, timeout=2000)



def test_a_drag_step_looks_at_the_dragged_node_and_its_wires_only(
    window: MainWindow, qtbot, tmp_path: Path  # noqa: ANN001
) -> None:
    """Each step of a drag moves one node: the paint after it brings that node and its wires
    up to date, not everything on screen again (a 500-node view holds over a thousand)."""
    assert window.files.open_file(two_parts(tmp_path / "two.json"))
    view, canvas = window.view, window.canvas
    view.actual_size()
    view.centerOn(canvas.node_items["p"])
    view.viewport().grab()
    window.registry["backward"].trigger()
    view.viewport().grab()
    overlays, p = canvas.overlays, canvas.node_items["p"]
    vp = view.viewport()
    start = view.mapFromScene(p.scenePos() + QPointF(20, 10))  # on its header
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=start)
    looked = []
    for i in range(1, 4):
        qtbot.mouseMove(vp, start + QPoint(8 * i, 6 * i))
        before = overlays.looked
        vp.grab()
        looked.append(overlays.looked - before)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=start + QPoint(24, 18))
    assert (p.x(), p.y()) == (274.0, 68.0)  # moved with the mouse (snapped to the grid)
    assert looked == [4, 4, 4]  # p and its three wires
    assert (p._value.item(), p._grad.item()) == (6.0, -1.0)


def test_a_node_moved_into_view_without_a_new_pass_shows_the_last_one(
    window: MainWindow, tmp_path: Path
) -> None:
    assert window.files.open_file(two_parts(tmp_path / "two.json"))
    view, canvas = window.view, window.canvas
    view.actual_size()
    view.centerOn(canvas.node_items["p"])
    view.viewport().grab()
    window.registry["backward"].trigger()
    view.viewport().grab()
    overlays, q = canvas.overlays, canvas.node_items["q"]
    assert q._seen != overlays.generation  # far to the right: not brought up to date
    q.setPos(250.0, 300.0)  # under p, in view, as a drag moves it: no new pass
    q.moved()
    view.viewport().grab()
    assert (q._value.item(), q._grad.item()) == (-6.0, 1.0)
    assert canvas.edge_items[("c", "q", "b")]._seen == overlays.generation
