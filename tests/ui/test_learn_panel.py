"""Every lesson walked from first page to last, doing what each page asks through the UI."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton

from bpviz.examples import examples_dir
from bpviz.model.lessons import LessonError, lesson_paths, load_lesson
from bpviz.ui.main_window import MainWindow
from tests.ui.conftest import attr_editor, retype

LESSONS = lesson_paths(examples_dir())


def test_there_are_at_least_six_lessons_and_all_load() -> None:
    assert len(LESSONS) >= 6
    for path in LESSONS:
        lesson = load_lesson(path)
        assert lesson.pages and lesson.scene.is_file()


# what each page points at, written out by hand: ("node", id) selects and centres a node,
# ("control", name) lights up that toolbar button
HIGHLIGHTS = {
    "01_fitting_a_line.lesson": [("node", "loss"), ("control", "forward"), ("node", "w"),
                                 ("control", "backward"), ("control", "step"), ("control", "run")],
    "02_chain_rule.lesson": [("node", "L"), ("control", "next_node"), ("control", "next_node"),
                             ("node", "a")],
    "03_fan_out.lesson": [("node", "x"), ("control", "next_node"), ("node", "x")],
    "04_neuron.lesson": [("node", "o"), ("control", "backward"), ("node", "o")],
    "05_xor.lesson": [("node", "logit"), ("control", "run"), ("control", "reset")],
    "06_vanishing.lesson": [("node", "w"), ("control", "backward"), ("node", "s1")],
}  # fmt: skip


def lit_controls(window: MainWindow) -> list[str]:
    """The actions whose toolbar button is lit up."""
    lit = []
    for name in window.registry.names():
        button = window.training_toolbar.widgetForAction(window.registry[name])
        if isinstance(button, QToolButton) and button.styleSheet():
            lit.append(name)
    return lit


def do_request(window: MainWindow, wait: dict, qtbot) -> None:  # noqa: ANN001
    ui, registry = window.training_ui, window.registry
    if "action" in wait:
        registry[wait["action"]].trigger()
        if wait["action"] == "run":
            registry["run"].trigger()  # pause again
    elif "phase" in wait:
        for _ in range(100):
            if ui.controller.phase == wait["phase"]:
                break
            registry["next_node"].trigger()
    elif "attr" in wait:
        node, name = wait["attr"]
        window.canvas.select([node])
        retype(qtbot, attr_editor(window.inspector, name), "1.0")
        assert window.document.node(node).attrs[name] == 1.0
    elif "steps" in wait:
        for _ in range(wait["steps"]):
            registry["step"].trigger()


@pytest.mark.parametrize("index", range(len(LESSONS)), ids=[p.stem for p in LESSONS])
def test_walk_every_lesson(window: MainWindow, qtbot, index: int) -> None:  # noqa: ANN001
    panel = window.learn
    window.registry["lessons"].trigger()
    assert window.learn_dock.isVisible()
    panel.start(index)
    progress = panel.progress
    scene = json.loads(progress.lesson.scene.read_text())
    assert sorted(window.document.nodes) == sorted(n["id"] for n in scene["nodes"])
    pages = progress.lesson.pages
    expected = HIGHLIGHTS[LESSONS[index].stem]
    assert len(pages) == len(expected)
    for i, page in enumerate(pages):
        assert progress.index == i
        assert panel.text.text() == page.text
        kind, name = expected[i]
        # a node page selects exactly that node; a page lights up its control and no other
        if kind == "node":
            assert window.canvas.selected_ids() == [name], f"page {i}"
        assert lit_controls(window) == ([name] if kind == "control" else []), f"page {i}"
        if page.wait_for:
            assert "Your turn" in panel.request.text()
            do_request(window, page.wait_for, qtbot)
            assert progress.done, f"page {i}: {page.wait_for} was not recognised"
            if i < len(pages) - 1:
                qtbot.waitUntil(lambda i=i: progress.index == i + 1, timeout=3000)
                continue
        qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    assert progress.index == len(pages) - 1 and progress.done


def test_back_and_next_always_work(window: MainWindow, qtbot) -> None:  # noqa: ANN001
    panel = window.learn
    panel.start(0)
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)  # skips a waiting page
    assert panel.progress.index == 2
    qtbot.mouseClick(panel.back_button, Qt.MouseButton.LeftButton)
    assert panel.progress.index == 1


def test_a_broken_lesson_file_names_the_place(tmp_path: Path) -> None:
    bad = tmp_path / "x.lesson.json"
    bad.write_text('{"format": "bpviz-lesson", "scene": "nope.json", "pages": []}')
    with pytest.raises(LessonError, match="scene"):
        load_lesson(bad)


def docs_lesson(tmp_path: Path) -> Path:
    """The worked example of docs/lessons.md, saved where its scene path resolves."""
    text = (examples_dir().parent / "docs" / "lessons.md").read_text()
    block = re.search(r"```json\n(.*?)```", text, re.S).group(1)
    (tmp_path / "lessons").mkdir()
    shutil.copy(examples_dir() / "chain_rule.json", tmp_path / "chain_rule.json")
    (tmp_path / "lessons" / "my.lesson.json").write_text(block)
    return tmp_path / "lessons" / "my.lesson.json"


def click(qtbot, widget) -> None:  # noqa: ANN001
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def slide_to(qtbot, box, x: float) -> None:  # noqa: ANN001
    """Drag the estimate slider's handle with the mouse until it shows about `x`."""
    slider = box.slider
    slider.setFocus()
    qtbot.mouseClick(slider, Qt.MouseButton.LeftButton, pos=slider.rect().center())
    target = round((x - box.probe.low) / (box.probe.high - box.probe.low) * slider.maximum())
    key = Qt.Key.Key_Right if target > slider.value() else Qt.Key.Key_Left
    for _ in range(abs(target - slider.value())):
        qtbot.keyClick(slider, key)
    assert slider.value() == target


