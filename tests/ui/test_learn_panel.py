"""Every lesson walked from first page to last, doing what each page asks through the UI."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from bpviz.examples import examples_dir
from bpviz.model.commands import SetAttr
from bpviz.model.lessons import LessonError, lesson_paths, load_lesson
from bpviz.ui.main_window import MainWindow

LESSONS = lesson_paths(examples_dir())


def test_there_are_at_least_six_lessons_and_all_load() -> None:
    assert len(LESSONS) >= 6
    for path in LESSONS:
        lesson = load_lesson(path)
        assert lesson.pages and lesson.scene.is_file()


def do_request(window: MainWindow, wait: dict) -> None:
    ui = window.training_ui
    if "action" in wait:
        act = ui.act_next if wait["action"] == "next_node" else getattr(ui, f"act_{wait['action']}")
        act.trigger()
        if wait["action"] == "run":
            ui.act_run.trigger()  # pause again
    elif "phase" in wait:
        for _ in range(100):
            if ui.controller.phase == wait["phase"]:
                break
            ui.act_next.trigger()
    elif "attr" in wait:
        node, name = wait["attr"]
        window.undo.push(SetAttr(node, name, 1.0))
    elif "steps" in wait:
        for _ in range(wait["steps"]):
            ui.act_step.trigger()


@pytest.mark.parametrize("index", range(len(LESSONS)), ids=[p.stem for p in LESSONS])
def test_walk_every_lesson(window: MainWindow, qtbot, index: int) -> None:  # noqa: ANN001
    panel = window.learn
    window.act_lessons.trigger()
    assert window.learn_dock.isVisible()
    panel.start(index)
    progress = panel.progress
    assert window.document.name == progress.lesson.title.split(". ", 1)[-1] or len(
        window.document.nodes
    )
    pages = progress.lesson.pages
    for i, page in enumerate(pages):
        assert progress.index == i
        assert panel.text.text() == page.text
        if page.wait_for:
            assert "Your turn" in panel.request.text()
            do_request(window, page.wait_for)
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
