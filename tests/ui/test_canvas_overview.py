"""A big scene zoomed out is one recorded picture, recorded again only when what it shows
changes; the items under it still take clicks and rubber-band selection."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QLineF, QObject, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from bpviz.engine.ops import REGISTRY
from bpviz.model.commands import MoveNodes
from bpviz.model.document import Document
from bpviz.ui.canvas.items import Mark, theme_colours
from bpviz.ui.canvas.overview import BIG_SCENE, Overview
from bpviz.ui.canvas.scene import CanvasScene
from bpviz.ui.canvas.view import RESTED_MS, CanvasView
from bpviz.ui.theme import apply_theme, current_theme
from bpviz.ui.undo import UndoStack
from tests.ui.gestures import drag_op_onto_canvas

LEFT = Qt.MouseButton.LeftButton
COLUMNS = 40


def _grid(n: int) -> Document:
    """n consts on a grid (40 to a row), each added to its left neighbour by a chain of adds
    in the first row."""
    doc = Document(name="big")
    for i in range(n):
        doc.add_node(
            f"c{i}", "const", {"value": 1.0}, ((i % COLUMNS) * 220.0, (i // COLUMNS) * 110.0)
        )
    doc.add_node("sum", "add", {}, (-400.0, 0.0))
    doc.connect("c0", "sum", "a")
    doc.connect("c1", "sum", "b")
    return doc


class Far:
    def __init__(self, qtbot, n: int) -> None:  # noqa: ANN001
        self.doc = _grid(n)
        self.undo = UndoStack(self.doc)
        self.scene = CanvasScene(self.undo.push)
        self.scene.set_document(self.doc)
        self.view = CanvasView(self.scene)
        qtbot.addWidget(self.view)
        self.view.resize(800, 600)
        self.view.show()
        qtbot.waitExposed(self.view)
        self.view.resetTransform()
        self.view.scale(0.1, 0.1)
        self.view.centerOn(3000, 1500)

    def grab(self):  # noqa: ANN201
        return self.view.grab().toImage()

    def at(self, node_id: str, x: float = 80, y: float = 13) -> QPoint:
        item = self.scene.node_items[node_id]
        return self.view.mapFromScene(item.mapToScene(QPointF(x, y)))


@pytest.fixture
def far(qtbot) -> Far:  # noqa: ANN001
    return Far(qtbot, BIG_SCENE)


def test_only_a_big_scene_far_out_is_one_picture(qtbot) -> None:  # noqa: ANN001
    small = Far(qtbot, BIG_SCENE - 2)  # with "sum": 999 nodes
    assert not small.scene.overview.wanted(0.1)
    big = Far(qtbot, BIG_SCENE)
    assert big.scene.overview.wanted(0.1)
    assert big.scene.overview.wanted(0.399)
    assert not big.scene.overview.wanted(0.4)


def test_the_picture_is_recorded_once_and_again_only_after_a_visible_change(
    far: Far, qtbot  # noqa: ANN001
) -> None:
    overview = far.scene.overview
    far.grab()
    recorded = overview.recordings
    assert recorded == 1
    far.view.viewport().repaint()
    far.grab()
    assert overview.recordings == 1  # the same picture, replayed
    far.scene.node_items["c5"].set_numbers(np.array(2.0), np.array(0.5))  # not shown far out
    far.grab()
    assert overview.recordings == 1
    far.doc.move_node("c5", (5 * 220.0, 60.0))
    far.grab()
    assert overview.recordings == 1  # recorded again a few pieces per tick
    _settled(far, qtbot)
    assert overview.recordings == 2
    rasters = far.view.far_rasters
    far.scene.node_items["c6"].set_mark(Mark.ERROR)  # outlined over the raster: no new one
    far.scene.node_items["c7"].setSelected(True)
    image = far.grab()
    assert (overview.recordings, far.view.far_rasters) == (2, rasters)
    assert image.pixelColor(far.at("c6", 0, 60)).name() == "#d93025"
    selected = theme_colours(current_theme())["selected"].name()
    assert image.pixelColor(far.at("c7", 0, 60)).name() == selected
    far.scene.edge_items[("c0", "sum", "a")].set_gradient(np.array(-1.0), 1.0)
    _settled(far, qtbot)
    assert overview.recordings == 3


def test_far_out_nodes_are_boxes_in_their_colours(far: Far) -> None:
    image = far.grab()
    const = QColor(REGISTRY["const"].colour)
    assert image.pixelColor(far.at("c50", 80, 8)) == const  # header
    body = image.pixelColor(far.at("c50", 80, 60))
    assert body != const and body == image.pixelColor(far.at("c51", 80, 60))
    far.scene.node_items["c50"].set_mark(Mark.ERROR)
    image = far.grab()  # a mark's outline is drawn at least 3 pixels wide
    edge = far.at("c50", 0, 60)
    assert image.pixelColor(edge).name() == "#d93025"


def test_rubber_band_selects_far_out(far: Far, qtbot) -> None:  # noqa: ANN001
    start = far.at("c41", -30, -20)  # second row, second and third node
    end = far.at("c42", 190, 90)
    vp = far.view.viewport()
    qtbot.mousePress(vp, LEFT, pos=start)
    for i in range(1, 6):
        qtbot.mouseMove(vp, start + (end - start) * i / 5)
    qtbot.mouseRelease(vp, LEFT, pos=end)
    assert far.scene.selected_ids() == ["c41", "c42"]
    image = far.grab()  # the selection shows: outlined in the theme's selection colour
    assert image.pixelColor(far.at("c41", 0, 60)) != image.pixelColor(far.at("c43", 0, 60))


def test_a_node_drags_far_out(far: Far, qtbot) -> None:  # noqa: ANN001
    vp = far.view.viewport()
    start = far.at("c45", 80, 50)
    end = start + QPoint(20, 0)  # 200 scene units at scale 0.1
    qtbot.mousePress(vp, LEFT, pos=start)
    for i in range(1, 5):
        qtbot.mouseMove(vp, start + QPoint(5 * i, 0))
    qtbot.mouseRelease(vp, LEFT, pos=end)
    x, y = far.doc.pos("c45")
    assert (x, y) == pytest.approx((5 * 220.0 + 200.0, 110.0), abs=6.0)
    assert far.undo.qstack.undoText().startswith("Move")


def _reference(view: CanvasView) -> QImage:
    """The far view painted at once, as before it was painted in pieces: the background,
    then every piece of a new recording of the scene at the view's transform, in one go,
    then the selected and marked nodes' outlines."""
    vp = view.viewport()
    image = QImage(vp.width(), vp.height(), QImage.Format.Format_RGB32)
    painter = QPainter(image)
    painter.setTransform(view.viewportTransform())
    view.draw_grid(painter, view.mapToScene(vp.rect()).boundingRect())
    once = Overview(view.canvas)
    for picture in once.pictures():
        painter.drawPicture(0, 0, picture)
    painter.drawPicture(0, 0, once.over_raster())
    painter.end()
    return image


