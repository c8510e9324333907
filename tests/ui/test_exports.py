"""Exports produce valid files of the requested size: PNG, SVG, pass frames, clipboard."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QLabel

from bpviz.engine.files import FileProblem
from bpviz.model.document import Document
from bpviz.model.training import TrainingController
from bpviz.scene import load_scene
from bpviz.ui.canvas.scene import CanvasScene
from bpviz.ui.canvas.view import CanvasView
from bpviz.ui.exports import (
    clean_frames,
    copy_image_to_clipboard,
    export_png,
    export_svg,
    one_pass,
    record_pass_frames,
    render_scene,
)
from bpviz.ui.theme import DARK, LIGHT, apply_theme
from bpviz.ui.undo import UndoStack

SCENES = Path(__file__).resolve().parents[2] / "scenes"
SVG_NS = "{http://www.w3.org/2000/svg}"


def _distinct_colours(image: QImage, step: int = 4) -> int:
    colours = set()
    for y in range(0, image.height(), step):
        for x in range(0, image.width(), step):
            colours.add(image.pixel(x, y))
    return len(colours)


def _non_background_fraction(image: QImage, background: str, step: int = 3) -> float:
    plain = QColor(background).rgb()
    total = hits = 0
    for y in range(0, image.height(), step):
        for x in range(0, image.width(), step):
            total += 1
            hits += image.pixel(x, y) != plain
    return hits / total


@pytest.fixture
def dark(qapp):  # noqa: ANN001, ANN201
    """The dark theme for one test; the next test starts light again."""
    apply_theme("dark")
    yield DARK
    apply_theme("light")


@pytest.fixture
def neuron_doc() -> Document:
    return Document.from_scene_dict(load_scene(SCENES / "neuron.json").to_dict())


@pytest.fixture
def canvas(qtbot, neuron_doc: Document):  # noqa: ANN001, ANN201
    undo = UndoStack(neuron_doc)
    scene = CanvasScene(undo.push)
    scene.set_document(neuron_doc)
    scene.undo = undo  # keep the stack alive as long as the scene
    return scene


def test_png_has_the_requested_width_and_is_not_blank(canvas: CanvasScene, tmp_path) -> None:  # noqa: ANN001
    path = export_png(canvas, tmp_path / "graph.png", width=800)
    image = QImage(str(path))
    assert not image.isNull()
    assert image.width() == 800
    rect = canvas.itemsBoundingRect()
    assert image.height() == pytest.approx(800 * (rect.height() + 48) / (rect.width() + 48), abs=1)
    assert _distinct_colours(image) > 10  # nodes in several colours, text, wires
    assert 0.05 < _non_background_fraction(image, LIGHT.canvas) < 0.9  # drawn on the canvas
    assert QColor(image.pixel(1, 1)) == QColor(LIGHT.canvas)  # the margin: light theme's canvas


def test_dark_theme_exports_keep_the_dark_canvas(canvas, dark, qtbot, tmp_path) -> None:  # noqa: ANN001
    """Node text and gradient colours are painted for the dark canvas: the picture keeps it."""
    png = QImage(str(export_png(canvas, tmp_path / "graph.png", width=800)))
    assert QColor(png.pixel(1, 1)) == QColor(DARK.canvas)
    assert 0.05 < _non_background_fraction(png, DARK.canvas) < 0.9

    image = QImage(QSize(600, 300), QImage.Format.Format_ARGB32)
    image.fill(QColor("magenta"))
    painter = QPainter(image)
    QSvgRenderer(str(export_svg(canvas, tmp_path / "graph.svg"))).render(painter)
    painter.end()
    assert QColor(image.pixel(1, 1)) == QColor(DARK.canvas)

    wide = QImage(QSize(400, 100), QImage.Format.Format_ARGB32)  # letterboxed into 16:9 frames
    wide.fill(QColor("magenta"))
    calls = iter([True, False])
    (frame,) = record_pass_frames(lambda: next(calls), lambda: wide, tmp_path, size=(320, 180))
    letterboxed = QImage(str(frame))
    assert QColor(letterboxed.pixel(1, 1)) == QColor(DARK.canvas)
    assert QColor(letterboxed.pixel(160, 90)) == QColor("magenta")

    white = QColor("white")
    assert QColor(render_scene(canvas, width=200, background=white).pixel(1, 1)) == white


def test_png_scale_sets_pixels_per_scene_unit(canvas: CanvasScene, tmp_path) -> None:  # noqa: ANN001
    one = QImage(str(export_png(canvas, tmp_path / "x1.png", scale=1.0)))
    two = QImage(str(export_png(canvas, tmp_path / "x2.png", scale=2.0)))
    assert abs(two.width() - 2 * one.width()) <= 1
    assert abs(two.height() - 2 * one.height()) <= 1


def test_png_of_an_empty_scene_is_still_a_picture(qtbot, tmp_path) -> None:  # noqa: ANN001
    scene = CanvasScene(lambda command: True)
    scene.set_document(Document(name="empty"))
    image = QImage(str(export_png(scene, tmp_path / "empty.png", width=120)))
    assert image.width() == 120 and image.height() > 0


def test_bad_sizes_are_refused(canvas: CanvasScene, tmp_path) -> None:  # noqa: ANN001
    with pytest.raises(ValueError):
        render_scene(canvas, width=0)
    with pytest.raises(ValueError):
        render_scene(canvas, scale=0.0)
    with pytest.raises(FileProblem, match=r"cannot write .*graph\.png: no folder"):
        export_png(canvas, tmp_path / "missing-dir" / "graph.png")


def test_svg_is_valid_xml_with_the_graph_in_it(canvas: CanvasScene, tmp_path) -> None:  # noqa: ANN001
    path = export_svg(canvas, tmp_path / "graph.svg")
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG_NS}svg"
    view_box = [float(v) for v in root.get("viewBox", "").split()]
    rect = canvas.itemsBoundingRect()
    assert view_box[2] == pytest.approx(rect.width() + 48, abs=1)
    assert view_box[3] == pytest.approx(rect.height() + 48, abs=1)
    shapes = [
        el for el in root.iter() if el.tag.split("}")[-1] in ("path", "rect", "polyline", "circle")
    ]
    texts = "".join(el.text or "" for el in root.iter() if el.tag == f"{SVG_NS}text")
    assert len(shapes) > 20
    assert not [el for el in root.iter() if el.tag == f"{SVG_NS}image"]  # vector, not pixmaps
    for node_id in ("x1w1", "sum", "tanh"):
        assert node_id in texts

    renderer = QSvgRenderer(str(path))
    assert renderer.isValid()
    image = QImage(QSize(600, 300), QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    assert _distinct_colours(image) > 10


def test_frames_one_per_advance_each_of_the_given_size(qtbot, canvas, tmp_path) -> None:  # noqa: ANN001
    view = CanvasView(canvas)
    qtbot.addWidget(view)
    view.resize(500, 300)
    view.show()
    qtbot.waitExposed(view)
    remaining = [5]

    def advance() -> bool:
        remaining[0] -= 1
        return remaining[0] >= 0

    frames = record_pass_frames(advance, view.grab, tmp_path / "frames", size=(320, 180))
    assert [f.name for f in frames] == [f"frame_{i:03d}.png" for i in range(5)]
    for frame in frames:
        image = QImage(str(frame))
        assert (image.width(), image.height()) == (320, 180)
        assert _distinct_colours(image) > 3

    clean_frames(tmp_path / "frames")
    assert list((tmp_path / "frames").iterdir()) == []


def test_frames_default_to_the_grab_size(qtbot, tmp_path) -> None:  # noqa: ANN001
    label = QLabel("frame")
    qtbot.addWidget(label)
    label.resize(90, 40)
    calls = iter([True, True, False, True])
    frames = record_pass_frames(lambda: next(calls), label.grab, tmp_path)
    assert len(frames) == 2  # stops at the first False
    assert QImage(str(frames[1])).size() == label.grab().size()


def test_one_pass_walks_forward_then_backward_once(qtbot, neuron_doc, tmp_path) -> None:  # noqa: ANN001
    controller = TrainingController(neuron_doc, SCENES)
    advance = one_pass(controller.next_step, lambda: controller.phase == "backward_done")
    steps = 0
    while advance():
        steps += 1
    assert controller.phase == "backward_done"
    forward = len(neuron_doc.nodes)
    assert forward < steps <= 2 * forward
    assert not advance()  # over: a second pass needs a new one_pass


def test_clipboard_holds_an_image_of_the_widget(qtbot) -> None:  # noqa: ANN001
    label = QLabel("loss plot stand-in")
    label.setStyleSheet("background: #336699; color: white;")
    qtbot.addWidget(label)
    label.resize(240, 120)
    label.show()
    qtbot.waitExposed(label)
    image = copy_image_to_clipboard(label)
    held = QGuiApplication.clipboard().image()
    assert not held.isNull()
    assert held.size() == image.size() == label.grab().size()
    assert held.width() >= 240 and held.height() >= 120
