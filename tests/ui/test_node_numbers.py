"""What a node shows: numbers never cut, headers never elided, heatmaps with their scale."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QFontMetricsF
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView

from bpviz.engine.graph import Graph
from bpviz.ui.canvas import items
from bpviz.ui.canvas.items import NodeItem
from bpviz.ui.canvas.numbers import as_matrix, compact_number, fit_number, heatmap, scale_text
from bpviz.ui.theme import LIGHT


def _node(node_id: str, op: str, attrs: dict | None = None):  # noqa: ANN202
    g = Graph()
    g.add_node(node_id, op, attrs or {})
    return g.node(node_id)


def _room(item: NodeItem) -> float:
    return item.value_box().width() - 12


def _number(text: str) -> float:
    return float(text.replace("−", "-"))


def test_compact_notation() -> None:
    assert compact_number(0.0024736, 3) == "2.47e−3"
    assert compact_number(-123456.0, 2) == "−1.2e5"
    assert fit_number(0.0024736, 1000, len) == "0.002474"  # room enough: 4 digits
    assert fit_number(0.0024736, 7, len) == "2.47e−3"
    assert fit_number(0.0024736, 1, len) == "2e−3"  # the shortest, whatever the room


@pytest.mark.parametrize(
    "grad", [0.0024736, -0.0013412, 123456.789, -9.87654e-12, 0.5, -1234.5678, 7.0]
)
def test_a_number_always_fits_its_box(qtbot, grad: float) -> None:  # noqa: ANN001
    item = NodeItem(_node("s1", "sigmoid"), (0, 0))
    item.set_numbers(np.array(0.7311), np.array(grad))
    text = item.shown_text("grad")
    assert QFontMetricsF(items.NUMBER_FONT).horizontalAdvance(text) <= _room(item)
    assert _number(text) == pytest.approx(grad, rel=0.06)  # still the number, shortened
    assert item.shown_text("value") == "0.7311"


def test_the_tooltip_has_every_digit(qtbot) -> None:  # noqa: ANN001
    item = NodeItem(_node("s1", "sigmoid"), (0, 0))
    item.set_numbers(np.array(0.7311), np.array(0.002473643217651))
    item.hoverEnterEvent(_hover())
    assert "gradient ∂L/∂s1: 0.002473643217651" in item.toolTip()


def _hover():  # noqa: ANN202
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QGraphicsSceneHoverEvent

    return QGraphicsSceneHoverEvent(QEvent.Type.GraphicsSceneHoverEnter)


def test_the_header_widens_for_a_long_summary(qtbot) -> None:  # noqa: ANN001
    item = NodeItem(_node("hidden", "dense", {"units": 2, "activation": "sigmoid"}), (0, 0))
    title = QFontMetricsF(items.TITLE_FONT).horizontalAdvance("hidden")
    summary = QFontMetricsF(items.SMALL_FONT).horizontalAdvance("dense 2 · sigmoid")
    width = item.boundingRect().width() - 2 * (items.PORT_RADIUS + 2)
    assert width >= 8 + title + 12 + summary + 8
    assert item.output_anchor() == QPointF(width, items.HEADER_HEIGHT + items.ROW_HEIGHT / 2)
    short = NodeItem(_node("a", "add"), (0, 0))
    assert short.boundingRect().width() - 2 * (items.PORT_RADIUS + 2) == items.NODE_WIDTH


def test_a_sparse_gradient_is_not_blank(qtbot) -> None:  # noqa: ANN001
    """80 rows fold into 24 cells by their peak: the two non-zero entries stay visible."""
    g = np.zeros((80, 16))
    g[37, 5], g[2, 3] = 0.3, -0.5
    m = as_matrix(g, peaks=True)
    assert m.shape == (24, 16)
    assert sorted(m[m != 0].tolist()) == [-0.5, 0.3]
    image = heatmap(g, diverging=True, neutral=QColor("#e8eaed"))
    colours = {image.pixelColor(x, y).name() for x in range(16) for y in range(24)}
    # zero; −0.5 full red; 0.3 is 0.6 of the way from #e8eaed to blue #2166ac (truncated)
    assert colours == {"#e8eaed", "#b2182b", "#709ac6"}


def test_heatmaps_state_their_scale(qtbot) -> None:  # noqa: ANN001
    item = NodeItem(_node("h", "dense", {"units": 3}), (0, 0))
    base = item.boundingRect().height()
    item.set_numbers(np.array([[0.0, 2.5, 4.1]]), np.zeros((1, 3)))
    assert item.shown_text("value") == "0…4.1"
    assert item.shown_text("grad") == "0"  # an all-zero gradient says so
    assert item.boundingRect().height() == base + items.SCALE_HEIGHT
    item.set_numbers(np.array([[0.0, 2.5, 4.1]]), np.array([[0.02, -0.06, 0.0]]))
    assert item.shown_text("grad") == "±0.06"
    item.set_numbers(np.array(1.0), np.array(1.0))  # back to numbers: back to its height
    assert item.boundingRect().height() == base


def test_scale_text() -> None:
    assert scale_text(-0.0016, 0.0016, True) == "±0.0016"
    assert scale_text(-3.4e-5, 1e5, False) == "−3.4e−5…1.0e5"
    assert scale_text(2.0, 2.0, False) == "2"


@pytest.mark.parametrize(
    "values",
    [[0.024, 0.088], [-0.00123, 0.0456], [-12345.6, 98765.4], [1e-9, 3e-9], [-1e-4, 5e-4]],
)
def test_a_colour_scale_always_fits_its_box(qtbot, values: list[float]) -> None:  # noqa: ANN001
    item = NodeItem(_node("logit", "dense", {"units": 2}), (0, 0))
    item.set_numbers(np.array([values]), np.array([values]))
    for key in ("value", "grad"):
        width = QFontMetricsF(items.SCALE_FONT).horizontalAdvance(item.shown_text(key))
        assert width <= item.value_box().width(), (key, item.shown_text(key))


def test_a_few_nonzero_gradient_rows_survive_the_box_they_are_drawn_in(qtbot) -> None:  # noqa: ANN001
    """Moons after training: ∇ of a (200, 16) batch is zero except on two rows. Folded to the
    pixels the box has at each zoom (peaks kept), each of them owns a pixel row of its own."""
    g = np.zeros((200, 16))
    g[3, 5], g[150, 2] = 0.5, -0.25
    scene = QGraphicsScene()
    view = QGraphicsView(scene)
    view.resize(500, 300)
    qtbot.addWidget(view)
    item = NodeItem(_node("h1", "tanh"), (0, 0))
    scene.addItem(item)
    item.set_numbers(np.zeros((200, 16)), g)
    neutral = QColor(LIGHT.heat_neutral)
    for zoom, rows in ((1.0, 20), (0.5, 10)):  # the box is 20 units tall
        view.resetTransform()
        view.scale(zoom, zoom)
        view.grab()
        cells, image = item._folded["grad"]
        assert cells[0] == rows
        assert (image.height(), image.width()) == (rows, min(16, cells[1]))
        column = {y: image.pixelColor(x, y) for y in range(rows) for x in range(image.width())
                  if image.pixelColor(x, y) != neutral}  # fmt: skip
        first, last = 3 * rows // 200, 150 * rows // 200  # the blocks rows 3 and 150 fold into
        assert sorted(column) == [first, last]
        assert column[first] == QColor(LIGHT.grad_positive)  # the largest: the full colour
