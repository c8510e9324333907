"""The Data panel in the real window, driven by mouse and keyboard: every edit is one command
that lands exactly in the saved scene, undo and redo bring the controls back, a data edit
restarts training, and the kind pictures come from the real generator."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from bpviz.engine.datasets import make_dataset
from bpviz.scene import load_scene
from bpviz.ui.main_window import MainWindow
from tests.model.helpers import params_of
from tests.ui.conftest import retype
from tests.ui.test_training_ui import open_scene

MOONS = {"kind": "moons", "n": 100, "noise": 0.1, "seed": 1, "test_fraction": 0.2}
BLUE, ORANGE, WHITE = "#0072b2", "#e69f00", "#ffffff"  # class 0, class 1, background


def saved(window: MainWindow, path: Path) -> dict:
    """Save through File › Save As (the fake dialog answers `path`) and read the file."""
    window.dialogs.next_save_path = path
    window.registry["save_as"].trigger()
    return json.loads(path.read_text())


def click(qtbot, widget) -> None:  # noqa: ANN001
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def panel(window: MainWindow):  # noqa: ANN201
    window.registry["data_panel"].trigger()  # the toolbar's one click
    assert window.data_dock.isVisible()
    return window.data_panel


def test_choosing_a_kind_writes_exactly_that_data_and_undo_redo_follow(
    window: MainWindow, tmp_path: Path, qtbot
) -> None:  # noqa: ANN001
    open_scene(window, "moons", tmp_path)
    p = panel(window)
    assert p.strip.buttons["moons"].isChecked()
    click(qtbot, p.strip.buttons["circles"])
    circles = {"kind": "circles", "n": 100, "seed": 1, "test_fraction": 0.2}
    assert saved(window, tmp_path / "a.json")["data"] == circles
    assert window.undo.qstack.count() == 1
    assert p.strip.buttons["circles"].isChecked() and not p.strip.buttons["moons"].isChecked()
    assert "factor" in p.spins and p.spins["factor"].value() == 0.5
    assert p.spins["noise"].value() == 0.05  # circles' own default noise
    window.registry["undo"].trigger()
    assert saved(window, tmp_path / "b.json")["data"] == MOONS
    assert p.strip.buttons["moons"].isChecked() and "factor" not in p.spins
    assert p.spins["noise"].value() == 0.1
    window.registry["redo"].trigger()
    assert saved(window, tmp_path / "c.json")["data"] == circles
    assert window.undo.qstack.count() == 1  # the undo/redo pushed nothing back


def test_model_output_shows_the_new_data_before_training(
    window: MainWindow, tmp_path: Path, qtbot
) -> None:  # noqa: ANN001
    open_scene(window, "moons", tmp_path)
    for _ in range(20):
        qtbot.keyClick(window.view, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    window.boundary.redraw()
    trained = window.boundary.grid_values().copy()
    click(qtbot, panel(window).strip.buttons["xor"])
    expected = make_dataset({"kind": "xor", "n": 100, "seed": 1, "test_fraction": 0.2})
    shown = window.boundary.train_points.getData()
    assert np.array_equal(shown[0], expected.x_train[:, 0])
    assert np.array_equal(shown[1], expected.x_train[:, 1])
    assert len(window.training_ui.controller.history) == 0
    window.registry["undo"].trigger()  # the moons and what was learned on them come back
    assert np.array_equal(window.boundary.grid_values(), trained)


def test_typing_a_number_is_one_command_per_committed_edit(
    window: MainWindow, tmp_path: Path, qtbot
) -> None:  # noqa: ANN001
    open_scene(window, "moons", tmp_path)
    p = panel(window)
    retype(qtbot, p.spins["n"], "150")
    retype(qtbot, p.spins["noise"], "0.25")
    assert window.undo.qstack.count() == 2
    assert saved(window, tmp_path / "a.json")["data"] == MOONS | {"n": 150, "noise": 0.25}
    window.registry["undo"].trigger()
    assert p.spins["noise"].value() == 0.1
    window.registry["undo"].trigger()
    assert p.spins["n"].value() == 100
    assert saved(window, tmp_path / "b.json")["data"] == MOONS
    assert window.undo.qstack.index() == 0


def _isolated(cols: np.ndarray, rows: np.ndarray, gap: float = 3.0) -> list[int]:
    """Indices of points whose pixel no other dot (radius 2) reaches."""
    d = np.hypot(cols[:, None] - cols[None, :], rows[:, None] - rows[None, :])
    np.fill_diagonal(d, np.inf)
    return [i for i in range(len(cols)) if d[i].min() > gap]


def _pixels(spec: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the generator's points must land in a 64-pixel picture: the points' bounding
    box fills it inside a 4-pixel margin, y up."""
    ds = make_dataset(spec)
    x, y = ds.x_train[:, 0], ds.x_train[:, 1]
    cols = np.rint(4 + (x - x.min()) / (x.max() - x.min()) * 55).astype(int)
    rows = np.rint(59 - (y - y.min()) / (y.max() - y.min()) * 55).astype(int)
    return cols, rows, ds.y_train