def _settled(far: Far, qtbot) -> None:  # noqa: ANN001
    """Wait until the pictures show the scene as it is and the view shows their raster."""
    overview = far.scene.overview

    def sharp() -> bool:
        far.grab()
        return overview.current() and not far.view.far_raster.busy()

    qtbot.waitUntil(sharp, timeout=10_000)
    far.grab()


def _shown(view: CanvasView) -> QImage:
    return view.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB32)


def _rest_and_ask(far: Far) -> None:
    """A wheel step, then rest: the sharp raster is asked for, one piece per tick, and its
    first piece played."""
    far.view.far_raster.budget_ms = 0.0
    far.view.scale(1.1, 1.1)
    far.grab()
    far.view.settle()
    far.grab()
    assert far.view.far_raster.busy()
    far.view.far_raster.step()


def test_a_moving_far_view_is_redrawn_sharp_once_it_rests(far: Far, qtbot) -> None:  # noqa: ANN001
    far.grab()
    rastered = far.view.far_rasters
    assert _shown(far.view) == _reference(far.view)
    assert far.view.far_rasters == rastered  # unchanged: one copy of the last raster
    for _ in range(3):  # wheel steps: the last raster, moved along
        far.view.scale(1.1, 1.1)
        image = far.grab()
        assert far.view.far_rasters == rastered
        assert image.pixelColor(far.at("c50", 80, 13)) == QColor(REGISTRY["const"].colour)
    assert _shown(far.view) != _reference(far.view)  # moved along: not yet sharp
    # at rest: rastered a few pieces per tick, then shown exactly as painted at once
    qtbot.waitUntil(lambda: far.view.far_rasters == rastered + 1, timeout=10_000)
    assert _shown(far.view) == _reference(far.view)
    qtbot.wait(2 * RESTED_MS)
    assert far.view.far_rasters == rastered + 1  # resting: nothing more to raster


