"""What opening a big scene fast must not change: a wire's hover band is made when first asked
for and follows its path; node widths skip measuring only where measuring would change
nothing; a shared pen and op colours stay right in either theme; opening a file pauses the
garbage collector and always resumes it, the items it made in the oldest generation."""

from __future__ import annotations

import gc
import math

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QCursor, QFontMetricsF
from PySide6.QtWidgets import QGraphicsItem

from bpviz.model.document import Document
from bpviz.ui.canvas import items
from bpviz.ui.canvas.items import HOVER_BAND, NODE_WIDTH, SMALL_FONT, TITLE_FONT, NodeItem
from bpviz.ui.canvas.scene import SCENE_MARGIN, CanvasScene
from bpviz.ui.canvas.view import CanvasView
from bpviz.ui.theme import DARK, LIGHT, apply_theme
from bpviz.ui.undo import UndoStack

LEFT = Qt.MouseButton.LeftButton
WIRE = ("d1", "t1", "x")


@pytest.fixture
def canvas(qtbot, document: Document):  # noqa: ANN001, ANN201
    """The test document spread out on a canvas at 100 % (its wires run between nodes, not
    under them); the theme is light and the mouse where it was again afterwards (a view
    zooms around the mouse)."""
    cursor = QCursor.pos()
    for node_id in list(document.nodes):
        x, y = document.pos(node_id)
        document.move_node(node_id, (x * 2, y))
    undo = UndoStack(document)
    scene = CanvasScene(undo.push)
    scene.set_document(document)
    view = CanvasView(scene)
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    qtbot.waitExposed(view)
    view.resetTransform()
    view.centerOn(450, 100)
    yield scene, view, undo
    apply_theme("light")
    QCursor.setPos(cursor)


def _off_the_wire(path, percent: float, distance: float) -> QPointF:  # noqa: ANN001
    """The point `distance` away from the path at `percent`, square to its direction."""
    at = path.pointAtPercent(percent)
    angle = math.radians(path.angleAtPercent(percent))  # counter-clockwise, y pointing up
    return at + QPointF(math.sin(angle), math.cos(angle)) * distance


def _hover(qtbot, view: CanvasView, scene_pos: QPointF) -> None:  # noqa: ANN001
    qtbot.mouseMove(view.viewport(), view.mapFromScene(scene_pos))


def _shown_tip(edge: QGraphicsItem) -> str:
    """The tooltip the wire set when the mouse came to it (not the one it would make)."""
    return QGraphicsItem.toolTip(edge)


def test_a_wire_is_found_within_half_its_band_and_not_beyond(qtbot, canvas) -> None:  # noqa: ANN001
    scene, view, _ = canvas
    edge = scene.edge_items[WIRE]
    edge.set_gradient(np.array(0.5), 1.0, "∂L/∂d1 via t1.x = 0.5")
    path = edge.path()
    half = HOVER_BAND / 2  # 5 scene units = 5 pixels at 100 %
    _hover(qtbot, view, _off_the_wire(path, 0.5, half + 4))
    assert _shown_tip(edge) == ""
    assert edge not in view.items(view.mapFromScene(_off_the_wire(path, 0.5, half + 4)))
    _hover(qtbot, view, _off_the_wire(path, 0.5, half - 2))
    assert _shown_tip(edge) == "∂L/∂d1 via t1.x = 0.5"
    assert edge in view.items(view.mapFromScene(_off_the_wire(path, 0.5, -(half - 2))))


