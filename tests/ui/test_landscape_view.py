"""The loss-landscape view: computes in slices and says so, follows the chosen axes and
training, and explains itself when there is nothing to show."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from bpviz.model.document import Document
from bpviz.model.training import TrainingController
from bpviz.ui.landscape import DONE_TEXT, HINT, LandscapeView

SCENES = Path(__file__).resolve().parents[2] / "scenes"


def controller(name: str) -> TrainingController:
    doc = Document.from_scene_dict(json.loads((SCENES / f"{name}.json").read_text()))
    return TrainingController(doc, SCENES)


def shown_view(qtbot, grid: int = 21) -> LandscapeView:  # noqa: ANN001
    view = LandscapeView(grid=grid)
    qtbot.addWidget(view)
    view.resize(360, 360)
    view.show()
    return view


def finish(qtbot, view: LandscapeView) -> None:  # noqa: ANN001
    qtbot.waitUntil(lambda: view.status_text().startswith(DONE_TEXT), timeout=5000)


def test_computes_in_slices_then_shows_the_grid(qtbot) -> None:  # noqa: ANN001
    view = shown_view(qtbot, grid=41)
    view.set_controller(controller("moons"))
    assert view.computing
    assert view.status_text().startswith("Computing…")
    assert view.status_text().endswith("%")
    finish(qtbot, view)
    assert not view.computing
    assert view.axis_labels() == ("h1.W[0,0]", "h1.W[0,1]")
    assert np.isfinite(view.landscape.values).all()
    assert view.image.image is not None and view.image.image.shape[:2] == (41, 41)
    assert view.contours  # contour lines over the heat image


def test_changing_the_choice_recomputes_with_new_axes(qtbot) -> None:  # noqa: ANN001
    view = shown_view(qtbot)
    view.set_controller(controller("neuron"))
    finish(qtbot, view)
    assert [view.combo_a.itemText(i) for i in range(view.combo_a.count())] == ["w1", "w2", "b"]
    assert view.axis_labels() == ("w1", "w2")
    view.combo_b.setCurrentIndex(2)
    view.combo_b.activated.emit(2)
    assert view.status_text().startswith("Computing")
    finish(qtbot, view)
    assert view.axis_labels() == ("w1", "b")
    assert view.landscape.b.label == "b"


def test_typed_entry_of_a_large_matrix(qtbot) -> None:  # noqa: ANN001
    view = shown_view(qtbot)
    view.set_controller(controller("moons"))
    view.combo_b.setCurrentText("h2.W[7,9]")
    view.combo_b.lineEdit().editingFinished.emit()
    finish(qtbot, view)
    assert view.axis_labels()[1] == "h2.W[7,9]"
    view.combo_b.setCurrentText("h2.W[99,0]")
    view.combo_b.lineEdit().editingFinished.emit()
    assert "No parameter entry" in view.status_text()  # shown, not raised


def test_path_follows_training_and_reset_clears_it(qtbot) -> None:  # noqa: ANN001
    c = controller("xor")
    view = shown_view(qtbot)
    view.set_controller(c)
    finish(qtbot, view)
    for _ in range(4):
        c.step()
    a, b = view.landscape.a, view.landscape.b
    params = c.session.executor.params
    assert len(view.landscape.path) == 5
    assert view.landscape.path[-1] == (a.get(params), b.get(params))
    qtbot.waitUntil(lambda: len(view.path_curve.getData()[0]) == 5, timeout=2000)
    x, y = view.point_marker.getData()
    assert (x[0], y[0]) == (a.get(params), b.get(params))
    c.reset()
    assert len(view.landscape.path) <= 1


def test_hint_for_a_graph_without_two_parameters(qtbot) -> None:  # noqa: ANN001
    doc = Document(name="no-params")
    doc.add_node("x", "const", {"value": 2.0}, (0, 0))
    doc.add_node("y", "tanh", {}, (100, 0))
    doc.connect("x", "y", "x")
    doc.set_output("y")
    view = shown_view(qtbot)
    view.set_controller(TrainingController(doc))
    assert HINT in view.hint_text()
    view.set_controller(None)
    assert "No scene" in view.hint_text()


def test_an_uncomputable_graph_shows_the_message(qtbot) -> None:  # noqa: ANN001
    doc = Document(name="broken")
    doc.add_node("w", "param", {"value": 1.0}, (0, 0))
    doc.add_node("v", "param", {"value": 2.0}, (0, 100))
    doc.add_node("s", "add", {}, (100, 0))
    doc.connect("w", "s", "a")
    doc.set_output("s")  # input b is unconnected
    view = shown_view(qtbot)
    view.set_controller(TrainingController(doc))
    qtbot.waitUntil(lambda: not view.computing, timeout=2000)
    assert "Cannot compute" in view.status_text()


def test_an_edit_during_computing_starts_again_on_the_new_graph(qtbot) -> None:  # noqa: ANN001
    c = controller("neuron")
    view = shown_view(qtbot, grid=41)
    view.set_controller(c)
    assert view.computing
    version = c.session.graph.version
    c.document.set_attr("x1", "value", 1.0)
    assert c.session.graph.version != version
    finish(qtbot, view)
    assert view.landscape.graph_version == c.session.graph.version
    s = c.session
    s.forward()
    s.executor.params["w1"]["value"][()] = view.landscape.xs[0]  # the loss with x1 = 1 now
    s.executor.params["w2"]["value"][()] = view.landscape.ys[3]
    assert view.landscape.values[0, 3] == float(s.forward())


def test_the_grid_follows_training_on_its_own(qtbot, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr("bpviz.ui.landscape.FOLLOW_SECONDS", 0.0)
    # the share rule is tested below; on a busy machine a slow grid would wait seconds here
    monkeypatch.setattr("bpviz.ui.landscape.FOLLOW_SHARE", 1.0)
    c = controller("xor")
    view = shown_view(qtbot)
    view.set_controller(c)
    finish(qtbot, view)
    centre = view.landscape.centre
    c.run_for(0.05)
    new_point = view.landscape.point(c.session)
    assert new_point != centre
    qtbot.waitUntil(lambda: view.landscape.centre == new_point and not view.computing, timeout=5000)
    assert view.status_text().startswith(DONE_TEXT)
    assert view.landscape.path[-1] == new_point


def test_following_takes_at_most_its_share_of_the_time(qtbot, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr("bpviz.ui.landscape.FOLLOW_SECONDS", 0.0)
    monkeypatch.setattr("bpviz.ui.landscape.FOLLOW_SHARE", 1e-4)  # a grid then waits minutes
    c = controller("xor")
    view = shown_view(qtbot)
    view.set_controller(c)
    finish(qtbot, view)
    centre = view.landscape.centre
    c.run_for(0.05)
    assert view.landscape.point(c.session) != centre
    qtbot.wait(600)
    assert view.landscape.centre == centre and not view.computing  # the old grid stays
    assert view.landscape.path[-1] == view.landscape.point(c.session)  # the path follows


def test_hover_reads_the_loss_at_a_grid_point(qtbot) -> None:  # noqa: ANN001
    from PySide6.QtCore import QPointF

    view = shown_view(qtbot, grid=5)
    view.set_controller(controller("neuron"))
    finish(qtbot, view)
    L = view.landscape
    text = view.loss_text_at(QPointF(L.xs[1], L.ys[3]))
    assert text == f"w1 = {L.xs[1]:.4g}\nw2 = {L.ys[3]:.4g}\nloss {L.values[1, 3]:.5g}"
    assert view.loss_text_at(QPointF(L.xs[-1] + 100, 0)) == ""


def test_a_hidden_view_waits_until_shown(qtbot) -> None:  # noqa: ANN001
    view = LandscapeView(grid=5)
    qtbot.addWidget(view)
    view.set_controller(controller("neuron"))
    assert not view.computing and not view.landscape.started
    view.show()
    finish(qtbot, view)
    view.hide()
    view.controller.step()
    qtbot.wait(100)
    assert not view.computing
    view.show()
    finish(qtbot, view)
    assert view.landscape.centre == view.landscape.point(view.session)