def test_the_sharp_raster_is_painted_a_piece_per_tick(far: Far, qtbot) -> None:  # noqa: ANN001
    far.grab()
    rastered = far.view.far_rasters
    played = far.view.far_raster.played
    _rest_and_ask(far)
    assert far.view.far_raster.played == played + 1
    assert far.view.far_rasters == rastered  # not shown before every piece is played
    pieces = len(far.scene.overview.pictures())
    # 1,001 nodes in pieces of 500: 3 of bodies, 3 of outlines, 2 + 1 of headers (two op
    # colours); 1 of the two wires
    assert pieces == 10
    qtbot.waitUntil(lambda: far.view.far_rasters == rastered + 1, timeout=10_000)
    assert far.view.far_raster.played == played + pieces
    assert _shown(far.view) == _reference(far.view)


def test_a_raster_of_a_view_that_moved_on_is_dropped(far: Far, qtbot) -> None:  # noqa: ANN001
    far.grab()
    rastered = far.view.far_rasters
    _rest_and_ask(far)
    far.view.scale(1.1, 1.1)  # a wheel step before the raster is done
    far.grab()
    assert not far.view.far_raster.busy()  # dropped
    qtbot.wait(50)
    assert far.view.far_rasters == rastered  # still the raster from before, moved along
    qtbot.waitUntil(lambda: far.view.far_rasters == rastered + 1, timeout=10_000)
    assert _shown(far.view) == _reference(far.view)  # rested again: rastered anew


def test_a_raster_of_a_picture_that_changed_is_asked_again(far: Far, qtbot) -> None:  # noqa: ANN001
    far.grab()
    rastered = far.view.far_rasters
    _rest_and_ask(far)
    asked = far.view._far_wanted
    far.doc.move_node("c50", (50 * 220.0 + 300.0, 250.0))  # a node moves meanwhile
    far.grab()  # not painted here: asked again, recorded and rastered a few pieces per tick
    assert far.view.far_rasters == rastered
    assert far.view.far_raster.busy()
    assert far.view._far_wanted[1] == asked[1] + 1  # for the scene as it is now
    qtbot.waitUntil(lambda: far.view.far_rasters == rastered + 1, timeout=10_000)
    assert far.view._far[0][1] == asked[1] + 1  # the old request never showed
    assert _shown(far.view) == _reference(far.view)


def test_closing_drops_the_far_raster(far: Far, qtbot) -> None:  # noqa: ANN001
    far.grab()
    rastered = far.view.far_rasters
    _rest_and_ask(far)
    far.view.close()
    assert not far.view.far_raster.busy()
    qtbot.wait(50)
    assert far.view.far_rasters == rastered


def test_a_far_drag_keeps_the_picture_and_draws_the_node_where_it_is(
    far: Far, qtbot  # noqa: ANN001
) -> None:
    """Each drag step far out draws the dragged node and its wires over the raster (a few
    boxes); the picture is recorded again once, at the drop."""
    overview = far.scene.overview
    const = QColor(REGISTRY["const"].colour)
    canvas = QColor(current_theme().canvas)
    far.grab()
    recorded, rastered = overview.recordings, far.view.far_rasters
    vp = far.view.viewport()
    start = far.at("c45", 80, 50)
    was = far.at("c45", 80, 8)
    qtbot.mousePress(vp, LEFT, pos=start)
    for i in range(1, 5):
        qtbot.mouseMove(vp, start + QPoint(0, 5 * i))  # 200 scene units down at scale 0.1
    image = far.grab()
    assert (overview.recordings, far.view.far_rasters) == (recorded, rastered)
    assert image.pixelColor(far.at("c45", 80, 22)) == const  # the header where it is now
    assert image.pixelColor(was) == canvas  # not where it was
    qtbot.mouseRelease(vp, LEFT, pos=start + QPoint(0, 20))
    x, y = far.doc.pos("c45")
    assert (x, y) == pytest.approx((5 * 220.0, 110.0 + 200.0), abs=6.0)
    far.grab()
    assert overview.recordings == recorded  # recorded again after the drop, over ticks
    _settled(far, qtbot)
    assert overview.recordings == recorded + 1