def test_probes_ask_first_then_reveal_score_and_keep_answers(
    window: MainWindow, qtbot, tmp_path: Path  # noqa: ANN001
) -> None:
    panel = window.learn
    panel.lessons.append(load_lesson(docs_lesson(tmp_path)))
    panel.start(len(panel.lessons) - 1)
    box, controller = panel.probe_box, window.training_ui.controller
    assert box.isVisible() and box.question.text() == "After Forward, roughly what will L be?"
    assert controller.value("L") is None  # nothing computed before the answer
    assert panel.next_button.text() == "Skip"
    slide_to(qtbot, box, 8.0)
    assert box.estimate_label.text() == "8"
    click(qtbot, box.answer_button)
    assert float(controller.value("L")) == -8.0  # the pass ran after the answer
    assert "Not quite." in box.result.text()
    assert "You said 8; it is -8." in box.result.text()
    assert "times f = −2 gives −8." in box.result.text()
    assert not box.answer_button.isEnabled()
    click(qtbot, panel.next_button)
    assert [b.text() for b in box.buttons.values()] == ["Negative", "Zero", "Positive"]
    assert controller.grad("a") is None
    click(qtbot, box.buttons["positive"])
    assert float(controller.grad("a")) == 6.0
    assert "✓ Right." in box.result.text() and "You said positive; it is positive." in (
        box.result.text()
    )
    click(qtbot, box.buttons["negative"])  # locked: the first answer counts
    assert panel.progress.answers[1].answer == "positive"
    click(qtbot, panel.back_button)  # an answered page stays answered
    assert "You said 8; it is -8." in box.result.text() and not box.slider.isEnabled()
    click(qtbot, panel.next_button)
    click(qtbot, panel.next_button)
    assert panel.summary.text() == ""  # the score comes when the lesson is done
    click(qtbot, box.buttons["other"])
    assert "You said |∇b| larger; it is |∇a| larger." in box.result.text()
    click(qtbot, panel.next_button)  # Finish
    assert panel.summary.text() == (
        "<b>Your answers: 1 of 3 right</b><ul>"
        "<li>Page 1 (L): wrong: you said 8, it was -8</li>"
        "<li>Page 2 (∇a): right: you said positive, it was positive</li>"
        "<li>Page 3 (∇a): wrong: you said |∇b| larger, it was |∇a| larger</li></ul>"
    )
    rows = list(csv.reader((tmp_path / "recovery" / "lesson-answers.csv").open()))
    assert [r[1:] for r in rows] == [
        ["lesson", "page", "node", "quantity", "ask", "answer", "truth", "right"],
        ["my.lesson.json", "1", "L", "value", "estimate", "8.0", "-8.0", "no"],
        ["my.lesson.json", "2", "a", "grad", "sign", "positive", "positive", "yes"],
        ["my.lesson.json", "3", "a/b", "grad", "compare", "other", "node", "no"],
    ]
