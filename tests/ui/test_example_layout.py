"""No two nodes touch on the canvas: in every example and lesson scene as saved, after a
training step has grown their heatmaps, after Auto Layout, and when a file has no positions.

Rects are the items' own scene bounding rects (box, ports and outline), as the canvas draws
them; the Qt-free estimate auto layout uses without a window must never be smaller."""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from bpviz.model.layout import HEADER_CONTROL_OPS, estimated_size
from bpviz.ui.canvas.header_controls import HEADER_OPS

ROOT = Path(__file__).resolve().parents[2]
SCENES = ROOT / "scenes"
EXAMPLES = [
    *sorted(SCENES.glob("*.json")),
    *sorted((SCENES / "lessons").glob("*.scene.json")),
    ROOT / "docs" / "experiment.json",  # the README's walk-through, as saved
]


def overlaps(window) -> list[tuple[str, str]]:  # noqa: ANN001
    rects = {n: item.sceneBoundingRect() for n, item in window.canvas.node_items.items()}
    return [(a, b) for a, b in combinations(rects, 2) if rects[a].intersects(rects[b])]


def test_every_example_is_checked() -> None:
    assert len(EXAMPLES) == 16  # 9 examples, 6 lesson scenes and the README's experiment


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_saved_positions_never_overlap_even_after_a_step(window, qtbot, path: Path) -> None:  # noqa: ANN001
    assert window.files.open_file(path)
    assert overlaps(window) == []
    qtbot.keyClick(window.view, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.wait(50)  # values and heatmaps reach the items at display rate
    assert window.training_ui.controller.history  # the step ran
    assert overlaps(window) == []


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_auto_layout_spaces_nodes_by_their_drawn_size(window, qtbot, path: Path) -> None:  # noqa: ANN001
    assert window.files.open_file(path)
    qtbot.keyClick(window.view, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.undo.qstack.undoText() == "Auto layout"
    assert overlaps(window) == []
    for e in window.document.edges():
        assert window.document.pos(e.src)[0] < window.document.pos(e.dst)[0]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_a_file_without_positions_opens_laid_out_without_overlap(
    window, tmp_path: Path, path: Path
) -> None:  # noqa: ANN001
    scene = json.loads(path.read_text(encoding="utf-8"))
    for node in scene["nodes"]:
        node.pop("pos", None)
    for data in path.parent.glob("*.csv"):  # data files sit beside their scene
        (tmp_path / data.name).write_bytes(data.read_bytes())
    bare = tmp_path / path.name
    bare.write_text(json.dumps(scene), encoding="utf-8")
    assert window.files.open_file(bare)
    assert overlaps(window) == []
    for node_id, item in window.canvas.node_items.items():
        width, height = estimated_size(window.document.graph.node(node_id))
        drawn = item.boundingRect()
        assert (width >= drawn.width(), height >= drawn.height()) == (True, True), node_id


def test_the_layout_knows_which_ops_carry_header_controls() -> None:
    assert HEADER_CONTROL_OPS == HEADER_OPS