def _check_picture(image, spec: dict) -> None:  # noqa: ANN001
    cols, rows, labels = _pixels(spec)
    lonely = _isolated(cols, rows)
    assert len(lonely) >= 3 and {int(labels[i]) for i in lonely} == {0, 1}
    for i in lonely:
        want = BLUE if labels[i] == 0 else ORANGE
        assert QColor(image.pixel(int(cols[i]), int(rows[i]))).name() == want


def test_kind_pictures_are_drawn_from_the_generator(
    window: MainWindow, tmp_path: Path, qtbot
) -> None:  # noqa: ANN001
    open_scene(window, "moons", tmp_path)
    p = panel(window)
    circles = p.strip.picture("circles").toImage()
    _check_picture(circles, {"kind": "circles", "seed": 1, "test_fraction": 0.0})
    assert QColor(circles.pixel(32, 32)).name() == WHITE  # nothing inside the inner circle
    moons = p.strip.picture("moons").toImage()
    _check_picture(moons, {"kind": "moons", "seed": 1, "n": 100, "noise": 0.1, "test_fraction": 0})
    # live: the chosen kind's picture follows its noise
    retype(qtbot, p.spins["noise"], "0.3")
    moons = p.strip.picture("moons").toImage()
    _check_picture(moons, {"kind": "moons", "seed": 1, "n": 100, "noise": 0.3, "test_fraction": 0})


def test_transform_checkboxes_write_the_exact_list(
    window: MainWindow, tmp_path: Path, qtbot
) -> None:  # noqa: ANN001
    open_scene(window, "moons", tmp_path)
    p = panel(window)
    assert [e for e, box in p.checks.items() if box.isChecked()] == ["x1", "x2"]
    click(qtbot, p.checks["x1^2"])
    assert window.document.data["transforms"] == ["x1", "x2", "x1^2"]
    click(qtbot, p.checks["x2^2"])
    click(qtbot, p.checks["x1"])
    click(qtbot, p.checks["x2"])
    assert saved(window, tmp_path / "a.json")["data"]["transforms"] == ["x1^2", "x2^2"]
    assert window.undo.qstack.count() == 4
    click(qtbot, p.checks["x1^2"])
    click(qtbot, p.checks["x2^2"])  # the last one: refused, said in the panel
    assert window.document.data["transforms"] == ["x2^2"]
    assert p.checks["x2^2"].isChecked()
    assert p.error.text() == "Keep at least one input feature ticked."
    click(qtbot, p.checks["x1"])
    click(qtbot, p.checks["x2"])
    click(qtbot, p.checks["x2^2"])
    assert saved(window, tmp_path / "b.json")["data"] == MOONS  # x1, x2: the raw features
    assert p.error.text() == ""


