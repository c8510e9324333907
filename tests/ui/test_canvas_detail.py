"""Big canvases: far-zoomed nodes draw without text, numbers never hide behind a badge or
raise warnings when they diverge, and a pass repaints only the nodes whose numbers moved."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QFont, QFontInfo, QFontMetricsF, QImage, QPainter
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView

from bpviz.engine.graph import Graph
from bpviz.ui.canvas import items
from bpviz.ui.canvas.items import Detail, NodeItem, detail_at
from bpviz.ui.canvas.numbers import describe, heatmap, magnitude, sign_colour
from bpviz.ui.main_window import MainWindow
from tests.ui.test_training_ui import SCENES, open_scene


def _node(node_id: str, op: str):  # noqa: ANN202
    g = Graph()
    g.add_node(node_id, op, {})
    return g.node(node_id)


class CountingPainter(QPainter):
    """Counts the text a paint draws."""

    def __init__(self, image: QImage) -> None:
        super().__init__(image)
        self.texts: list[str] = []

    def drawText(self, *args) -> None:  # noqa: ANN002, N802
        self.texts.append(args[-1])
        super().drawText(*args)


def _paint_at(item: NodeItem, scale: float) -> tuple[list[str], QImage]:
    image = QImage(400, 300, QImage.Format.Format_ARGB32)
    image.fill(QColor("#ffffff"))
    painter = CountingPainter(image)
    painter.translate(10, 10)
    painter.scale(scale, scale)
    item.paint(painter, None)
    painter.end()
    return painter.texts, image


def test_the_level_of_detail_switches_at_04() -> None:
    assert detail_at(0.05) is Detail.BOX
    assert detail_at(0.399) is Detail.BOX
    assert detail_at(0.4) is Detail.FULL
    assert detail_at(2.0) is Detail.FULL


def test_a_far_zoomed_node_is_a_box_without_text(qtbot) -> None:  # noqa: ANN001
    item = NodeItem(_node("s1", "sigmoid"), (0, 0))
    item.set_numbers(np.array(0.7311), np.array(-0.25))
    texts, _ = _paint_at(item, 1.0)
    # id, summary, the input port's name, then v and ∇ with their numbers
    assert texts == ["s1", "sigmoid", "x", "v", "0.7311", "∇", "−0.25"]
    texts, image = _paint_at(item, 0.3)
    assert texts == []
    # the box is there: the header in the op's colour, the body below it
    assert image.pixelColor(10 + round(80 * 0.3), 10 + round(10 * 0.3)) == QColor(item.spec.colour)
    assert image.pixelColor(10 + round(80 * 0.3), 10 + round(60 * 0.3)) == QColor(
        items.theme_colours(items.current_theme())["node_body"]
    )


def _shows(text: str, x: float) -> bool:
    """Whether `text` is `x` rounded to the digits it shows (or the same non-finite)."""
    if not np.isfinite(x):
        return text == {"nan": "NaN", "inf": "+Inf", "-inf": "−Inf"}[str(x)]
    text = text.replace("−", "-")
    if "e" in text:
        mantissa = text.split("e")[0]
        digits = sum(c.isdigit() for c in mantissa)
        return float(text) == float(f"{x:.{digits - 1}e}")
    decimals = len(text.split(".")[1]) if "." in text else 0
    return float(text) == round(x, decimals)


@pytest.mark.parametrize("number", [0.003217, -1234567.5, 1e300, np.inf, -np.inf, np.nan])
def test_a_flagged_gradient_is_never_hidden_by_its_badge(qtbot, number: float) -> None:  # noqa: ANN001
    item = NodeItem(_node("k5", "param"), (0, 0))
    item.set_numbers(np.array(number), np.array(number))
    item.set_flag("exploding")
    width = QFontMetricsF(items.NUMBER_FONT).horizontalAdvance
    r = item.boundingRect().adjusted(7.5, 7.5, -7.5, -7.5)
    for key in ("value", "grad"):
        text = item.shown_text(key)
        box = item.number_box(key)
        assert box.left() + 12 + width(text) <= box.right(), (key, text)  # inside its box
        assert _shows(text, number), (key, text)
    assert item.number_box("grad").right() < r.width() - items.BADGE  # left of the badge
    item.set_flag(None)  # without the badge the gradient gets its room back
    assert item.number_box("grad").right() == r.width() - 10


def test_diverging_numbers_format_without_warnings(qtbot) -> None:  # noqa: ANN001
    huge = np.array([[1e300, -1e300, 3e307], [np.inf, np.nan, -2e308]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert magnitude(np.array([1e300, 1e300])) == 1e300
        assert magnitude(np.array([3e200, -4e200])) == pytest.approx(np.sqrt(12.5) * 1e200)
        assert magnitude(np.array([1e308, np.inf])) == float("inf")
        assert sign_colour(np.array([1e308, 1e308])).name() == "#2166ac"
        image = heatmap(np.array([[-1e308, 1e308]]), diverging=False)
        assert image.pixelColor(0, 0).name() == "#440154"  # the ramp's two ends
        assert image.pixelColor(1, 0).name() == "#fde725"
        heatmap(huge, diverging=True)
        describe(huge)
        item = NodeItem(_node("h", "relu"), (0, 0))
        item.set_numbers(huge, huge)
        _paint_at(item, 1.0)
        item.set_numbers(np.array(1e300), np.array(-np.inf))
        assert (item.shown_text("value"), item.shown_text("grad")) == ("1.00e300", "−Inf")


def test_a_pass_repaints_only_the_nodes_whose_numbers_moved(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_scene(window, "chain_rule", tmp_path)  # e = a·b, d = e + c, L = d·f
    window.registry["forward"].trigger()
    window.canvas.overlays.bring_all(window.canvas)  # every node shows them (as if seen)
    updated: list[str] = []
    monkeypatch.setattr(NodeItem, "update", lambda self, *a: updated.append(self.node_id))
    window.registry["forward"].trigger()  # the same numbers again: nothing repaints
    assert updated == []
    shown = {nid: (item.value, item.grad) for nid, item in window.canvas.node_items.items()}
    new = {nid: (None if v is None else v.copy(), g) for nid, (v, g) in shown.items()}
    new["d"] = (np.array(4.5), None)  # equal copies and one new number: one repaint
    new["L"] = (new["L"][0], np.array(1.0))
    for nid, item in window.canvas.node_items.items():
        item.set_numbers(*new[nid])
    assert sorted(updated) == ["L", "d"]
    updated.clear()
    window.canvas.node_items["e"].set_numbers(np.array(np.nan), None)
    window.canvas.node_items["e"].set_numbers(np.array(np.nan), None)  # NaN equals NaN here
    window.canvas.node_items["e"].set_numbers(np.array(np.nan), None, stale=True)
    assert updated == ["e", "e"]


def test_zoomed_out_canvas_shows_boxes(window: MainWindow, tmp_path: Path) -> None:
    open_scene(window, "chain_rule", tmp_path)
    window.view.resetTransform()
    window.view.scale(0.3, 0.3)
    window.view.centerOn(window.canvas.node_items["e"])
    image = window.view.grab().toImage()
    item = window.canvas.node_items["e"]
    header = window.view.mapFromScene(item.mapToScene(QRectF(0, 0, 160, 26).center()))
    assert image.pixelColor(header) == QColor(item.spec.colour)


def test_a_diverging_lesson_shows_its_numbers_without_warnings(
    window: MainWindow, tmp_path: Path
) -> None:
    """The curve-fitting lesson's last step: plain SGD at lr 0.01 overshoots until the numbers
    pass 1e154 (their squares overflow) and then 1e308."""
    path = tmp_path / "curve.scene.json"
    path.write_text((SCENES / "lessons" / "curve.scene.json").read_text())
    assert window.files.open_file(path)
    window.document.set_training({"optimizer": "sgd", "lr": 0.01, "seed": 0})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(60):
            window.registry["step"].trigger()
        window.view.grab()
    item = window.canvas.node_items["k5"]
    assert abs(float(item.grad)) > 1e150  # it did diverge
    assert item.flag == "exploding"
    width = QFontMetricsF(items.NUMBER_FONT).horizontalAdvance
    for key in ("value", "grad"):
        box = item.number_box(key)
        assert box.left() + 12 + width(item.shown_text(key)) <= box.right()
        assert _shows(item.shown_text(key), float(getattr(item, key)))


@pytest.mark.parametrize("zoom", [0.4, 0.458, 0.5, 0.71, 0.9, 1.21, 1.5, 2.5])
def test_numbers_fit_their_box_at_every_zoom_that_draws_text(qtbot, zoom: float) -> None:  # noqa: ANN001
    """Qt draws a scaled font at a rounded pixel size: measured at that size, what a node
    paints at `zoom` stays inside its box (the value, and a gradient beside its badge)."""
    scene = QGraphicsScene()
    view = QGraphicsView(scene)
    view.resize(400, 300)
    qtbot.addWidget(view)
    item = NodeItem(_node("s1", "param"), (0, 0))
    scene.addItem(item)
    view.scale(zoom, zoom)
    px = round(QFontInfo(items.NUMBER_FONT).pixelSize() * zoom)
    sized = QFont(items.NUMBER_FONT)
    sized.setPixelSize(px)
    painted = QFontMetricsF(sized)
    rng = np.random.default_rng(5)
    numbers = [0.002706, -9.2234e-3, 0.0027061, -0.0092234, 123456.7, -98765.43]
    numbers += list(rng.choice([-1, 1], 40) * 10.0 ** rng.uniform(-6, 6, 40))
    for flag in (None, "exploding"):
        for number in numbers:
            item.set_numbers(np.array(number), np.array(number))
            item.set_flag(flag)
            view.centerOn(item)
            view.grab()  # painted at this zoom
            for key in ("value", "grad"):
                scale, text = item._texts[key]  # what the paint drew
                assert scale == pytest.approx(zoom)
                box = item.number_box(key)
                room = box.width() - 12
                assert painted.horizontalAdvance(text) / zoom <= room, (key, text, zoom)
                assert _shows(text, number), (key, text)
