"""Visual training in the real window: step buttons, fine stepping, Run, NaN, animations."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt, QVariantAnimation

import bpviz
from bpviz.model.commands import MoveNodes, SetAttr
from bpviz.ui.main_window import MainWindow

SCENES = Path(__file__).resolve().parents[2] / "scenes"


def open_scene(window: MainWindow, name: str, tmp_path: Path, edit=None) -> Path:  # noqa: ANN001
    path = tmp_path / f"{name}.json"
    if edit is None:
        shutil.copy(SCENES / f"{name}.json", path)
    else:
        scene = json.loads((SCENES / f"{name}.json").read_text())
        edit(scene)
        path.write_text(json.dumps(scene))
    if name == "exam":
        shutil.copy(SCENES / "exam.csv", tmp_path / "exam.csv")
    assert window.open_file(path)
    return path


def test_forward_and_backward_put_the_engines_numbers_on_the_nodes(
    window: MainWindow, tmp_path: Path
) -> None:
    path = open_scene(window, "neuron", tmp_path)
    window.training_ui.act_forward.trigger()
    reference = bpviz.load_scene(path)
    reference.forward()
    reference.backward()
    for node_id, item in window.canvas.node_items.items():
        np.testing.assert_array_equal(item.value, reference.value(node_id))
        assert item.grad is None
    window.training_ui.act_backward.trigger()
    for node_id, item in window.canvas.node_items.items():
        np.testing.assert_array_equal(item.grad, reference.grad(node_id))
    assert "gradients fresh" in window.training_ui.status.text()


def test_wires_show_the_gradient_they_carry(window: MainWindow, tmp_path: Path) -> None:
    open_scene(window, "neuron", tmp_path)
    window.training_ui.act_backward.trigger()
    edge = window.canvas.edge_items[("x1", "x1w1", "a")]
    assert "∂L/∂x1 via x1w1.a" in edge.toolTip()
    assert "= 0.5 × -3 = -1.5" in edge.toolTip()
    width = {k: e.pen().widthF() for k, e in window.canvas.edge_items.items()}
    carried = {k: abs(float(g)) for k, g in window.training_ui.controller.contributions.items()}
    assert max(width, key=width.get) == max(carried, key=carried.get)  # thickest = largest |g|
    negative = window.canvas.edge_items[("x1", "x1w1", "a")].pen().color()
    positive = window.canvas.edge_items[("w1", "x1w1", "b")].pen().color()
    assert negative != positive


def test_next_node_visits_the_engines_order(window: MainWindow, tmp_path: Path, qtbot) -> None:  # noqa: ANN001
    path = open_scene(window, "chain_rule", tmp_path)
    c = window.training_ui.controller
    order = [s.node_id for s in c.session.executor.plan.nodes]
    seen: list[str] = []
    c.node_stepped.connect(lambda step: seen.append(step.node_id))
    reference = bpviz.load_scene(path)
    reference.forward()
    reference.backward()
    for i in range(len(order)):
        window.training_ui.act_next.trigger()
        node = seen[-1]
        np.testing.assert_array_equal(window.canvas.node_items[node].value, reference.value(node))
        expected_next = order[i + 1] if i + 1 < len(order) else "L"
        assert window.canvas.node_items[expected_next].mark == "active"
    assert seen == order
    for _ in range(len(order)):
        window.training_ui.act_next.trigger()
    assert seen[len(order) :] == list(reversed(order))
    for node in order:
        np.testing.assert_array_equal(window.canvas.node_items[node].grad, reference.grad(node))


def test_animations_finish_and_leave_no_timers(window: MainWindow, tmp_path: Path, qtbot) -> None:  # noqa: ANN001
    open_scene(window, "chain_rule", tmp_path)
    pulses = window.canvas.pulses
    for _ in range(9):
        window.training_ui.act_next.trigger()
    assert pulses.running() > 0
    qtbot.waitUntil(lambda: pulses.running() == 0, timeout=5000)
    qtbot.wait(10)
    animations = [a for a in pulses.findChildren(QVariantAnimation)]
    assert all(a.state() != QVariantAnimation.State.Running for a in animations)
    window.training_ui.act_animate.setChecked(False)
    window.training_ui.act_animate.trigger()  # toggles back on, then off again below
    window.training_ui.set_animations(False)
    window.training_ui.act_next.trigger()
    assert pulses.running() == 0


def test_run_for_n_steps_plots_n_points_and_the_loss_falls(
    window: MainWindow, tmp_path: Path, qtbot
) -> None:  # noqa: ANN001
    open_scene(window, "moons", tmp_path)
    ui = window.training_ui
    ui.speed_slider.setValue(ui.speed_slider.maximum())
    ui.act_run.trigger()
    assert ui.running
    history = ui.controller.history
    qtbot.waitUntil(lambda: len(history) >= 300, timeout=20000)
    ui.act_run.trigger()
    assert not ui.running
    n = len(history)
    xs, ys = window.loss_plot.train_data()
    assert len(xs) == n and list(xs[:3]) == [1, 2, 3]
    assert np.mean(ys[-20:]) < 0.5 * np.mean(ys[:20])
    assert window.canvas.node_items["loss"].value is not None  # overlays refreshed on pause


def test_nan_pauses_and_marks_the_node(window: MainWindow, tmp_path: Path, qtbot) -> None:  # noqa: ANN001
    def explode(scene: dict) -> None:
        scene["training"] = {"optimizer": "sgd", "lr": 1e5}

    open_scene(window, "sine", tmp_path, explode)
    ui = window.training_ui
    ui.act_run.trigger()
    qtbot.waitUntil(lambda: ui.controller.phase == "error", timeout=10000)
    assert not ui.running
    bad = ui.controller.error_node
    assert bad in window.canvas.node_items
    assert window.canvas.node_items[bad].mark == "error"
    assert "non-finite" in window.statusBar().currentMessage()
    assert f"'{bad}'" in window.statusBar().currentMessage()


def test_editing_during_run_pauses_first(window: MainWindow, tmp_path: Path, qtbot) -> None:  # noqa: ANN001
    open_scene(window, "moons", tmp_path)
    ui = window.training_ui
    ui.act_run.trigger()
    qtbot.waitUntil(lambda: len(ui.controller.history) > 5, timeout=10000)
    window.undo.push(MoveNodes({"x": (10.0, 10.0)}))
    assert not ui.running
    assert "paused" in window.statusBar().currentMessage().lower()


def test_closing_during_run_is_safe(window: MainWindow, tmp_path: Path, qtbot) -> None:  # noqa: ANN001
    open_scene(window, "moons", tmp_path)
    ui = window.training_ui
    ui.act_run.trigger()
    qtbot.waitUntil(lambda: len(ui.controller.history) > 5, timeout=10000)
    assert window.close()
    assert not ui.running and ui.controller is None
    qtbot.wait(50)  # any stray timer would fire into the closed window here


def test_check_gradients_colours_the_nodes(window: MainWindow, tmp_path: Path) -> None:
    open_scene(window, "xor", tmp_path)
    window.training_ui.act_check.trigger()
    marks = {n: i.mark for n, i in window.canvas.node_items.items()}
    assert marks["hidden"] == "check_ok" and marks["logit"] == "check_ok"
    assert "agree" in window.statusBar().currentMessage()


def test_editing_a_param_in_the_inspector_changes_the_next_forward(
    window: MainWindow, tmp_path: Path
) -> None:
    open_scene(window, "neuron", tmp_path)
    window.training_ui.act_forward.trigger()
    window.undo.push(SetAttr("b", "value", 0.0))
    assert window.canvas.node_items["o"].stale
    window.training_ui.act_forward.trigger()
    assert float(window.canvas.node_items["o"].value) == pytest.approx(np.tanh(-6.0))


def test_step_and_reset(window: MainWindow, tmp_path: Path) -> None:
    open_scene(window, "xor", tmp_path)
    ui = window.training_ui
    before = ui.controller.session.executor.params
    ui.act_step.trigger()
    ui.act_step.trigger()
    assert len(ui.controller.history) == 2
    assert window.loss_plot.train_data()[0].tolist() == [1, 2]
    ui.act_reset.trigger()
    assert len(ui.controller.history) == 0 and len(window.loss_plot.train_data()[0]) == 0
    assert before is ui.controller.session.executor.params


def test_vanishing_gradients_are_marked(window: MainWindow, tmp_path: Path) -> None:
    nodes = [{"id": "w", "op": "param", "attrs": {"value": 8.0}, "pos": [0, 0]}]
    for i in range(8):
        nodes.append(
            {
                "id": f"s{i}",
                "op": "sigmoid",
                "inputs": {"x": nodes[-1]["id"]},
                "pos": [200 * (i + 1), 0],
            }
        )
    path = tmp_path / "deep.json"
    path.write_text(
        json.dumps({"format": "bpviz-scene", "version": 1, "output": "s7", "nodes": nodes})
    )
    window.open_file(path)
    window.training_ui.act_backward.trigger()
    assert window.canvas.node_items["w"].flag == "vanishing"
    assert window.canvas.node_items["s7"].flag is None


def test_saved_file_keeps_the_learned_weights(window: MainWindow, tmp_path: Path) -> None:
    open_scene(window, "xor", tmp_path)
    ui = window.training_ui
    for _ in range(5):
        ui.act_step.trigger()
    learned = ui.controller.session.executor.params["hidden"]["W"].copy()
    out = tmp_path / "trained.json"
    window.dialogs.next_save_path = out
    assert window.save_as()
    reloaded = bpviz.load_scene(out)
    reloaded.forward()
    np.testing.assert_array_equal(reloaded.session.param("hidden", "W"), learned)


def test_exports_from_the_file_menu(window: MainWindow, tmp_path: Path) -> None:
    from PySide6.QtGui import QGuiApplication, QImage

    open_scene(window, "neuron", tmp_path)
    window.dialogs.next_export_path = tmp_path / "graph.png"
    window.exports.act_png.trigger()
    assert not QImage(str(tmp_path / "graph.png")).isNull()
    window.dialogs.next_export_path = tmp_path / "graph.svg"
    window.exports.act_svg.trigger()
    assert (tmp_path / "graph.svg").read_text().lstrip().startswith("<?xml")
    window.exports.act_copy_plot.trigger()
    assert not QGuiApplication.clipboard().image().isNull()


def test_recording_a_training_step_writes_one_frame_per_node(
    window: MainWindow, tmp_path: Path
) -> None:
    open_scene(window, "chain_rule", tmp_path)
    frames = tmp_path / "frames"
    window.dialogs.next_directory = frames
    window.exports.act_record.trigger()
    files = sorted(frames.glob("frame_*.png"))
    assert len(files) == 14  # 7 nodes forward, 7 backward
    assert window.training_ui.controller.phase == "backward_done"


def test_recording_a_training_step_as_a_gif(window: MainWindow, tmp_path: Path) -> None:
    from PIL import Image

    open_scene(window, "chain_rule", tmp_path)
    window.dialogs.next_export_path = tmp_path / "pass.gif"
    window.exports.act_record_gif.trigger()
    with Image.open(tmp_path / "pass.gif") as gif:
        assert gif.is_animated and gif.n_frames == 14 and gif.size == (1280, 720)
        assert gif.info["loop"] == 0
        gif.seek(13)
        assert gif.info["duration"] == 2500  # the finished pass is held
    assert window.statusBar().currentMessage() == "Exported pass.gif"


def test_inspector_and_tooltips_show_the_formula_with_numbers(
    window: MainWindow, tmp_path: Path
) -> None:
    open_scene(window, "neuron", tmp_path)
    window.training_ui.act_backward.trigger()
    window.canvas.select(["o"])
    text = window.inspector.formula_text()
    assert "tanh(0.8814) = 0.7071" in text and "= 0.5" in text
    assert "tanh(0.8814)" in window.explain_node("o")


def test_scrubbing_shows_the_stored_numbers_and_training_resumes_from_latest(
    window: MainWindow, tmp_path: Path
) -> None:
    open_scene(window, "xor", tmp_path)
    ui = window.training_ui
    for _ in range(6):
        ui.act_step.trigger()
    kept = ui.snapshots.steps()
    assert kept[-1] == 6
    window.timeline.scrub_to(kept[1])
    snap = ui.snapshots.materialize(ui.snapshots.get(kept[1]), ui.controller)
    item = window.canvas.node_items["hidden"]
    np.testing.assert_array_equal(item.value, snap.values["hidden"])
    np.testing.assert_array_equal(item.grad, snap.grads["hidden"])
    assert window.loss_plot._marker.isVisible() and window.loss_plot._marker.value() == kept[1]
    window.landscape_dock.raise_()
    window.landscape.refresh()
    a = window.landscape.landscape.a
    marker_x = window.landscape.point_marker.getData()[0]
    assert a is not None and list(marker_x) == [a.get(snap.params)]  # the landscape shows it too
    ui.act_step.trigger()  # acting returns to the latest state and trains on from there
    assert len(ui.controller.history) == 7 and window.timeline.following
    assert not window.loss_plot._marker.isVisible()


def test_the_model_output_view_follows_the_timeline(
    qtbot,  # noqa: ANN001
    window: MainWindow,
    tmp_path: Path,
) -> None:
    """Scrubbing back redraws the decision boundary with that step's parameters."""
    open_scene(window, "moons", tmp_path)
    ui, boundary = window.training_ui, window.boundary
    for _ in range(30):
        ui.act_step.trigger()
    boundary.refresh()
    live = boundary.grid_values().copy()
    window.timeline.slider.setFocus()
    qtbot.keyClick(window.timeline.slider, Qt.Key.Key_Home)  # the first kept step
    snap = ui.snapshots.get(ui.snapshots.steps()[0])
    assert snap.step == 1
    xs, ys = boundary.grid_axes()
    gx, gy = np.meshgrid(xs, ys)
    points = np.column_stack([gx.ravel(), gy.ravel()])
    early = ui.controller.session.predict(points, boundary.pred_node_id, snap.params)
    np.testing.assert_allclose(boundary.grid_values().ravel(), np.ravel(early))
    assert not np.allclose(boundary.grid_values(), live)
    qtbot.mouseClick(window.timeline.latest_button, Qt.MouseButton.LeftButton)
    np.testing.assert_allclose(boundary.grid_values(), live)