def test_a_typed_transform_list_is_checked_with_an_inline_error(
    window: MainWindow, tmp_path: Path, qtbot
) -> None:  # noqa: ANN001
    open_scene(window, "moons", tmp_path)
    p = panel(window)
    retype(qtbot, p.transforms_edit, "x1, x3^2")
    assert (
        p.error.text() == "data.transforms[1]: unknown expression 'x3^2' (the data has 2 features)"
    )
    assert p.error.isVisible()
    assert window.document.data == MOONS and window.undo.qstack.count() == 0
    assert window.dialogs.errors == []
    retype(qtbot, p.transforms_edit, "cos(x1), x1*x2")
    assert window.document.data["transforms"] == ["cos(x1)", "x1*x2"]
    assert [e for e, box in p.checks.items() if box.isChecked()] == ["x1*x2"]
    assert not p.error.isVisible()


def _csv(tmp_path: Path) -> Path:
    path = tmp_path / "people.csv"
    path.write_text(
        "name,height,weight,label\nann,1.6,55,1\nbob,1.8,80,0\ncy,1.7,70,0\ndee,1.5,50,1\n"
        "eve,1.65,60,1\nfay,1.75,72,0\n"
    )
    return path


def test_csv_file_preview_columns_and_task(window: MainWindow, tmp_path: Path, qtbot) -> None:  # noqa: ANN001
    open_scene(window, "moons", tmp_path)
    p = panel(window)
    window.dialogs.next_csv_path = _csv(tmp_path)
    click(qtbot, p.strip.buttons["csv"])
    want = {"kind": "csv", "path": "people.csv", "target": "label",
            "features": ["height", "weight"], "seed": 1, "test_fraction": 0.2}  # fmt: skip
    assert saved(window, tmp_path / "a.json")["data"] == want
    table = p.csv.preview
    headers = [table.horizontalHeaderItem(i).text() for i in range(table.columnCount())]
    assert headers == ["name", "height", "weight", "label"]
    assert table.rowCount() == 5
    assert [table.item(0, c).text() for c in range(4)] == ["ann", "1.6", "55", "1"]
    assert p.csv.detected_label.text() == "detected: binary"
    assert p.csv.target.currentText() == "label"
    assert p.csv.ticked_features() == ["height", "weight"]
    # two feature columns: the usual 2-D transforms, x1 and x2 being the raw columns
    assert [e for e, box in p.checks.items() if box.isChecked()] == ["x1", "x2"]
    click(qtbot, p.checks["x1*x2"])
    assert window.document.data["transforms"] == ["x1", "x2", "x1*x2"]
    # the task: regression by choice
    qtbot.keyClick(p.csv.task, Qt.Key.Key_End)  # the last choice, as the keyboard picks it
    assert window.document.data["task"] == "regression"
    assert window.training_ui.controller.session.dataset.task == "regression"
    assert p.csv.detected_label.text() == "detected: binary"  # what auto would read


def test_csv_errors_are_shown_in_the_panel(window: MainWindow, tmp_path: Path, qtbot) -> None:  # noqa: ANN001
    open_scene(window, "moons", tmp_path)
    p = panel(window)
    window.dialogs.next_csv_path = _csv(tmp_path)
    click(qtbot, p.strip.buttons["csv"])
    before = dict(window.document.data)
    # tick the text column 'name' as a feature: the document refuses, the panel says why
    features = p.csv.features
    click(qtbot, features.viewport())
    features.setFocus()
    qtbot.keyClick(features, Qt.Key.Key_Home)
    qtbot.keyClick(features, Qt.Key.Key_Space)
    assert (
        p.error.text() == f"{tmp_path / 'people.csv'}, line 2, column 'name': 'ann' is not a number"
    )
    assert window.document.data == before
    assert p.csv.ticked_features() == ["name", "height", "weight"]  # the pick stays to mend
    qtbot.keyClick(features, Qt.Key.Key_Space)
    assert p.error.text() == ""
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    window.dialogs.next_csv_path = empty
    click(qtbot, p.csv.choose_button)
    assert p.error.text() == f"{empty}: file is empty"
    assert window.document.data == before
    assert window.dialogs.errors == []


