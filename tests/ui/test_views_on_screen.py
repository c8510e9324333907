"""Views in dock tabs that are not raised compute nothing and catch up when their tab is
clicked: Qt keeps such pages "visible" (only moved out of the window), so asking isVisible()
let the loss landscape, tabbed behind the model output, compute grids all through Run."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTabBar

from bpviz.ui import landscape
from bpviz.ui.landscape import DONE_TEXT
from bpviz.ui.main_window import MainWindow
from bpviz.ui.on_screen import on_screen

SCENES = Path(__file__).resolve().parents[2] / "scenes"


def open_moons(window: MainWindow, tmp_path: Path) -> None:
    shutil.copy(SCENES / "moons.json", tmp_path / "moons.json")
    assert window.files.open_file(tmp_path / "moons.json")


def click_tab(window: MainWindow, qtbot, title: str) -> None:  # noqa: ANN001
    """Click the dock tab called `title`, as a person would."""
    for bar in window.findChildren(QTabBar):
        for i in range(bar.count()):
            if bar.tabText(i) == title and bar.isVisible():
                qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(i).center())
                return
    raise AssertionError(f"no tab {title!r}")


def steps(window: MainWindow, n: int) -> None:
    for _ in range(n):
        window.registry["step"].trigger()


def test_the_landscape_behind_the_model_output_waits_for_its_tab(
    window: MainWindow, tmp_path: Path, qtbot
) -> None:  # noqa: ANN001
    open_moons(window, tmp_path)
    view = window.landscape
    assert view.isVisible()  # what Qt says of a page behind another tab ...
    assert not on_screen(view) and on_screen(window.boundary)  # ... and what is on screen
    steps(window, 3)
    qtbot.wait(200)
    assert not view.computing and not view.landscape.started
    click_tab(window, qtbot, "Loss landscape")
    assert on_screen(view) and not on_screen(window.boundary)
    qtbot.waitUntil(lambda: view.status_text().startswith(DONE_TEXT), timeout=10000)
    assert view.landscape.centre == view.landscape.point(view.session)


def test_the_model_output_catches_up_when_its_tab_is_clicked(
    window: MainWindow, tmp_path: Path, qtbot
) -> None:  # noqa: ANN001
    open_moons(window, tmp_path)
    boundary = window.boundary
    steps(window, 1)
    shown = boundary.grid_values().copy()
    click_tab(window, qtbot, "Loss landscape")
    steps(window, 20)  # the model changes behind the landscape's tab
    np.testing.assert_array_equal(boundary.grid_values(), shown)
    click_tab(window, qtbot, "Model output")
    qtbot.waitUntil(lambda: not np.array_equal(boundary.grid_values(), shown), timeout=5000)
    session = window.training_ui.controller.session
    want = session.predict(boundary._points, boundary.pred_node_id).reshape(
        boundary.grid_values().shape
    )
    np.testing.assert_array_equal(boundary.grid_values(), want)


def test_pause_brings_the_landscape_up_to_where_training_ended(
    window: MainWindow, tmp_path: Path, qtbot, monkeypatch
) -> None:  # noqa: ANN001
    monkeypatch.setattr(landscape, "FOLLOW_SECONDS", 60.0)  # no new grid while running
    open_moons(window, tmp_path)
    click_tab(window, qtbot, "Loss landscape")
    view = window.landscape
    qtbot.waitUntil(lambda: view.status_text().startswith(DONE_TEXT), timeout=10000)
    ui = window.training_ui
    ui.speed_slider.setValue(ui.speed_slider.maximum())
    ui.run()
    assert view.running
    qtbot.waitUntil(lambda: len(ui.controller.history) >= 100, timeout=30000)
    assert not view.computing  # running: the grid waits (60 s here) ...
    qtbot.wait(300)
    drawn = []  # ... while the path and the current point go on being drawn
    path = view._draw_path
    view._draw_path = lambda: drawn.append(1) or path()
    qtbot.wait(1000)
    assert len(drawn) >= 3
    ui.pause()
    assert not view.running and view.computing  # paused: it catches up at once
    qtbot.waitUntil(lambda: view.status_text().startswith(DONE_TEXT), timeout=10000)
    assert view.landscape.centre == view.landscape.point(view.session)


def test_run_does_not_redraw_the_model_output_behind_another_tab(
    window: MainWindow, tmp_path: Path, qtbot
) -> None:  # noqa: ANN001
    open_moons(window, tmp_path)
    ui = window.training_ui
    ui.speed_slider.setValue(ui.speed_slider.maximum())
    click_tab(window, qtbot, "Loss landscape")
    redrawn = []
    original = window.boundary._colours
    window.boundary._colours = lambda grid: redrawn.append(1) or original(grid)
    ui.run()
    qtbot.waitUntil(lambda: len(ui.controller.history) >= 200, timeout=30000)
    qtbot.wait(1100)  # the boundary is due every second
    assert redrawn == []
    click_tab(window, qtbot, "Model output")
    qtbot.waitUntil(lambda: len(redrawn) >= 1, timeout=5000)