def test_the_hover_band_follows_the_wire_when_its_node_is_dragged(qtbot, canvas) -> None:  # noqa: ANN001
    scene, view, undo = canvas
    edge = scene.edge_items[WIRE]
    before = edge.path().pointAtPercent(0.5)
    assert edge in view.items(view.mapFromScene(before))  # the band is made here, and kept
    title = view.mapFromScene(scene.node_items["t1"].mapToScene(QPointF(40, 12)))
    vp = view.viewport()
    qtbot.mousePress(vp, LEFT, pos=title)
    for i in range(1, 6):
        qtbot.mouseMove(vp, title + QPoint(0, 16 * i))
    qtbot.mouseRelease(vp, LEFT, pos=title + QPoint(0, 80))
    after = edge.path().pointAtPercent(0.5)
    assert after.y() == pytest.approx(before.y() + 40)  # the end moved 80 down
    assert edge in view.items(view.mapFromScene(after))
    assert edge not in view.items(view.mapFromScene(before))
    assert edge.boundingRect().contains(edge.shape().boundingRect())
    undo.undo()  # the document moves the node back: so does the band
    assert edge.path().pointAtPercent(0.5) == before
    assert edge in view.items(view.mapFromScene(before))
    assert edge not in view.items(view.mapFromScene(after))


def test_the_band_is_stroked_once_per_path(canvas) -> None:  # noqa: ANN001
    scene, _, _ = canvas
    edge = scene.edge_items[WIRE]
    assert edge.shape() is edge.shape()
    first = edge.shape()
    x, y = scene.document.pos("t1")
    scene.document.move_node("t1", (x, y + 30))
    assert edge.shape() is not first
    assert edge.shape().contains(edge.path().pointAtPercent(0.25))


def test_a_wire_still_hits_after_a_theme_switch_and_keeps_its_shared_plain_pen(
    qtbot,  # noqa: ANN001
    canvas,  # noqa: ANN001
) -> None:
    scene, view, _ = canvas
    plain, carrying = scene.edge_items[("t1", "loss", "pred")], scene.edge_items[WIRE]
    carrying.set_gradient(np.array(-2.0), 2.0, "∂L/∂d1 via t1.x = -2")
    assert carrying.pen().color() == QColor(LIGHT.grad_negative)
    apply_theme("dark")
    assert plain.pen().color() == QColor(DARK.wire)
    assert plain.pen().widthF() == 2.0
    assert carrying.pen().color() == QColor(DARK.grad_negative)
    assert carrying.pen().widthF() == items.WIDEST_WIRE  # the largest gradient: the widest
    _hover(qtbot, view, _off_the_wire(carrying.path(), 0.5, 20))  # from off the wire
    assert _shown_tip(carrying) == ""
    _hover(qtbot, view, _off_the_wire(carrying.path(), 0.5, 3))
    assert _shown_tip(carrying) == "∂L/∂d1 via t1.x = -2"
    apply_theme("light")
    assert plain.pen().color() == QColor(LIGHT.wire)


def _measured_width(node_id: str, summary: str) -> float:
    """A node's width worked out by measuring both texts, as the header lays them out."""
    title = QFontMetricsF(TITLE_FONT).horizontalAdvance(node_id)
    need = 8 + title + 12 + QFontMetricsF(SMALL_FONT).horizontalAdvance(summary) + 8
    return min(items.HEADER_MAX_WIDTH, max(NODE_WIDTH, 10 * math.ceil(need / 10)))


@pytest.mark.parametrize(
    "node_id",
    ["c1", "n4999", "WWWWWWWW", "WWWWWWWWWWWWW", "an_identifier_long_enough_to_widen"],
)
def test_a_node_is_as_wide_as_measuring_its_id_and_summary_gives(qapp, node_id: str) -> None:  # noqa: ANN001
    doc = Document()
    doc.add_node(node_id, "const", {"value": 2.5}, (0, 0))
    item = NodeItem(doc.node(node_id), (0, 0))
    expected = _measured_width(node_id, item.summary)
    assert item.boundingRect().width() - 2 * (items.PORT_RADIUS + 2) == expected


def test_nodes_of_one_op_share_its_colours_in_either_theme(canvas) -> None:  # noqa: ANN001
    scene, _, _ = canvas
    doc = scene.document
    doc.add_node("t2", "tanh", {}, (640, 300))
    first, second = scene.node_items["t1"], scene.node_items["t2"]
    assert first._colour is second._colour
    assert first._colour == QColor(first.spec.colour)
    assert first._port_rim == QColor(first.spec.colour).darker(130)
    apply_theme("dark")
    doc.add_node("t3", "tanh", {}, (640, 400))
    assert scene.node_items["t3"]._colour == QColor(first.spec.colour)
    assert scene.node_items["t3"].header_rgba == QColor(first.spec.colour).rgba()


