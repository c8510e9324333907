"""A dense layer opened into its neurons, driven with real mouse events: expand and collapse,
hovering and dragging a weight, undo, the gradient view, dead units, the backward pulse."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QContextMenuEvent, QImage, QMouseEvent, QPainter
from PySide6.QtWidgets import QApplication, QMenu

from bpviz.ui.theme import GRAD_NEGATIVE, GRAD_POSITIVE

SCENES = Path(__file__).resolve().parents[2] / "scenes"


def scene_dict(activation: str = "relu") -> dict:
    def node(nid, op, inputs=None, pos=(0, 0), **attrs):  # noqa: ANN001, ANN202
        return {"id": nid, "op": op, "inputs": inputs or {}, "attrs": attrs, "pos": list(pos)}

    return {
        "format": "bpviz-scene",
        "version": 1,
        "output": "loss",
        "nodes": [
            node("x", "input", pos=(0, 0)),
            node("h", "dense", {"x": "x"}, (220, 0), units=4, activation=activation),
            node("out", "dense", {"x": "h"}, (440, 0), units=1),
            node("t", "target", pos=(440, 140)),
            node("loss", "bce", {"pred": "out", "target": "t"}, (660, 60)),
        ],
        "data": {"kind": "xor", "n": 40, "noise": 0.1, "seed": 2},
        "training": {"optimizer": "sgd", "lr": 0.5, "seed": 1},
    }


@pytest.fixture(autouse=True)
def buttons_up(qtbot, window):  # noqa: ANN001, ANN201
    """QTest remembers a double-click's button as held: let it go, so the next test's mouse
    moves are moves, not drags."""
    yield
    qtbot.mouseRelease(window.view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(1, 1))


@pytest.fixture
def opened(window, tmp_path: Path):  # noqa: ANN001, ANN201
    path = tmp_path / "net.json"
    path.write_text(json.dumps(scene_dict()))
    assert window.files.open_file(path)
    c = window.training_ui.controller
    assert c.backward()
    return window


def vp_point(window, scene_pos: QPointF) -> QPoint:  # noqa: ANN001
    return window.view.mapFromScene(scene_pos)


def header(window, node_id: str) -> QPoint:  # noqa: ANN001
    item = window.canvas.node_items[node_id]
    return vp_point(window, item.mapToScene(QPointF(30, 10)))


def open_h(qtbot, window):  # noqa: ANN001, ANN201
    qtbot.mouseDClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=header(window, "h"))
    views = window.canvas.neurons
    assert views.is_expanded("h")
    window.view.fit_all()
    return views.panels["h"], views.weights["h"]


def hover(window, pos: QPoint) -> None:  # noqa: ANN001
    """The mouse moving with no button held (QTest's mouseMove makes no hover events)."""
    vp = window.view.viewport()
    event = QMouseEvent(
        QEvent.Type.MouseMove,
        QPointF(pos),
        QPointF(vp.mapToGlobal(pos)),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(vp, event)


def on_line(window, weights, i: int, j: int, t: float = 0.8) -> QPoint:  # noqa: ANN001
    a, b = weights.lines[(i, j)]
    return vp_point(window, a + (b - a) * t)


def by_hand(c):  # noqa: ANN001, ANN201
    """δ and ∂L/∂W of layer h from the pass's values: relu′ = (a > 0)."""
    x, a, g = c.value("x"), c.value("h"), c.grad("h")
    delta = g * (a > 0)
    return x, delta, x.T @ delta


def test_double_click_opens_four_neuron_tiles_and_collapses(qtbot, opened) -> None:  # noqa: ANN001
    panel, weights = open_h(qtbot, opened)
    assert panel.units == 4 and panel.data.kind == "map"
    assert [im.width() for im in panel.data.images] == [48] * 4
    assert sorted(weights.lines) == [(i, j) for i in range(2) for j in range(4)]
    # a weight line ends at its unit's tile
    assert weights.lines[(1, 3)][1] == panel.tile_in(3)
    tile = vp_point(opened, panel.mapToScene(panel.tile_rect(0).center()))
    qtbot.mouseDClick(opened.view.viewport(), Qt.MouseButton.LeftButton, pos=tile)
    assert not opened.canvas.neurons.is_expanded("h")
    assert panel.scene() is None and weights.scene() is None


def test_fitting_the_view_shows_every_node_and_the_tiles_hung_under_one(qtbot, opened) -> None:  # noqa: ANN001
    panel, _ = open_h(qtbot, opened)  # it fits the view (F) once the layer is open
    canvas = opened.canvas
    tiles = panel.sceneBoundingRect()
    h = canvas.node_items["h"]
    assert tiles.bottom() > h.sceneBoundingRect().bottom() + 50  # hung under its node
    edges = [item.sceneBoundingRect() for item in canvas.node_items.values()]
    left, top = min(r.left() for r in edges), min(r.top() for r in edges)
    right = max(r.right() for r in edges)
    assert canvas.nodes_rect() == QRectF(left, top, right - left, tiles.bottom() - top)
    visible = opened.view.mapToScene(opened.view.viewport().rect()).boundingRect()
    assert visible.contains(tiles)
    assert all(visible.contains(r) for r in edges)


def test_context_menu_shows_neurons(qtbot, opened) -> None:  # noqa: ANN001
    picked: list[str] = []

    def choose() -> None:
        menu = QApplication.activePopupWidget()
        assert isinstance(menu, QMenu)
        texts = [a.text() for a in menu.actions()]
        picked.extend(texts)
        next(a for a in menu.actions() if a.text() == "Show Neurons").trigger()
        menu.close()

    QTimer.singleShot(50, choose)
    vp = opened.view.viewport()
    pos = header(opened, "h")
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, vp.mapToGlobal(pos))
    QApplication.sendEvent(vp, event)  # what a right click sends
    qtbot.waitUntil(lambda: bool(picked))
    assert picked[:2] == ["Show Neurons", "Expand to Scalar Ops"]  # other parts' entries follow
    assert opened.canvas.neurons.is_expanded("h")


def test_the_maps_are_the_units_over_the_data_box(qtbot, opened) -> None:  # noqa: ANN001
    panel, _ = open_h(qtbot, opened)
    c = opened.training_ui.controller
    W, b = (c.session.executor.params["h"][k] for k in ("W", "b"))
    maps = opened.canvas.neurons._maps
    xs, ys = maps.plane.xs, maps.plane.ys
    # the image's top-left pixel is the highest y, lowest x of the box: relu(x·W + b) there
    z = xs[0] * W[0] + ys[-1] * W[1] + b
    scale = np.percentile(np.abs(maps.compute(["h"])["h"]), 98)
    for j in range(4):
        colour = QColor(panel.data.images[j].pixel(0, 0))
        shade = min(max(z[j], 0.0) / scale, 1.0)
        expected = 255 + (0xE6 - 255) * 0.6 * shade  # white towards orange #e69f00
        assert colour.red() == pytest.approx(expected, abs=1.5)


def test_hovering_a_weight_shows_its_gradient_and_chain_rule(qtbot, opened) -> None:  # noqa: ANN001
    _, weights = open_h(qtbot, opened)
    c = opened.training_ui.controller
    W = c.session.executor.params["h"]["W"]
    x, delta, dW = by_hand(c)
    hover(opened, on_line(opened, weights, 1, 2, 0.75))
    hover(opened, on_line(opened, weights, 1, 2))
    qtbot.waitUntil(lambda: weights.hovered == (1, 2))
    lines = weights.toolTip().splitlines()
    assert lines[0] == "h.W[1,2]: x2 → unit 2"
    assert lines[1] == f"w = {W[1, 2]:.4g}"
    assert lines[2] == f"∂L/∂w = {dW[1, 2]:.4g}"
    assert lines[3].startswith(f"chain rule: ∂L/∂w = Σₙ x2·δ2 over {len(x)} points = (")
    assert lines[3].endswith(f" = {dW[1, 2]:.4g}")


def drag(qtbot, window, start: QPoint, dx: int) -> None:  # noqa: ANN001
    vp = window.view.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=start)
    for k in range(1, 6):
        qtbot.mouseMove(vp, start + QPoint(dx * k // 5, 0))
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=start + QPoint(dx, 0))


def test_dragging_a_weight_changes_it_live_and_undoes_in_one_step(qtbot, opened) -> None:  # noqa: ANN001
    _, weights = open_h(qtbot, opened)
    c = opened.training_ui.controller
    old = np.array(c.session.executor.params["h"]["W"])
    steps_before = opened.undo.qstack.count()
    seen: list[float] = []
    opened.document.params_set.connect(lambda nid, arrays: seen.append(float(arrays["W"][0, 1])))
    drag(qtbot, opened, on_line(opened, weights, 0, 1), 50)
    new = c.session.executor.params["h"]["W"]
    assert new[0, 1] == pytest.approx(round(old[0, 1] + 0.5, 2), abs=1e-9)
    np.testing.assert_array_equal(np.delete(new.ravel(), 1), np.delete(old.ravel(), 1))
    assert len(seen) >= 5  # live: the weight moved with the mouse
    assert opened.undo.qstack.count() == steps_before + 1
    assert opened.undo.qstack.undoText() == "Set h.W[0,1]"
    # what is on show followed: the pass was replayed with the new weight
    np.testing.assert_allclose(
        c.value("h"),
        np.maximum(c.value("x") @ new + c.session.executor.params["h"]["b"], 0),
        atol=1e-12,
    )
    opened.undo.undo()
    np.testing.assert_array_equal(c.session.executor.params["h"]["W"], old)
    opened.undo.redo()
    assert c.session.executor.params["h"]["W"][0, 1] == pytest.approx(round(old[0, 1] + 0.5, 2))


def colour_count(window, rect, colour: QColor) -> int:  # noqa: ANN001
    image = QImage(int(rect.width()) * 2, int(rect.height()) * 2, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    window.canvas.render(painter, source=rect)
    painter.end()
    target = (colour.red(), colour.green(), colour.blue())
    count = 0
    for y in range(image.height()):
        for x in range(image.width()):
            p = QColor(image.pixel(x, y))
            if (
                max(abs(p.red() - target[0]), abs(p.green() - target[1]), abs(p.blue() - target[2]))
                < 12
            ):
                count += 1
    return count


def test_gradient_view_toggle_colours_points_by_their_gradient(qtbot, opened) -> None:  # noqa: ANN001
    panel, _ = open_h(qtbot, opened)
    tiles = [panel.mapRectToScene(panel.tile_rect(j).adjusted(5, 5, -5, -5)) for j in range(4)]

    def gradient_pixels() -> int:
        colours = (GRAD_POSITIVE, GRAD_NEGATIVE)
        return sum(colour_count(opened, t, c) for t in tiles for c in colours)

    assert gradient_pixels() == 0
    chip = vp_point(opened, panel.mapToScene(panel.toggle_rect().center()))
    qtbot.mouseClick(opened.view.viewport(), Qt.MouseButton.LeftButton, pos=chip)
    assert panel.gradient_view
    assert gradient_pixels() > 40
    qtbot.mouseClick(opened.view.viewport(), Qt.MouseButton.LeftButton, pos=chip)
    assert not panel.gradient_view


def test_a_dead_relu_gets_a_badge_and_the_collapsed_layer_counts_it(qtbot, opened) -> None:  # noqa: ANN001
    c = opened.training_ui.controller
    b = np.array(c.session.executor.params["h"]["b"])
    b[2] = -100.0  # no training point reaches this unit any more
    opened.document.set_params("h", {"b": b})
    assert c.forward()
    qtbot.waitUntil(lambda: opened.canvas.neurons.count_text("h") == "1 of 4 dead")
    panel, _ = open_h(qtbot, opened)
    assert [panel.badge(j) for j in range(4)] == [None, None, "dead", None]
    assert opened.canvas.neurons.count_text("h") == ""  # the opened panel says it instead
    tile = vp_point(opened, panel.mapToScene(panel.tile_rect(2).center()))
    hover(opened, tile + QPoint(3, 3))
    hover(opened, tile)
    qtbot.waitUntil(lambda: panel.hovered_tile == 2)
    assert "dead: relu is 0 on every training point" in panel.toolTip()
    assert panel.toolTip().splitlines()[1] == "b = -100"


def test_next_node_sends_a_pulse_back_along_the_weights(qtbot, opened) -> None:  # noqa: ANN001
    _, weights = open_h(qtbot, opened)
    c = opened.training_ui.controller
    c.reset_pass()
    while c.phase != "backward" or c.next_node != "h":
        assert c.next_step() is not None
        assert not weights.pulsing()
    c.next_step()
    assert weights.pulsing()


def test_the_input_opens_into_feature_tiles_that_feed_the_weights(qtbot, opened) -> None:  # noqa: ANN001
    panel, weights = open_h(qtbot, opened)
    assert panel.stubs_shown
    vp = opened.view.viewport()
    qtbot.mouseDClick(vp, Qt.MouseButton.LeftButton, pos=header(opened, "x"))
    features = opened.canvas.neurons.panels["x"]
    assert features.units == 2 and features.input_names == ["x1", "x2"]
    assert features.data.kind == "map"
    assert not panel.stubs_shown
    assert weights.lines[(1, 3)] == (features.tile_out(1), panel.tile_in(3))
    # feature x1's map grows from left to right: blue on the left edge, orange on the right
    image = features.data.images[0]
    left, right = QColor(image.pixel(0, 24)), QColor(image.pixel(47, 24))
    assert left.blue() > left.red() and right.red() > right.blue()


def test_weights_are_recoloured_by_their_gradient_after_backward(qtbot, opened) -> None:  # noqa: ANN001
    _, weights = open_h(qtbot, opened)
    c = opened.training_ui.controller
    _, _, dW = by_hand(c)
    colour = weights._pens[(0, 1)].color()
    expected = GRAD_POSITIVE if dW[0, 1] > 0 else GRAD_NEGATIVE
    assert (colour.red(), colour.green(), colour.blue()) == expected.getRgb()[:3]
    assert c.forward()  # values only: the lines show the weights again, orange > 0, blue < 0
    qtbot.waitUntil(lambda: not weights.show_grads)
    W = c.session.executor.params["h"]["W"]
    colour = weights._pens[(0, 1)].color()
    assert colour.name() == ("#e69f00" if W[0, 1] > 0 else "#0072b2")
    top = np.unravel_index(np.abs(W).argmax(), W.shape)
    widths = {k: p.widthF() for k, p in weights._pens.items()}
    assert widths[top] == max(widths.values()) == pytest.approx(4.0)


def expand_from_menu(qtbot, window) -> None:  # noqa: ANN001
    """Right-click h's header and choose Expand to Scalar Ops."""

    def choose() -> None:
        menu = QApplication.activePopupWidget()
        next(a for a in menu.actions() if a.text() == "Expand to Scalar Ops").trigger()
        menu.close()

    QTimer.singleShot(50, choose)
    vp = window.view.viewport()
    pos = header(window, "h")
    QApplication.sendEvent(
        vp, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, vp.mapToGlobal(pos))
    )
    qtbot.waitUntil(lambda: window.document.node("h").op == "concat")


def test_expand_to_scalar_ops_from_the_menu_is_one_undo_step(qtbot, opened) -> None:  # noqa: ANN001
    before = opened.document.to_scene_dict()
    c = opened.training_ui.controller
    W = np.array(c.session.executor.params["h"]["W"])
    expand_from_menu(qtbot, opened)
    assert opened.document.node("h.w12").attrs["value"] == W[1, 2]
    assert opened.undo.qstack.undoText() == "Expand h to Scalar Ops"
    opened.undo.undo()
    assert opened.document.to_scene_dict() == before
    assert c.forward()
    np.testing.assert_array_equal(c.session.executor.params["h"]["W"], W)


def test_input_features_are_named_by_their_transforms(qtbot, window) -> None:  # noqa: ANN001
    assert window.files.open_file(SCENES / "circles_features.json")
    assert window.training_ui.controller.forward()
    vp = window.view.viewport()
    qtbot.mouseDClick(vp, Qt.MouseButton.LeftButton, pos=header(window, "x"))
    features = window.canvas.neurons.panels["x"]
    assert features.input_names == ["x1^2", "x2^2"]
    qtbot.mouseDClick(vp, Qt.MouseButton.LeftButton, pos=header(window, "score"))
    assert window.canvas.neurons.panels["score"].input_names == ["x1^2", "x2^2"]
    # x1^2 over the plane: 0 in the middle column, largest at the left and right edges
    image = features.data.images[0]
    middle, edge = QColor(image.pixel(24, 24)), QColor(image.pixel(0, 24))
    assert middle.red() > 245 and middle.blue() > 245 and edge.blue() < 120


def test_a_pulse_under_way_ends_quietly_when_the_canvas_changes_document(qtbot, opened) -> None:  # noqa: ANN001
    from bpviz.model.document import Document

    _, weights = open_h(qtbot, opened)
    c = opened.training_ui.controller
    c.reset_pass()
    while c.phase != "backward" or c.next_node != "h":
        c.next_step()
    c.next_step()
    assert weights.pulsing()
    opened.canvas.set_document(Document())  # the items go while the pulse runs
    assert not weights.pulsing()
    qtbot.wait(opened.canvas.pulses.duration_ms + 100)  # no callback reaches a deleted item
    assert opened.canvas.neurons.panels == {}


def test_in_the_dark_theme_weights_and_tiles_take_its_colours(qtbot, opened) -> None:  # noqa: ANN001
    from bpviz.ui.theme import DARK, apply_theme

    apply_theme("dark")
    try:
        panel, weights = open_h(qtbot, opened)
        weights.update()
        _, _, dW = by_hand(opened.training_ui.controller)
        qtbot.waitUntil(lambda: (0, 1) in weights._pens)
        expected = DARK.grad_positive if dW[0, 1] > 0 else DARK.grad_negative
        assert weights._pens[(0, 1)].color().name() == expected
        info = panel.tile_rect(0)
        spot = panel.mapRectToScene(QRectF(info.right() + 60, info.bottom() - 6, 4, 4))
        body = QColor(DARK.node_body)  # the info strip: the dark node colour, not white
        assert colour_count(opened, spot, body) == 8 * 8
    finally:
        apply_theme("light")


@pytest.mark.parametrize("v", [-0.009988, -1234567.5, -1.51e-4, -1e300, float("-inf")])
def test_a_units_numbers_fit_beside_its_tile(qapp, v: float) -> None:  # noqa: ANN001
    from PySide6.QtGui import QFontMetricsF

    from bpviz.ui.canvas.neurons import INFO, SMALL
    from bpviz.ui.canvas.numbers import format_number

    text = f"Σδ {format_number(v)}"
    assert QFontMetricsF(SMALL).horizontalAdvance(text) <= INFO - 6  # 5 in, 1 spare


# ---- the timeline's scrubbed step --------------------------------------------------------
def pen_widths(g: np.ndarray) -> np.ndarray:
    """A weight's pen width: 0.6 + 3.4 · its share of the layer's largest |g|, in 12 shades."""
    return 0.6 + 3.4 * np.round(12 * np.abs(g) / np.abs(g).max()) / 12


def reference_after(path: Path, steps: int):  # noqa: ANN201
    """A headless session of the same file trained `steps` steps, with a full pass after."""
    import bpviz

    session = bpviz.load_scene(path).session
    session.train(steps)
    session.forward()
    session.backward()
    return session


def test_scrubbing_the_timeline_shows_that_steps_numbers_in_the_panel(
    qtbot,  # noqa: ANN001
    window,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    path = tmp_path / "net.json"
    path.write_text(json.dumps(scene_dict()))
    assert window.files.open_file(path)
    for _ in range(6):
        window.registry["step"].trigger()
    panel, weights = open_h(qtbot, window)
    live = reference_after(path, 6)
    early = reference_after(path, 1)
    gw_live, gw_early = live.executor.param_grads["h"]["W"], early.executor.param_grads["h"]["W"]
    assert not np.array_equal(pen_widths(gw_live), pen_widths(gw_early))  # the test can tell

    def shown() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        widths = np.array([[weights._pens[(i, j)].widthF() for j in range(4)] for i in range(2)])
        return panel.numbers.b.copy(), panel.numbers.delta_sum.copy(), widths

    def images() -> list[QImage]:
        return [QImage(im) for im in panel.data.images]

    b, ds, widths = shown()
    np.testing.assert_allclose(b, live.executor.params["h"]["b"], rtol=0, atol=1e-12)
    live_maps = images()

    window.timeline.slider.setFocus()
    qtbot.keyClick(window.timeline.slider, Qt.Key.Key_Home)  # the first kept step: step 1
    assert window.training_ui.snapshots.get(window.timeline.current_step()).step == 1
    b, ds, widths = shown()
    np.testing.assert_allclose(b, early.executor.params["h"]["b"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ds, early.executor.param_grads["h"]["b"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(widths, pen_widths(gw_early), rtol=0, atol=1e-9)
    assert weights.show_grads and not panel.stale
    unit = panel.tooltip_for(1).splitlines()
    assert unit[1] == f"b = {early.executor.params['h']['b'][1]:.4g}"
    assert images() != live_maps  # the maps are that step's too

    qtbot.mouseClick(window.timeline.latest_button, Qt.MouseButton.LeftButton)
    b, ds, widths = shown()
    np.testing.assert_allclose(b, live.executor.params["h"]["b"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ds, live.executor.param_grads["h"]["b"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(widths, pen_widths(gw_live), rtol=0, atol=1e-9)
    assert images() == live_maps


def test_a_weight_cannot_be_dragged_while_scrubbed_back(qtbot, opened) -> None:  # noqa: ANN001
    window = opened
    for _ in range(3):
        window.registry["step"].trigger()
    _, weights = open_h(qtbot, window)
    W = np.array(window.training_ui.controller.session.executor.params["h"]["W"])
    window.timeline.slider.setFocus()
    qtbot.keyClick(window.timeline.slider, Qt.Key.Key_Home)
    assert weights._tip(0, 1).endswith("at step 1 (Latest on the timeline to edit)")
    count = window.undo.qstack.count()
    drag(qtbot, window, on_line(window, weights, 0, 1), 50)
    assert window.undo.qstack.count() == count
    held = window.training_ui.controller.session.executor.params["h"]["W"]
    np.testing.assert_array_equal(held, W)


# ---- numbers from before an edit ---------------------------------------------------------
def text_darkness(panel, j: int = 0) -> int:  # noqa: ANN001
    """How dark the darkest pixel of unit j's numbers is (0 white … 255 black), as the panel
    paints them over white: the stale veil washes them out, as it does a node's."""
    from PySide6.QtWidgets import QStyleOptionGraphicsItem

    from bpviz.ui.canvas.neurons import INFO

    r = panel.boundingRect()
    image = QImage(int(r.width()) + 4, int(r.height()) + 4, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.translate(-r.left(), -r.top())
    panel.paint(painter, QStyleOptionGraphicsItem())
    painter.end()
    t = panel.tile_rect(j)
    x0, y0 = int(t.right() + 3 - r.left()), int(t.top() + 14 - r.top())  # below "unit j"
    return max(
        255 - QColor(image.pixel(x, y)).lightness()
        for x in range(x0, x0 + int(INFO) - 30)
        for y in range(y0, y0 + int(t.height()) - 16)
    )


def test_an_edit_in_the_inspector_veils_the_panels_numbers_until_the_next_pass(
    qtbot,  # noqa: ANN001
    opened,  # noqa: ANN001
) -> None:
    from tests.ui.conftest import attr_editor, retype

    window = opened
    panel, weights = open_h(qtbot, window)
    c = window.training_ui.controller
    b = np.array(c.session.executor.params["h"]["b"])
    window.canvas.select(["out"])
    assert not panel.stale and weights.show_grads
    assert text_darkness(panel) > 150  # b and Σδ in the theme's text colour
    retype(qtbot, attr_editor(window.inspector, "init"), "zeros")  # the next layer's weights
    assert window.document.node("out").attrs["init"] == "zeros"
    assert panel.stale and text_darkness(panel) < 120
    assert not weights.show_grads  # a gradient of the graph before the edit is not shown
    assert "from before the last edit" in panel.tooltip_for(0)
    np.testing.assert_array_equal(panel.numbers.b, b)  # h's own weights are still these
    window.registry["forward"].trigger()
    qtbot.waitUntil(lambda: not panel.stale)
    assert text_darkness(panel) > 150


def test_an_edit_that_redraws_the_layers_weights_shows_none_until_the_next_pass(
    qtbot,  # noqa: ANN001
    opened,  # noqa: ANN001
) -> None:
    from tests.ui.conftest import attr_editor, retype

    window = opened
    panel, weights = open_h(qtbot, window)
    window.canvas.select(["h"])
    retype(qtbot, attr_editor(window.inspector, "init"), "zeros")
    qtbot.waitUntil(lambda: panel.numbers is None)
    assert weights.numbers is None and weights._pens == {}  # plain lines: no weights yet
    assert panel.tooltip_for(0) == "h unit 0"
    window.registry["forward"].trigger()
    qtbot.waitUntil(lambda: panel.numbers is not None)
    np.testing.assert_array_equal(panel.numbers.W, np.zeros((2, 4)))
    assert not panel.stale


def test_a_rewired_layer_is_veiled_until_the_next_pass(qtbot, opened) -> None:  # noqa: ANN001
    from tests.ui.gestures import in_port, mouse_drag, out_port

    window = opened
    panel, _ = open_h(qtbot, window)
    panel_out, weights_out = (
        window.canvas.neurons.expand("out") and window.canvas.neurons.panels["out"],
        window.canvas.neurons.weights["out"],
    )
    assert not panel_out.stale
    window.view.fit_all()
    assert text_darkness(panel_out) > 150
    mouse_drag(qtbot, window, out_port(window, "x"), in_port(window, "out", "x"))
    assert window.document.node("out").inputs["x"] == "x"
    assert panel_out.stale and panel.stale and text_darkness(panel_out) < 120
    assert not weights_out.show_grads
    window.registry["forward"].trigger()
    qtbot.waitUntil(lambda: not panel_out.stale)
    assert panel_out.numbers.n_in == 2 and sorted(weights_out.lines) == [(0, 0), (1, 0)]


def test_undoing_a_weight_veils_the_pass_and_shows_the_weight_as_set(qtbot, opened) -> None:  # noqa: ANN001
    window = opened
    panel, weights = open_h(qtbot, window)
    c = window.training_ui.controller
    drag(qtbot, window, on_line(window, weights, 0, 1), 50)
    assert not panel.stale
    before = [[weights._pens[(i, j)].widthF() for j in range(4)] for i in range(2)]
    window.undo.undo()
    assert panel.stale and text_darkness(panel) < 120
    W = c.session.executor.params["h"]["W"]
    assert not np.allclose(before, pen_widths(W))

    def widths() -> list[list[float]]:
        return [[weights._pens[(i, j)].widthF() for j in range(4)] for i in range(2)]

    qtbot.waitUntil(lambda: np.allclose(widths(), pen_widths(W), rtol=0, atol=1e-9))
    np.testing.assert_array_equal(panel.numbers.W, W)
    assert not weights.show_grads and panel.stale


def test_plus_on_the_header_rebuilds_the_panel_with_one_more_tile(qtbot, opened) -> None:  # noqa: ANN001
    window = opened
    panel, _ = open_h(qtbot, window)
    controls = window.canvas.header_controls["h"]
    plus = window.view.mapFromScene(controls.scene_centre("plus"))
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=plus)
    assert window.document.node("h").attrs["units"] == 5
    views = window.canvas.neurons
    rebuilt = views.panels["h"]
    assert rebuilt is not panel and panel.scene() is None
    assert rebuilt.units == 5 and len(rebuilt.data.images) == 5
    assert sorted(views.weights["h"].lines) == [(i, j) for i in range(2) for j in range(5)]
    assert rebuilt.numbers is None  # the old four units' numbers are not shown on five tiles
    assert text_darkness(rebuilt, 4) < 120  # the new tile paints, with no numbers yet
    window.registry["forward"].trigger()
    qtbot.waitUntil(lambda: rebuilt.numbers is not None)
    assert rebuilt.numbers.W.shape == (2, 5) and not rebuilt.stale
    window.undo.undo()
    assert views.panels["h"].units == 4


def test_an_update_veils_the_pass_as_on_nodes_but_keeps_the_gradient_colours(
    qtbot,  # noqa: ANN001
    opened,  # noqa: ANN001
) -> None:
    panel, weights = open_h(qtbot, opened)
    qtbot.keyClick(opened.view, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)  # Update
    assert opened.training_ui.controller.phase == "updated"
    assert opened.canvas.node_items["h"].stale and panel.stale
    assert weights.show_grads  # the gradient the update used, not a stale graph's
    qtbot.keyClick(opened.view, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)  # Backward
    qtbot.waitUntil(lambda: not panel.stale)
    assert not opened.canvas.node_items["h"].stale


def test_expanding_from_the_menu_carries_the_momentum_over(qtbot, window, tmp_path: Path) -> None:  # noqa: ANN001
    scene = scene_dict()
    scene["training"] = {"optimizer": "momentum", "lr": 0.1, "momentum": 0.9, "seed": 1}
    path = tmp_path / "net.json"
    path.write_text(json.dumps(scene))
    assert window.files.open_file(path)
    for _ in range(3):
        window.registry["step"].trigger()
    slots = window.training_ui.controller.session.trainer.optimizer.slots
    m = {k: np.array(s["m"]) for k, s in slots["h"].items()}
    assert float(np.abs(m["W"]).max()) > 1e-3
    expand_from_menu(qtbot, window)
    slots = window.training_ui.controller.session.trainer.optimizer.slots
    assert float(slots["h.w12"]["value"]["m"]) == m["W"][1, 2]
    assert float(slots["h.b3"]["value"]["m"]) == m["b"][3]
    window.undo.undo()
    np.testing.assert_array_equal(slots["h"]["W"]["m"], m["W"])
    assert "h.w12" not in slots