def test_dragging_a_value_sideways_changes_it_live_in_one_undo_step(
    qtbot,  # noqa: ANN001
    window: MainWindow,
    tmp_path: Path,
) -> None:
    open_scene(window, "neuron", tmp_path)
    ui = window.training_ui
    ui.act_backward.trigger()  # values and gradients on show: the drag keeps both current
    item = window.canvas.node_items["w1"]
    assert item.draggable_value() == -3.0
    position = item.pos()
    window.view.centerOn(item)
    start = window.view.mapFromScene(item.mapToScene(item.value_box().center()))
    vp = window.view.viewport()
    undo_count = window.undo.qstack.count()

    def output_for(w1: float) -> float:  # o = tanh(x1·w1 + x2·w2 + b), x1 = 2, x2 = 0
        return float(np.tanh(2.0 * w1 + 6.881373587019543))

    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=start)
    for dx in (10, 20, 30):  # 0.01 per pixel
        qtbot.mouseMove(vp, start + QPoint(dx, 0))
    assert float(ui.controller.value("o")) == pytest.approx(output_for(-2.7))  # live
    assert ui.controller.grad("w1") is not None
    qtbot.mouseMove(vp, start + QPoint(50, 0))
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=start + QPoint(50, 0))

    assert window.document.node("w1").attrs["value"] == pytest.approx(-2.5)
    assert float(ui.controller.value("o")) == pytest.approx(output_for(-2.5))
    assert float(ui.controller.grad("w1")) == pytest.approx(2.0 * (1 - output_for(-2.5) ** 2))
    assert item.pos() == position  # the node did not move
    assert window.canvas.selected_ids() == ["w1"]
    assert window.undo.qstack.count() == undo_count + 1
    assert window.undo.qstack.undoText() == "Change value of w1"
    window.undo.undo()
    assert window.document.node("w1").attrs["value"] == -3.0