def test_opening_a_file_resumes_garbage_collection(window, tmp_path) -> None:  # noqa: ANN001
    from tests.ui.conftest import SCENES

    assert gc.isenabled()
    assert window.files.open_file(SCENES / "xor.json")
    assert gc.isenabled()
    # the canvas items it made went to the oldest generation without being scanned
    item = next(iter(window.canvas.node_items.values()))
    assert any(o is item for o in gc.get_objects(generation=2))
    broken = tmp_path / "broken.json"
    broken.write_text("{ not json")
    assert not window.files.open_file(broken)
    assert window.dialogs.errors[-1][0] == "Could not open scene"
    assert gc.isenabled()
    gc.disable()  # whoever turned it off keeps it off
    try:
        assert window.files.open_file(SCENES / "xor.json")
        assert not gc.isenabled()
    finally:
        gc.enable()


def _drag(qtbot, view: CanvasView, start: QPoint, end: QPoint) -> None:  # noqa: ANN001
    vp = view.viewport()
    qtbot.mousePress(vp, LEFT, pos=start)
    for i in range(1, 6):
        qtbot.mouseMove(vp, start + (end - start) * i / 5)
    qtbot.mouseRelease(vp, LEFT, pos=end)


@pytest.mark.parametrize("snap", [False, True])
def test_dragging_selected_nodes_takes_every_wire_along(qtbot, canvas, snap: bool) -> None:  # noqa: ANN001
    scene, view, undo = canvas
    scene.set_snap(snap)
    scene.select(["d1", "t1"])
    start = {nid: scene.document.pos(nid) for nid in ("d1", "t1")}
    title = view.mapFromScene(scene.node_items["t1"].mapToScene(QPointF(40, 12)))
    _drag(qtbot, view, title, title + QPoint(33, 47))
    moved = (33, 47) if not snap else (40, 40)  # to the nearest grid point: 20 apart
    for nid in ("d1", "t1"):
        assert scene.document.pos(nid) == (start[nid][0] + moved[0], start[nid][1] + moved[1])
    assert undo.qstack.count() == 1
    for (src, dst, port), edge in scene.edge_items.items():
        ends = (scene.node_items[src].output_anchor(), scene.node_items[dst].input_anchor(port))
        assert (edge.path().pointAtPercent(0.0), edge.path().pointAtPercent(1.0)) == ends
        assert edge.line.p1() == ends[0] and edge.line.p2() == ends[1]  # the far view's line


def test_nodes_of_one_size_share_their_box_and_a_taller_one_gets_its_own(canvas) -> None:  # noqa: ANN001
    scene, _, _ = canvas
    scene.document.add_node("t2", "tanh", {}, (640, 300))
    first, second = scene.node_items["t1"], scene.node_items["t2"]
    shared = first.boundingRect()
    assert second.boundingRect() is shared
    pad = items.PORT_RADIUS + 2
    height = items.HEADER_HEIGHT + items.ROW_HEIGHT + items.NUMBERS_HEIGHT + items.FOOTER_HEIGHT
    assert (shared.width(), shared.height()) == (NODE_WIDTH + 2 * pad, height + 2 * pad)
    first.set_numbers(np.ones((2, 3)), None)  # a heatmap: the scale under it makes it taller
    assert first.boundingRect().height() == height + items.SCALE_HEIGHT + 2 * pad
    assert second.boundingRect() is shared
    assert (shared.width(), shared.height()) == (NODE_WIDTH + 2 * pad, height + 2 * pad)
    assert first.scene_box().height() == height + items.SCALE_HEIGHT
    first.set_numbers(None, None)
    assert first.boundingRect() is shared


