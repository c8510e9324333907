"""Visual training in the real window: step buttons, fine stepping, Run, NaN, animations."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QPoint, Qt, QVariantAnimation

import bpviz
from bpviz.engine.ops import REGISTRY
from bpviz.model.commands import MoveNodes
from bpviz.ui.canvas.pulses import PulseItem
from bpviz.ui.main_window import MainWindow
from tests.ui.conftest import attr_editor, retype

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
    assert window.files.open_file(path)
    return path


def test_forward_and_backward_put_the_engines_numbers_on_the_nodes(
    window: MainWindow, tmp_path: Path
) -> None:
    path = open_scene(window, "neuron", tmp_path)
    window.registry["forward"].trigger()
    reference = bpviz.load_scene(path)
    reference.forward()
    reference.backward()
    for node_id, item in window.canvas.node_items.items():
        np.testing.assert_array_equal(item.value, reference.value(node_id))
        assert item.grad is None
    window.registry["backward"].trigger()
    for node_id, item in window.canvas.node_items.items():
        np.testing.assert_array_equal(item.grad, reference.grad(node_id))
    assert "gradients fresh" in window.training_ui.status.text()


def test_wires_show_the_gradient_they_carry(window: MainWindow, tmp_path: Path) -> None:
    open_scene(window, "neuron", tmp_path)
    window.registry["backward"].trigger()
    edge = window.canvas.edge_items[("x1", "x1w1", "a")]
    assert "∂L/∂x1 via x1w1.a" in edge.toolTip()
    assert "= 0.5 × -3 = -1.5" in edge.toolTip()
    width = {k: e.pen().widthF() for k, e in window.canvas.edge_items.items()}
    carried = {k: abs(float(g)) for k, g in window.training_ui.controller.contributions.items()}
    assert max(width, key=width.get) == max(carried, key=carried.get)  # thickest = largest |g|
    # the theme's documented pair (ColorBrewer RdBu ends): blue positive, red negative
    assert window.canvas.edge_items[("x1", "x1w1", "a")].pen().color().name() == "#b2182b"
    assert window.canvas.edge_items[("w1", "x1w1", "b")].pen().color().name() == "#2166ac"
    # every wire by the sign of what it carries (a zero gradient is the muted grey)
    carried = window.training_ui.controller.contributions
    assert sorted(carried) == sorted(window.canvas.edge_items)
    expected = {k: "#2166ac" if s > 0 else "#b2182b" if s < 0 else "#80868b"
                for k, s in ((k, float(np.sum(g))) for k, g in carried.items())}  # fmt: skip
    shown = {k: e.pen().color().name() for k, e in window.canvas.edge_items.items()}
    assert shown == expected
    assert sorted(shown.values()) == ["#2166ac"] * 7 + ["#80868b", "#b2182b"]


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
        window.registry["next_node"].trigger()
        node = seen[-1]
        np.testing.assert_array_equal(window.canvas.node_items[node].value, reference.value(node))
        expected_next = order[i + 1] if i + 1 < len(order) else "L"
        assert window.canvas.node_items[expected_next].mark == "active"
    assert seen == order
    for _ in range(len(order)):
        window.registry["next_node"].trigger()
    assert seen[len(order) :] == list(reversed(order))
    for node in order:
        np.testing.assert_array_equal(window.canvas.node_items[node].grad, reference.grad(node))


def test_animations_finish_and_leave_no_timers(window: MainWindow, tmp_path: Path, qtbot) -> None:  # noqa: ANN001
    open_scene(window, "chain_rule", tmp_path)  # 7 nodes, 6 wires, output L = d * f
    pulses = window.canvas.pulses

    def animations() -> list[QVariantAnimation]:
        return pulses.findChildren(QVariantAnimation)

    def pulse_items() -> list[PulseItem]:
        return [i for i in window.canvas.items() if isinstance(i, PulseItem)]

    for _ in range(7):  # the whole forward pass: one value along each wire
        window.registry["next_node"].trigger()
    assert pulses.running() == 6 and len(pulse_items()) == 6
    assert [a.state() for a in animations()] == [QVariantAnimation.State.Running] * 6
    window.registry["next_node"].trigger()  # backward starts at L: a gradient to d and to f
    assert pulses.running() == 8 and len(pulse_items()) == 8
    qtbot.waitUntil(lambda: pulses.running() == 0, timeout=5000)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert animations() == [] and pulse_items() == []
    window.registry["animate"].setChecked(False)
    window.registry["animate"].trigger()  # toggles back on, then off again below
    window.training_ui.set_animations(False)
    window.registry["next_node"].trigger()
    assert pulses.running() == 0


def test_run_for_n_steps_plots_n_points_and_the_loss_falls(
    window: MainWindow, tmp_path: Path, qtbot
) -> None:  # noqa: ANN001
    open_scene(window, "moons", tmp_path)
    ui = window.training_ui
    ui.speed_slider.setValue(ui.speed_slider.maximum())
    window.registry["run"].trigger()
    assert ui.running
    history = ui.controller.history
    qtbot.waitUntil(lambda: len(history) >= 300, timeout=20000)
    window.registry["run"].trigger()
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
    window.registry["run"].trigger()
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
    window.registry["run"].trigger()
    qtbot.waitUntil(lambda: len(ui.controller.history) > 5, timeout=10000)
    window.undo.push(MoveNodes({"x": (10.0, 10.0)}))
    assert not ui.running
    assert "paused" in window.statusBar().currentMessage().lower()


def test_closing_during_run_is_safe(window: MainWindow, tmp_path: Path, qtbot) -> None:  # noqa: ANN001
    open_scene(window, "moons", tmp_path)
    ui = window.training_ui
    window.registry["run"].trigger()
    qtbot.waitUntil(lambda: len(ui.controller.history) > 5, timeout=10000)
    assert window.close()
    assert not ui.running and ui.controller is None
    qtbot.wait(50)  # any stray timer would fire into the closed window here


def test_check_gradients_colours_the_nodes(window: MainWindow, tmp_path: Path) -> None:
    open_scene(window, "xor", tmp_path)
    window.registry["check"].trigger()
    marks = {n: i.mark for n, i in window.canvas.node_items.items()}
    # checked: the parameters (dense layers) and the data; the loss has none of its own
    assert marks == {"x": "check_ok", "t": "check_ok", "hidden": "check_ok",
                     "logit": "check_ok", "loss": None}  # fmt: skip
    # numbers checked: hidden W 2×2 and b 2, logit W 2 and b 1, x 4×2, t 4 = 21, two passes each
    assert window.statusBar().currentMessage() == (
        "All 4 checked gradients agree with finite differences, which took 42 forward passes "
        "(two per number); backpropagation needed one backward pass"
    )


def test_check_gradients_marks_exactly_the_nodes_whose_gradient_is_wrong(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """neuron with x2*w2 as x2-w2, and `sub` given a backward that doubles its gradients:
    only x2 and w2 get a wrong gradient."""
    sub = REGISTRY["sub"]

    def doubled(*args):  # noqa: ANN002, ANN202
        in_grads, p_grads = sub.backward(*args)
        return [2.0 * g for g in in_grads], p_grads

    monkeypatch.setitem(REGISTRY, "sub", dataclasses.replace(sub, backward=doubled))

    def x2_minus_w2(scene: dict) -> None:
        next(n for n in scene["nodes"] if n["id"] == "x2w2")["op"] = "sub"

    open_scene(window, "neuron", tmp_path, edit=x2_minus_w2)
    window.registry["check"].trigger()
    marks = {n: i.mark for n, i in window.canvas.node_items.items() if i.mark is not None}
    assert marks == {"x1": "check_ok", "w1": "check_ok", "x2": "check_bad",
                     "w2": "check_bad", "b": "check_ok"}  # fmt: skip
    assert window.statusBar().currentMessage() == "Gradients disagree at: w2, x2"


def test_editing_a_param_in_the_inspector_changes_the_next_forward(
    window: MainWindow, tmp_path: Path, qtbot  # noqa: ANN001
) -> None:
    open_scene(window, "neuron", tmp_path)
    window.registry["forward"].trigger()
    window.canvas.select(["b"])
    retype(qtbot, attr_editor(window.inspector, "value"), "0")
    assert window.document.node("b").attrs["value"] == 0.0
    assert window.undo.qstack.undoText() == "Change value of b"
    assert window.canvas.node_items["o"].stale
    window.registry["forward"].trigger()
    assert float(window.canvas.node_items["o"].value) == pytest.approx(np.tanh(-6.0))


def test_step_and_reset(window: MainWindow, tmp_path: Path) -> None:
    open_scene(window, "xor", tmp_path)
    ui = window.training_ui
    before = ui.controller.session.executor.params
    window.registry["step"].trigger()
    window.registry["step"].trigger()
    assert len(ui.controller.history) == 2
    assert window.loss_plot.train_data()[0].tolist() == [1, 2]
    window.registry["reset"].trigger()
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
    window.files.open_file(path)
    window.registry["backward"].trigger()
    assert window.canvas.node_items["w"].flag == "vanishing"
    assert window.canvas.node_items["s7"].flag is None


def test_saved_file_keeps_the_learned_weights(window: MainWindow, tmp_path: Path) -> None:
    open_scene(window, "xor", tmp_path)
    ui = window.training_ui
    for _ in range(5):
        window.registry["step"].trigger()
    learned = ui.controller.session.executor.params["hidden"]["W"].copy()
    out = tmp_path / "trained.json"
    window.dialogs.next_save_path = out
    assert window.files.save_as()
    reloaded = bpviz.load_scene(out)
    reloaded.forward()
    np.testing.assert_array_equal(reloaded.session.param("hidden", "W"), learned)


def test_exports_from_the_file_menu(window: MainWindow, tmp_path: Path) -> None:
    from PySide6.QtGui import QGuiApplication, QImage

    open_scene(window, "neuron", tmp_path)
    window.dialogs.next_export_path = tmp_path / "graph.png"
    window.registry["export_png"].trigger()
    assert not QImage(str(tmp_path / "graph.png")).isNull()
    window.dialogs.next_export_path = tmp_path / "graph.svg"
    window.registry["export_svg"].trigger()
    assert (tmp_path / "graph.svg").read_text().lstrip().startswith("<?xml")
    window.registry["copy_plot"].trigger()
    assert not QGuiApplication.clipboard().image().isNull()


def test_recording_a_training_step_writes_one_frame_per_node(
    window: MainWindow, tmp_path: Path
) -> None:
    open_scene(window, "chain_rule", tmp_path)
    frames = tmp_path / "frames"
    window.dialogs.next_directory = frames
    window.registry["record_pass"].trigger()
    files = sorted(frames.glob("frame_*.png"))
    assert len(files) == 14  # 7 nodes forward, 7 backward
    assert window.training_ui.controller.phase == "backward_done"


def test_recording_a_training_step_as_a_gif(window: MainWindow, tmp_path: Path) -> None:
    from PIL import Image

    open_scene(window, "chain_rule", tmp_path)
    window.dialogs.next_export_path = tmp_path / "pass.gif"
    window.registry["record_pass_gif"].trigger()
    with Image.open(tmp_path / "pass.gif") as gif:
        assert gif.is_animated and gif.n_frames == 14 and gif.size == (1280, 720)
        assert gif.info["loop"] == 0
        gif.seek(13)
        assert gif.info["duration"] == 2500  # the finished pass is held
    assert window.statusBar().currentMessage() == "Exported pass.gif"


def test_inspector_and_tooltips_show_the_formula_with_numbers(
    window: MainWindow, tmp_path: Path, qtbot  # noqa: ANN001
) -> None:
    open_scene(window, "neuron", tmp_path)
    window.registry["backward"].trigger()
    window.canvas.select(["o"])
    text = window.inspector.formula_text()
    assert "tanh(0.8814) = 0.7071" in text and "= 0.5" in text
    item = window.canvas.node_items["o"]
    window.view.centerOn(item)
    viewport = window.view.viewport()
    qtbot.mouseMove(viewport, QPoint(2, 2))
    qtbot.mouseMove(viewport, window.view.mapFromScene(item.sceneBoundingRect().center()))
    assert "tanh(0.8814) = 0.7071" in item.toolTip()  # built when the mouse arrives


def test_scrubbing_shows_the_stored_numbers_and_training_resumes_from_latest(
    window: MainWindow, tmp_path: Path
) -> None:
    path = open_scene(window, "xor", tmp_path)
    ui = window.training_ui
    for _ in range(3):
        window.registry["step"].trigger()  # fresh numbers after each step: full snapshots
    # as Run mode trains: one slice of 3 steps, announced after it ran, so only the last
    # step's parameters are kept, without values or gradients
    ui.controller.run_for(30.0, max_steps=3)
    ui.controller.run_for(30.0, max_steps=2)
    window.timeline.redraw()  # as Run mode's redraw does
    kept = ui.snapshots.steps()
    assert kept == [1, 2, 3, 6, 8]
    assert [ui.snapshots.get(k).full for k in kept] == [True, True, True, False, False]
    for step in (2, 6):  # one stored, one recomputed from that step's parameters
        window.timeline.scrub_to(step)
        reference = bpviz.load_scene(path)  # a headless run with the same seed
        reference.train(step)
        reference.forward()
        reference.backward()
        for node_id, item in window.canvas.node_items.items():
            np.testing.assert_allclose(item.value, reference.value(node_id), err_msg=node_id)
            if node_id != "t":  # integer class labels have no gradient
                np.testing.assert_allclose(item.grad, reference.grad(node_id), err_msg=node_id)
    snap = ui.snapshots.get(6)
    assert window.loss_plot._marker.isVisible() and window.loss_plot._marker.value() == 6
    window.landscape_dock.raise_()
    window.landscape.redraw()
    a = window.landscape.landscape.a
    marker_x = window.landscape.point_marker.getData()[0]
    assert a is not None and list(marker_x) == [a.get(snap.params)]  # the landscape shows it too
    window.registry["step"].trigger()  # acting returns to the latest state and trains on from there
    assert len(ui.controller.history) == 9 and window.timeline.following
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
        window.registry["step"].trigger()
    boundary.redraw()
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
    # values and gradients on show: the drag keeps both current
    window.registry["backward"].trigger()
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