def test_a_data_edit_during_run_pauses_and_starts_from_fresh_weights(
    window: MainWindow, tmp_path: Path, qtbot
) -> None:  # noqa: ANN001
    open_scene(window, "moons", tmp_path)
    ui = window.training_ui
    window.registry["run"].trigger()
    qtbot.waitUntil(lambda: len(ui.controller.history) > 5, timeout=10000)
    retype(qtbot, panel(window).spins["noise"], "0.2")
    assert not ui.running
    assert window.statusBar().currentMessage() == (
        "Training paused. Data changed: training starts afresh"
    )
    assert len(ui.controller.history) == 0
    scene = saved(window, tmp_path / "after.json")
    assert scene["state"] is None
    qtbot.keyClick(window.view, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)  # Forward
    fresh = load_scene(tmp_path / "after.json")
    fresh.forward()
    got = params_of(ui.controller)
    assert got.keys() == fresh.session.executor.params.keys()
    for nid, arrays in fresh.session.executor.params.items():
        for name, a in arrays.items():
            assert np.array_equal(got[nid][name], a)


def test_a_csv_with_every_other_column_as_feature_offers_its_transforms(
    window: MainWindow, tmp_path: Path, qtbot
) -> None:  # noqa: ANN001
    open_scene(window, "exam", tmp_path)  # features left out: every column but the target
    p = panel(window)
    assert [e for e, box in p.checks.items() if box.isChecked()] == ["x1", "x2"]
    click(qtbot, p.checks["x2^2"])
    assert window.document.data["transforms"] == ["x1", "x2", "x2^2"]
    click(qtbot, p.checks["x2^2"])
    assert "transforms" not in window.document.data


def test_tab_walks_from_the_kinds_to_the_numbers_to_the_features(
    window: MainWindow, tmp_path: Path, qtbot
) -> None:  # noqa: ANN001
    open_scene(window, "moons", tmp_path)
    p = panel(window)
    click(qtbot, p.strip.buttons["circles"])  # the number fields are made for circles
    qtbot.waitUntil(p.spins["factor"].isVisible)  # new fields show once the layout ran
    want = [p.strip.buttons["csv"], *(p.spins[k] for k in ("n", "noise", "test_fraction",
            "seed", "factor")), *p.checks.values(), p.transforms_edit]  # fmt: skip
    p.strip.buttons["sine"].setFocus()
    walked = []
    for _ in want:
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        walked.append(QApplication.focusWidget())
    assert walked == want


def test_a_new_document_shows_the_chosen_data_before_there_is_a_model(
    window: MainWindow, qtbot
) -> None:  # noqa: ANN001
    qtbot.keyClick(window.view, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    p = panel(window)
    assert p.none_label.isVisible() and not p.numbers_box.isVisible()
    click(qtbot, p.strip.buttons["moons"])
    assert window.document.data == {"kind": "moons"}
    assert window.boundary.mode == "data"  # the points, no prediction to draw yet
    expected = make_dataset({"kind": "moons"})
    assert np.array_equal(window.boundary.train_points.getData()[0], expected.x_train[:, 0])
    assert not window.boundary.image.isVisible()


def test_the_panels_are_never_cut_off_at_the_default_window_size(window, qtbot) -> None:  # noqa: ANN001
    """The docks widen to the panels' content instead of cutting thumbnails or fields."""
    from PySide6.QtWidgets import QScrollArea

    window.resize(1280, 800)
    for name in ("data_panel", "training_panel"):
        window.registry[name].trigger()
        qtbot.wait(20)
        scroll = getattr(window, name).findChild(QScrollArea)
        assert scroll.isVisible(), name
        body = scroll.widget()
        assert scroll.viewport().width() >= body.minimumSizeHint().width(), name
