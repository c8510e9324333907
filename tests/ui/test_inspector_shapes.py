"""The Inspector's Shapes box in the window: the shapes a pass over the training set gives,
not those of the two-row slice that checks connections."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPointF, Qt

from bpviz.ui.main_window import MainWindow
from tests.ui.gestures import on_view

SCENES = Path(__file__).resolve().parents[2] / "scenes"


def shapes_shown(window: MainWindow) -> list[str]:
    return [label.text() for label in window.inspector._shape_labels.values()]


def test_clicking_a_layer_shows_its_shapes_on_the_training_set(
    window: MainWindow, qtbot  # noqa: ANN001
) -> None:
    # moons: n = 100 points, 20 % kept for testing: 80 training rows of 2 features
    window.files.open_file(SCENES / "moons.json")
    item = window.canvas.node_items["h1"]
    header = on_view(window, item.mapToScene(QPointF(12, 12)))  # its id, left of its controls
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=header)
    assert window.inspector.node_id == "h1"
    assert shapes_shown(window) == ["(80, 2)", "(80, 16)"]  # in x, out: 16 relu units
    window.registry["forward"].trigger()  # the pass agrees
    assert window.training_ui.controller.value("h1").shape == (80, 16)