def _edited(far: Far) -> QImage:
    """The frame painted right after an edit: the last raster with the change drawn over it;
    the pictures are recorded and rastered a few pieces per tick from here (not at once)."""
    recorded, rastered = far.scene.overview.recordings, far.view.far_rasters
    image = far.grab()
    assert (far.scene.overview.recordings, far.view.far_rasters) == (recorded, rastered)
    assert far.view.far_raster.busy()
    return image


def _header(image: QImage, far: Far, node_id: str) -> QColor:
    return image.pixelColor(far.at(node_id, 80, 22))


def test_a_drop_far_out_shows_the_node_at_once_and_the_raster_follows(
    far: Far, qtbot  # noqa: ANN001
) -> None:
    const = QColor(REGISTRY["const"].colour)
    canvas = QColor(current_theme().canvas)
    far.grab()
    vp = far.view.viewport()
    start, was = far.at("c45", 80, 50), far.at("c45", 80, 8)
    qtbot.mousePress(vp, LEFT, pos=start)
    for i in range(1, 5):
        qtbot.mouseMove(vp, start + QPoint(0, 5 * i))
    qtbot.mouseRelease(vp, LEFT, pos=start + QPoint(0, 20))
    image = _edited(far)
    assert (_header(image, far, "c45"), image.pixelColor(was)) == (const, canvas)
    _settled(far, qtbot)
    assert _shown(far.view) == _reference(far.view)


def test_an_undone_move_far_out_shows_at_once_and_the_raster_follows(
    far: Far, qtbot  # noqa: ANN001
) -> None:
    const = QColor(REGISTRY["const"].colour)
    canvas = QColor(current_theme().canvas)
    far.grab()
    was = far.at("c45", 80, 8)
    far.undo.push(MoveNodes({"c45": (5 * 220.0, 500.0)}))
    _settled(far, qtbot)
    moved = far.at("c45", 80, 8)
    assert _header(far.grab(), far, "c45") == const
    far.undo.qstack.undo()
    image = _edited(far)
    assert (image.pixelColor(was), image.pixelColor(moved)) == (const, canvas)
    _settled(far, qtbot)
    assert _shown(far.view) == _reference(far.view)