def test_opening_a_file_checks_it_without_running_it(window, monkeypatch) -> None:  # noqa: ANN001
    """The document takes the checked graph; the pass the loader would run is the window's
    session's to run (values shown come from it)."""
    from bpviz.scene import document as loading
    from tests.ui.conftest import SCENES

    passes: list[str] = []
    real = loading._forward
    monkeypatch.setattr(
        loading, "_forward", lambda *args: passes.append("load") or real(*args)
    )
    assert window.files.open_file(SCENES / "xor.json")
    assert passes == []
    window.registry["forward"].trigger()
    c = window.training_ui.controller
    item = window.canvas.node_items[window.document.output]
    assert item.value is not None
    assert float(np.asarray(item.value)) == float(c.value(window.document.output))


def _nodes_area(scene: CanvasScene) -> QRectF:
    boxes = [item.sceneBoundingRect() for item in scene.node_items.values()]
    left, top = min(b.left() for b in boxes), min(b.top() for b in boxes)
    right, bottom = max(b.right() for b in boxes), max(b.bottom() for b in boxes)
    return QRectF(left, top, right - left, bottom - top)


def test_the_scene_rect_covers_the_nodes_and_grows_when_one_lands_beyond(qtbot, canvas) -> None:  # noqa: ANN001
    """Qt no longer grows the scene rect (the item index's area) by measuring every item;
    the canvas sets it around the nodes and grows it when a node is dropped or added
    outside, and such a node is still found under the mouse."""
    scene, view, undo = canvas
    m = SCENE_MARGIN
    assert scene.sceneRect() == _nodes_area(scene).adjusted(-m, -m, m, m)
    view.resetTransform()
    view.scale(0.1, 0.1)  # 90 pixels: 900 units
    item = scene.node_items["t1"]
    view.centerOn(item.sceneBoundingRect().center() + QPointF(1500, 0))
    title = view.mapFromScene(item.mapToScene(QPointF(40, 12)))
    start = scene.document.pos("t1")
    _drag(qtbot, view, title, title + QPoint(350, 0))  # 3,500 units to the right
    assert scene.document.pos("t1") == (start[0] + 3500, start[1])
    box = item.sceneBoundingRect()
    assert box.left() > _nodes_area(scene).left() + 3000  # beyond where the rect ended
    assert scene.sceneRect().contains(box)
    assert scene.sceneRect().right() >= box.right() + m
    scene.clearSelection()
    qtbot.mouseClick(view.viewport(), LEFT, pos=view.mapFromScene(item.mapToScene(QPointF(40, 12))))
    assert scene.selected_ids() == ["t1"]
    scene.document.add_node("far", "tanh", {}, (-9000.0, -7000.0))
    assert scene.sceneRect().contains(scene.node_items["far"].sceneBoundingRect())
    undo.qstack.undo()
    assert scene.document.pos("t1") == start


def test_a_node_caches_its_picture_once_the_view_shows_it(qtbot, canvas) -> None:  # noqa: ANN001
    """No node sets up a pixmap cache as it is made (a big scene opened far out never paints
    most of them); one does when the view is about to paint it, here after panning to it."""
    scene, view, _ = canvas
    scene.document.add_node("away", "tanh", {}, (1500.0, 100.0))
    view.viewport().repaint()
    cached = QGraphicsItem.CacheMode.DeviceCoordinateCache
    away, shown = scene.node_items["away"], scene.node_items["t1"]
    assert shown.cacheMode() == cached
    assert away.cacheMode() == QGraphicsItem.CacheMode.NoCache
    vp = view.viewport()
    start = QPoint(800, 300)
    qtbot.mousePress(vp, Qt.MouseButton.MiddleButton, pos=start)
    for i in range(1, 9):
        qtbot.mouseMove(vp, start - QPoint(100 * i, 0))
    qtbot.mouseRelease(vp, Qt.MouseButton.MiddleButton, pos=start - QPoint(800, 0))
    shown_area = view.mapToScene(vp.rect()).boundingRect()
    assert shown_area.contains(away.sceneBoundingRect())
    vp.repaint()
    assert away.cacheMode() == cached
