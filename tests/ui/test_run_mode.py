"""Run mode in the real window is exact: pausing after N steps leaves the weights, optimizer
state, history and shown loss that N headless steps give, bit for bit, even though the views
were redrawn, the overlays refreshed and the landscape computed between the slices."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt

import bpviz
from bpviz.engine.training import History
from bpviz.ui import landscape, run_clock, training_ui
from bpviz.ui.main_window import MainWindow
from tests.model.helpers import count_forward_passes

SCENES = Path(__file__).resolve().parents[2] / "scenes"


def click_run_button(window: MainWindow, qtbot) -> None:  # noqa: ANN001
    """Run and Pause are one toolbar button: click it as a person would."""
    button = window.training_toolbar.widgetForAction(window.registry["run"])
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def recording(method: Any, calls: list, note: Any) -> Any:
    """`method`, appending `note()` to `calls` at each call."""

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        calls.append(note())
        return method(*args, **kwargs)

    return wrapped


def history_columns(history: History) -> dict[str, list]:
    return {name: getattr(history, name).tolist() for name in History.FIELDS}


# full batch + SGD: a step's measuring pass on the training set is the next step's forward
# pass, plus one on the test set; minibatches + Adam: a forward pass on each batch too
@pytest.mark.parametrize(
    ("name", "passes"), [("moons", lambda n: 1 + 2 * n), ("spiral", lambda n: 3 * n)]
)
def test_pausing_after_n_steps_equals_n_headless_steps_bit_for_bit(
    window: MainWindow, tmp_path: Path, qtbot, monkeypatch, name: str, passes: Any
) -> None:  # noqa: ANN001
    # every view redraws often, so many redraws and refreshes fall between the slices
    for every in ("PLOT_EVERY_S", "OVERLAY_EVERY_S", "BOUNDARY_EVERY_S"):
        monkeypatch.setattr(training_ui, every, 0.05)
    monkeypatch.setattr(run_clock, "VIEW_SHARE", 1.0)
    monkeypatch.setattr(landscape, "FOLLOW_SECONDS", 0.05)  # new grids all through the run
    monkeypatch.setattr(landscape, "FOLLOW_SHARE_RUNNING", 1.0)
    # the landscape floated out of its tab behind the model output: both on screen
    window.landscape_dock.setFloating(True)
    path = tmp_path / f"{name}.json"
    shutil.copy(SCENES / f"{name}.json", path)
    assert window.files.open_file(path)
    ui = window.training_ui
    slices: list = []  # whether Run was on at each slice of landscape grid computed
    grid = window.landscape.landscape
    grid.compute_some = recording(grid.compute_some, slices, lambda: ui.running)
    ui.speed_slider.setValue(ui.speed_slider.maximum())
    refreshes = []
    count = count_forward_passes(ui.controller.session.executor)
    ui.controller.values_changed.connect(lambda: refreshes.append(len(ui.controller.history)))
    click_run_button(window, qtbot)
    assert ui.running and window.registry["run"].text() == "&Pause"
    started = time.perf_counter()
    qtbot.waitUntil(
        lambda: len(ui.controller.history) >= 150 and time.perf_counter() - started > 0.6,
        timeout=30000,
    )
    click_run_button(window, qtbot)
    assert not ui.running and window.registry["run"].text() == "&Run"
    c = ui.controller
    n = len(c.history)
    assert len(set(refreshes)) >= 3  # overlays were refreshed at several points of the run
    assert slices.count(True) >= 3  # the landscape computed between the training slices
    # the refreshes between slices and on Pause reuse the last step's pass: none of their own
    # (the overlays refreshed before the first step compute one, which later ones reuse)
    assert count[0] == passes(n) + (1 if 0 in refreshes else 0)

    headless = bpviz.load_scene(path)
    headless.train(n)
    got, want = c.session.state_dict(), headless.session.state_dict()
    assert got.keys() == want.keys()
    for node_id, arrays in want["params"].items():
        for key, a in arrays.items():
            assert np.array_equal(np.asarray(got["params"][node_id][key]), np.asarray(a)), (
                node_id,
                key,
            )
    assert got["optimizer"] == want["optimizer"]
    assert history_columns(c.history) == history_columns(headless.session.history)
    # paused: the overlays show the numbers of the last step's parameters
    assert float(c.value("loss")) == headless.session.history.loss[-1]
    assert window.canvas.node_items["loss"].value == c.value("loss")


def test_a_throttled_run_takes_the_steps_its_rate_allows(
    window: MainWindow, tmp_path: Path, qtbot
) -> None:  # noqa: ANN001
    shutil.copy(SCENES / "moons.json", tmp_path / "moons.json")
    assert window.files.open_file(tmp_path / "moons.json")
    ui = window.training_ui
    ui.speed_slider.setValue(training_ui.RUN_RATES.index(50) + 1)  # 50 steps a second
    click_run_button(window, qtbot)
    started = time.perf_counter()
    qtbot.wait(600)
    click_run_button(window, qtbot)
    took = time.perf_counter() - started
    n = len(ui.controller.history)
    assert n <= int(took * 50) + 1  # never ahead of the rate
    assert n >= 10  # and it did run


def test_a_learning_rate_edit_and_its_undo_during_run_apply_from_the_next_step(
    window: MainWindow, tmp_path: Path, qtbot
) -> None:  # noqa: ANN001
    from tests.ui.conftest import retype

    path = tmp_path / "moons.json"
    shutil.copy(SCENES / "moons.json", path)
    assert window.files.open_file(path)
    ui = window.training_ui
    ui.speed_slider.setValue(ui.speed_slider.maximum())
    doc = ui.controller.document
    edits: list[tuple[int, dict]] = []  # (steps taken when the edit landed, settings after it)
    doc.training_changed.connect(lambda t: edits.append((len(ui.controller.history), dict(t))))
    window.registry["training_panel"].trigger()
    click_run_button(window, qtbot)
    qtbot.waitUntil(lambda: len(ui.controller.history) >= 40, timeout=30000)
    retype(qtbot, window.training_panel.entries["lr"], "0.5")
    assert ui.running  # a setting that keeps the weights does not pause Run
    qtbot.waitUntil(lambda: len(ui.controller.history) >= edits[0][0] + 40, timeout=30000)
    qtbot.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert ui.running and doc.training["lr"] == 0.1
    qtbot.waitUntil(lambda: len(ui.controller.history) >= edits[1][0] + 40, timeout=30000)
    click_run_button(window, qtbot)
    n = len(ui.controller.history)
    assert [t["lr"] for _, t in edits] == [0.5, 0.1]

    headless = bpviz.load_scene(path)
    done = 0
    for at, training in edits:  # the same steps with each setting, as Run took them
        headless.train(at - done)
        headless.session.set_training(training)
        done = at
    headless.train(n - done)
    got, want = ui.controller.session.state_dict(), headless.session.state_dict()
    for node_id, arrays in want["params"].items():
        for key, a in arrays.items():
            assert np.array_equal(np.asarray(got["params"][node_id][key]), np.asarray(a))
    assert history_columns(ui.controller.history) == history_columns(headless.session.history)
