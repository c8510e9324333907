"""Wires at full detail are drawn under the nodes from their flattened segments, only where a
repaint needs them, and follow their gradient's colour."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF
from PySide6.QtGui import QColor, QImage, QPainter

from bpviz.model.document import Document
from bpviz.ui.canvas.items import NO_CONTENTS, wire_path
from bpviz.ui.canvas.overview import BIG_SCENE
from bpviz.ui.canvas.scene import CanvasScene
from bpviz.ui.canvas.view import CanvasView
from bpviz.ui.canvas.wire_lines import WireLines
from bpviz.ui.exports import MARGIN, render_scene, scene_source_rect
from bpviz.ui.theme import current_theme
from bpviz.ui.undo import UndoStack


def _distance(p: QPointF, a: QPointF, b: QPointF) -> float:
    """From p to the segment a-b."""
    ab, ap = b - a, p - a
    length = QPointF.dotProduct(ab, ab)
    t = 0.0 if length == 0 else min(1.0, max(0.0, QPointF.dotProduct(ap, ab) / length))
    closest = a + ab * t
    return math.hypot(p.x() - closest.x(), p.y() - closest.y())


@pytest.mark.parametrize("fine", [0.5, 2.0])
def test_the_segments_in_an_area_follow_the_curve_there_and_only_there(fine: float) -> None:
    path = wire_path(QPointF(0, 0), QPointF(6000, 1500))  # a wire across a big scene
    wire = WireLines(path, fine)
    everything = wire.within(QRectF(-1e6, -1e6, 2e6, 2e6))
    area = QRectF(2500, 0, 800, 1500)  # a view of 800 units across the wire's middle
    lines = wire.within(area)
    assert len(lines) <= len(everything) // 2  # what lies elsewhere is not drawn:
    near = area.adjusted(-1000, -1000, 1000, 1000)  # (whole runs of segments are kept)
    assert all(near.contains(line.p1()) and near.contains(line.p2()) for line in lines)
    for i in range(2001):  # every point of the curve in the area is on a segment drawn
        point = path.pointAtPercent(i / 2000)
        if area.contains(point):
            nearest = min(_distance(point, line.p1(), line.p2()) for line in lines)
            assert nearest <= 0.25 / fine  # a quarter of a pixel at the zoom it was made for


def test_a_big_scenes_wire_is_drawn_in_its_gradients_colour(qtbot) -> None:  # noqa: ANN001
    doc = Document(name="wire")
    doc.add_node("a", "const", {"value": 1.0}, (0.0, 0.0))
    doc.add_node("b", "neg", {}, (1200.0, 300.0))
    doc.connect("a", "b", "x")
    for i in range(BIG_SCENE):  # far below: the wires of a big scene are drawn by the canvas
        doc.add_node(f"c{i}", "const", {"value": 1.0}, ((i % 40) * 220.0, 5000.0 + i // 40 * 110))
    scene = CanvasScene(UndoStack(doc).push)
    scene.set_document(doc)
    assert scene.overview.big()
    view = CanvasView(scene)
    qtbot.addWidget(view)
    view.resize(600, 400)
    view.show()
    qtbot.waitExposed(view)
    edge = scene.edge_items[("a", "b", "x")]
    start = edge.path().pointAtPercent(0.0)
    view.centerOn(start + QPointF(200, 0))  # the wire's start, where it runs level
    at = view.viewportTransform().map(edge.path().pointAtPercent(0.03))
    point = QPoint(math.floor(at.x()), math.floor(at.y()))  # the pixel the curve runs through

    def colour() -> str:
        return view.viewport().grab().toImage().pixelColor(point).name()

    assert colour() == QColor(current_theme().wire).name()
    edge.set_gradient(np.array(-1.0), 100.0)  # a thin wire (2.05 px): drawn as segments
    assert edge.pen().widthF() < 3.0
    assert colour() == QColor(current_theme().grad_negative).name()
    edge.set_gradient(np.array(5.0), 5.0)  # the thickest: the curve itself
    assert colour() == QColor(current_theme().grad_positive).name()
    edge.setVisible(False)  # as while it is dragged to another port: the grid shows
    grid = QImage(view.viewport().size(), QImage.Format.Format_RGB32)
    painter = QPainter(grid)
    painter.setTransform(view.viewportTransform())
    view.draw_grid(painter, view.mapToScene(view.viewport().rect()).boundingRect())
    painter.end()
    assert colour() == grid.pixelColor(point).name()


def _grid_at(view: CanvasView, point: QPoint) -> str:
    """The colour of the bare canvas (its grid) at `point` of the viewport."""
    grid = QImage(view.viewport().size(), QImage.Format.Format_RGB32)
    painter = QPainter(grid)
    painter.setTransform(view.viewportTransform())
    view.draw_grid(painter, view.mapToScene(view.viewport().rect()).boundingRect())
    painter.end()
    return grid.pixelColor(point).name()


def _big_scene_with_a_wire(
    qtbot, height: int = 400  # noqa: ANN001
) -> tuple[Document, CanvasScene, CanvasView]:
    """a -> b and BIG_SCENE more nodes far below, in a 600-wide view at 100 % on the wire's
    start, painted once."""
    doc = Document(name="wire")
    doc.add_node("a", "const", {"value": 1.0}, (0.0, 0.0))
    doc.add_node("b", "neg", {}, (1200.0, 300.0))
    doc.connect("a", "b", "x")
    for i in range(BIG_SCENE):
        doc.add_node(f"c{i}", "const", {"value": 1.0}, ((i % 40) * 220.0, 5000.0 + i // 40 * 110))
    scene = CanvasScene(UndoStack(doc).push)
    scene.set_document(doc)
    view = CanvasView(scene)
    qtbot.addWidget(view)
    view.resize(600, height)
    view.show()
    qtbot.waitExposed(view)
    view.centerOn(scene.edge_items[("a", "b", "x")].path().pointAtPercent(0.0) + QPointF(200, 0))
    view.viewport().grab()
    return doc, scene, view


def test_a_big_scenes_cached_wires_follow_moves_removals_and_additions(qtbot) -> None:  # noqa: ANN001
    """The canvas keeps a big scene's wires in its cached background: whatever changes a
    wire redraws the cache where it was and where it is."""
    doc, scene, view = _big_scene_with_a_wire(qtbot, height=1400)
    view.centerOn(QPointF(1000, -260))
    wire = QColor(current_theme().wire).name()

    def end() -> QPoint:  # a pixel the wire runs through level, near b
        path = scene.edge_items[("a", "b", "x")].path()
        at = view.viewportTransform().map(path.pointAtPercent(0.98))
        return QPoint(math.floor(at.x()), math.floor(at.y()))

    def colour(point: QPoint) -> str:
        return view.viewport().grab().toImage().pixelColor(point).name()

    before = end()
    assert colour(before) == wire
    doc.move_node("b", (1200.0, -900.0))  # its box no longer holds the old place
    after = end()
    assert colour(before) == _grid_at(view, before)
    assert colour(after) == wire
    doc.disconnect("b", "x")
    assert colour(after) == _grid_at(view, after)
    doc.connect("a", "b", "x")
    assert colour(after) == wire


def test_a_big_scenes_cached_wires_are_the_wires_drawn_directly(qtbot) -> None:  # noqa: ANN001
    """The cached background holds the same pixels as drawing the wires at every paint
    (antialiased: Qt's painter of the cache has no render hints of its own)."""
    doc = Document(name="wire")
    for i in range(BIG_SCENE):
        doc.add_node(f"c{i}", "const", {"value": 1.0}, ((i % 40) * 220.0, i // 40 * 110.0))
    for i in range(30):
        doc.add_node(f"n{i}", "neg", {}, (1200.0 + i % 3 * 220, i * 110.0))
        doc.connect(f"c{i * 7}", f"n{i}", "x")
    scene = CanvasScene(UndoStack(doc).push)
    scene.set_document(doc)
    view = CanvasView(scene)
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    qtbot.waitExposed(view)
    view.centerOn(QPointF(900, 600))
    cached = view.viewport().grab().toImage()
    view.setCacheMode(CanvasView.CacheModeFlag.CacheNone)
    direct = view.viewport().grab().toImage()
    assert cached == direct


def test_a_wire_the_canvas_draws_is_painted_by_its_item_again_once_the_scene_is_small(
    qtbot,  # noqa: ANN001
) -> None:
    doc, scene, view = _big_scene_with_a_wire(qtbot)
    edge = scene.edge_items[("a", "b", "x")]
    assert edge.flags() & NO_CONTENTS  # Qt does not call into Python for it at each paint
    at = view.viewportTransform().map(edge.path().pointAtPercent(0.03))
    point = QPoint(math.floor(at.x()), math.floor(at.y()))  # a pixel it runs through, level
    for i in range(3):  # BIG_SCENE - 1 nodes left: the wires are items' to paint again
        doc.remove_node(f"c{i}")
    assert not scene.overview.big()
    assert view.viewport().grab().toImage().pixelColor(point).name() == QColor(
        current_theme().wire
    ).name()
    assert not edge.flags() & NO_CONTENTS


def test_a_scene_made_small_is_exported_with_its_wires_before_any_view_repaints(
    qtbot,  # noqa: ANN001
) -> None:
    doc, scene, view = _big_scene_with_a_wire(qtbot)
    edge = scene.edge_items[("a", "b", "x")]
    for i in range(3):
        doc.remove_node(f"c{i}")
    assert not edge.flags() & NO_CONTENTS  # at once, not at the view's next paint
    source = scene_source_rect(scene, MARGIN)
    image = render_scene(scene, width=round(source.width()))  # 100 %: the curve, by its item
    at = edge.path().pointAtPercent(0.03) - source.topLeft()
    pixel = QPoint(math.floor(at.x()), math.floor(at.y()))
    assert image.pixelColor(pixel).name() == QColor(current_theme().wire).name()


def test_a_big_scene_exported_far_out_shows_its_wires_after_the_canvas_drew_them(
    qtbot,  # noqa: ANN001
) -> None:
    """Far out only an export draws a big scene's items (a view shows the overview): each
    wire is its curve there, drawn under the nodes."""
    doc = Document(name="wire")
    for i in range(BIG_SCENE):
        doc.add_node(f"c{i}", "const", {"value": 1.0}, ((i % 40) * 220.0, i // 40 * 110.0))
    doc.add_node("n", "neg", {}, (9000.0, 0.0))
    doc.connect("c0", "n", "x")  # level at y = 37, from x = 160 to 9000, between the rows
    scene = CanvasScene(UndoStack(doc).push)
    scene.set_document(doc)
    edge = scene.edge_items[("c0", "n", "x")]
    edge.set_gradient(np.array(5.0), 5.0)  # the widest wire: 7 units, the positive colour
    view = CanvasView(scene)
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    qtbot.waitExposed(view)
    view.centerOn(QPointF(4590, 300))  # at 100 %, over the wire
    view.viewport().grab()
    assert edge.flags() & NO_CONTENTS  # drawn by the canvas
    source = scene_source_rect(scene, MARGIN)
    image = render_scene(scene, width=round(source.width() * 0.35))
    scale = image.width() / source.width()  # boxes without text here (below 0.4)
    centre = (37.0 - source.top()) * scale  # the wire's middle row, 2.45 pixels wide
    pixel = QPoint(math.floor((4590 - source.left()) * scale), math.ceil(centre - 1.225))
    assert image.pixelColor(pixel).name() == QColor(current_theme().grad_positive).name()