def test_a_pass_far_out_records_the_wires_again_not_the_nodes(
    far: Far, qtbot, monkeypatch  # noqa: ANN001
) -> None:
    """A pass colours the wires by their gradients' signs: far out only the wires' picture
    is recorded again, and the raster shows the new colours."""
    far.grab()
    recorded: list[str] = []
    for part in ("wires", "nodes"):
        method = getattr(Overview, f"_record_{part}")
        monkeypatch.setattr(
            Overview,
            f"_record_{part}",
            lambda self, drawn, _m=method, _p=part: (recorded.append(_p), _m(self, drawn))[1],
        )
    far.scene.overlays.publish(lambda _n: (None, None, False, None), lambda _e: np.array(-1.0))
    _edited(far)
    _settled(far, qtbot)
    assert recorded == ["wires"]
    line = far.scene.edge_items[("c0", "sum", "a")].line
    reference = _reference(far.view)
    assert _shown(far.view) == reference
    middle = far.view.mapFromScene(line.pointAt(0.5))
    near = [QPoint(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    around = {reference.pixelColor(middle + d).name() for d in near}
    assert current_theme().grad_negative in around  # the wire carries a negative gradient


def test_a_theme_switch_far_out_keeps_the_last_raster_until_the_new_one(
    far: Far, qtbot  # noqa: ANN001
) -> None:
    far.grab()
    try:
        apply_theme("dark")
        _edited(far)
        _settled(far, qtbot)
        assert _shown(far.view) == _reference(far.view)
        assert _shown(far.view).pixelColor(2, 2) == QColor(current_theme().canvas)
    finally:
        apply_theme("light")


class FarWindow:
    """The main window showing a big scene far out."""

    def __init__(self, qtbot, window) -> None:  # noqa: ANN001
        self.window, self.view, self.scene = window, window.view, window.canvas
        window.files.show(_grid(BIG_SCENE), None)
        self.view.keep_fitted = False
        self.view.resetTransform()
        self.view.scale(0.1, 0.1)
        self.view.centerOn(3000, 1500)
        self.grab()

    def grab(self) -> QImage:
        return self.view.grab().toImage()

    def at(self, node_id: str, x: float = 80, y: float = 13) -> QPoint:
        item = self.scene.node_items[node_id]
        return self.view.mapFromScene(item.mapToScene(QPointF(x, y)))


def test_a_palette_drop_far_out_shows_the_node_at_once(window, qtbot) -> None:  # noqa: ANN001
    far = FarWindow(qtbot, window)
    before = set(far.scene.node_items)
    drag_op_onto_canvas(window, "tanh", far.view.mapFromScene(QPointF(3000, 3500)))
    (added,) = set(far.scene.node_items) - before
    image = _edited(far)
    assert _header(image, far, added) == QColor(REGISTRY["tanh"].colour)
    _settled(far, qtbot)
    assert _shown(far.view) == _reference(far.view)


def test_the_delete_key_far_out_takes_the_node_away_at_once(window, qtbot) -> None:  # noqa: ANN001
    far = FarWindow(qtbot, window)
    canvas = QColor(current_theme().canvas)
    was = far.at("c45", 80, 8)
    qtbot.mouseClick(far.view.viewport(), LEFT, pos=far.at("c45", 80, 50))
    assert far.scene.selected_ids() == ["c45"]
    qtbot.keyClick(far.view, Qt.Key.Key_Delete)
    assert "c45" not in far.scene.node_items
    image = _edited(far)
    assert image.pixelColor(was) == canvas
    _settled(far, qtbot)
    assert _shown(far.view) == _reference(far.view)


def test_a_resized_far_view_is_rastered_sharp_once_it_rests(far: Far, qtbot) -> None:  # noqa: ANN001
    far.grab()
    recorded, rastered = far.scene.overview.recordings, far.view.far_rasters
    far.view.resize(900, 650)
    image = far.grab()  # the last raster, where it was: nothing recorded or rastered here
    assert (far.scene.overview.recordings, far.view.far_rasters) == (recorded, rastered)
    assert image.pixelColor(880, 630) == QColor(current_theme().canvas)  # beyond it
    qtbot.waitUntil(lambda: far.view.far_rasters == rastered + 1, timeout=10_000)
    assert far.scene.overview.recordings == recorded  # the same pictures, rastered anew
    assert _shown(far.view) == _reference(far.view)


def _wire_colours(image: QImage, far: Far, line: QLineF, x: float) -> set[str]:
    """The colours around where `line` crosses x (scene units), between nodes c0 and c1."""
    at = line.pointAt((line.x1() - x) / (line.x1() - line.x2()))
    middle = far.view.mapFromScene(at)
    near = [QPoint(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    return {image.pixelColor(middle + d).name() for d in near}


def test_a_wire_taken_away_and_a_new_one_far_out_show_at_once(far: Far, qtbot) -> None:  # noqa: ANN001
    wire = QColor(current_theme().wire).name()
    far.grab()
    line = QLineF(far.scene.edge_items[("c1", "sum", "b")].line)
    assert wire in _wire_colours(far.grab(), far, line, 190.0)
    far.doc.disconnect("sum", "b")
    assert _wire_colours(_edited(far), far, line, 190.0) == {current_theme().canvas}
    _settled(far, qtbot)
    assert _shown(far.view) == _reference(far.view)
    far.doc.connect("c1", "sum", "b")
    assert wire in _wire_colours(_edited(far), far, line, 190.0)
    _settled(far, qtbot)
    assert _shown(far.view) == _reference(far.view)


def test_an_older_recording_finishing_late_does_not_replace_a_newer_one(far: Far) -> None:
    overview = far.scene.overview
    far.grab()
    far.doc.move_node("c45", (5 * 220.0, 400.0))
    older = overview.stream()
    next(older)  # begun before the next move
    far.doc.move_node("c45", (5 * 220.0, 700.0))
    newer = overview.pictures()
    for _ in older:
        pass
    assert overview.pictures() == newer  # the same pieces: nothing recorded since
    assert overview.current()


def test_edits_without_pause_restart_the_raster_twice_then_let_it_finish(
    far: Far, qtbot  # noqa: ANN001
) -> None:
    """A stream of changes (a drag's steps, Run mode's passes) would restart the raster
    forever: after two restarts the one under way is finished and shown first."""
    overview = far.scene.overview
    far.grab()
    rastered = far.view.far_rasters
    far.view.far_raster.budget_ms = 0.0  # a piece per tick
    asked = []
    for i in range(1, 6):
        far.doc.move_node("c45", (5 * 220.0, 110.0 + 50.0 * i))
        far.grab()
        asked.append(far.view._far_wanted[1])
        far.view.far_raster.step()
    version = overview.version()
    assert asked == [version - 4, version - 3, version - 2, version - 2, version - 2]
    qtbot.waitUntil(lambda: far.view.far_rasters == rastered + 1, timeout=10_000)
    assert far.view._far[0][1] == version - 2  # shown though older: the last move drawn over
    assert _header(far.grab(), far, "c45") == QColor(REGISTRY["const"].colour)
    _settled(far, qtbot)
    assert far.view._far[0][1] == version
    assert _shown(far.view) == _reference(far.view)


def test_a_drop_of_many_nodes_far_out_is_rastered_without_another_event(
    far: Far, qtbot  # noqa: ANN001
) -> None:
    """More nodes than are drawn over the raster are dragged (only their outlines move
    meanwhile): the drop itself brings the new picture on screen, with no repaint asked by
    anything else."""
    far.scene.select([f"c{i}" for i in range(400)])
    far.grab()
    overview, view = far.scene.overview, far.view
    vp = view.viewport()
    start = far.at("c45", 80, 50)
    qtbot.mousePress(vp, LEFT, pos=start)
    for i in range(1, 5):
        qtbot.mouseMove(vp, start + QPoint(0, 5 * i))
    far.grab()
    recorded, rastered = overview.recordings, view.far_rasters
    qtbot.mouseRelease(vp, LEFT, pos=start + QPoint(0, 20))
    assert far.doc.pos("c0") == pytest.approx((0.0, 200.0), abs=6.0)
    qtbot.waitUntil(lambda: view.far_rasters == rastered + 1 and overview.current(), timeout=10_000)
    assert overview.recordings == recorded + 1
    assert _shown(view) == _reference(view)


class _Paints(QObject):
    """Counts a widget's paint events."""

    def __init__(self, widget) -> None:  # noqa: ANN001
        super().__init__(widget)
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:  # noqa: ANN001
        self.count += event.type() == QEvent.Type.Paint
        return False


def test_a_click_far_out_repaints_the_view_by_itself(far: Far, qtbot) -> None:  # noqa: ANN001
    """Qt forwards an item's update only to the views that painted the item, and a far view
    paints none: the overview asks it to repaint. Nothing here paints it on purpose, as
    nothing does on screen."""
    far.grab()
    qtbot.wait(RESTED_MS + 100)  # whatever was asked for is painted
    paints = _Paints(far.view.viewport())
    qtbot.mouseClick(far.view.viewport(), LEFT, pos=far.at("c45", 80, 50))
    assert far.scene.selected_ids() == ["c45"]
    qtbot.waitUntil(lambda: paints.count == 1, timeout=2000)
    selected = theme_colours(current_theme())["selected"]
    assert _shown(far.view).pixelColor(far.at("c45", 0, 60)) == selected


def test_a_pass_far_out_repaints_the_view_by_itself(window, qtbot) -> None:  # noqa: ANN001
    """A pass recolours the wires: the far view repaints and records them again with no
    other event."""
    far = FarWindow(qtbot, window)
    qtbot.wait(RESTED_MS + 100)
    overview, rastered = far.scene.overview, far.view.far_rasters
    window.registry["backward"].trigger()
    qtbot.waitUntil(lambda: far.view.far_rasters == rastered + 1, timeout=5000)
    assert overview.current()
