"""The model-output view: a decision boundary on 2-D data that matches the model, a fitted
curve on 1-D regression data, and a hint for everything else."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import bpviz
from bpviz.ui.boundary import HINT, BoundaryView

SCENES = Path(__file__).resolve().parents[2] / "scenes"


def trained(name: str, steps: int):  # noqa: ANN201 - a Scene
    scene = bpviz.load_scene(SCENES / f"{name}.json")
    scene.train(steps)
    return scene


def pred_node(scene) -> str:  # noqa: ANN001
    graph = scene.graph
    return graph.nodes[graph.output].inputs["pred"]


@pytest.fixture(scope="module")
def moons():  # noqa: ANN201
    return trained("moons", 300)


def shown_view(qtbot, scene, node: str | None = None) -> BoundaryView:  # noqa: ANN001
    view = BoundaryView()
    qtbot.addWidget(view)
    view.resize(300, 260)
    view.show()
    view.set_session(scene.session if scene is not None else None, node or pred_node(scene))
    return view


def cell_of(points: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of the grid cell whose centre is nearest to each point."""
    i = np.clip(np.rint((points[:, 0] - xs[0]) / (xs[1] - xs[0])).astype(int), 0, len(xs) - 1)
    j = np.clip(np.rint((points[:, 1] - ys[0]) / (ys[1] - ys[0])).astype(int), 0, len(ys) - 1)
    return j, i


def assert_one_colour_per_class(labels: np.ndarray, brushes: np.ndarray, k: int) -> None:
    colours: dict[int, set[str]] = {}
    for label, brush in zip(labels.tolist(), brushes, strict=True):
        colours.setdefault(label, set()).add(brush.color().name())
    assert sorted(colours) == list(range(k))
    assert all(len(c) == 1 for c in colours.values())
    assert len(set.union(*colours.values())) == k


def test_the_grid_is_the_models_prediction(qtbot, moons) -> None:  # noqa: ANN001
    view = shown_view(qtbot, moons)
    assert view.mode == "boundary"
    grid = view.grid_values()
    xs, ys = view.grid_axes()
    assert grid.shape == (len(ys), len(xs)) == (80, 80)
    rows, cols = np.array([0, 79, 55, 3, 40]), np.array([0, 79, 10, 70, 40])
    points = np.column_stack([xs[cols], ys[rows]])
    expected = moons.session.predict(points, "score")[:, 0]
    np.testing.assert_allclose(grid[rows, cols], expected, rtol=1e-9, atol=1e-12)


def test_the_boundary_separates_the_points_as_the_model_does(qtbot, moons) -> None:  # noqa: ANN001
    view = shown_view(qtbot, moons)
    grid = view.grid_values()
    x = moons.session.dataset.x_train
    predicted = moons.session.predict(x, "score")[:, 0] > 0
    rows, cols = cell_of(x, *view.grid_axes())
    agree = np.mean((grid[rows, cols] > 0) == predicted)
    assert agree >= 0.95
    assert (grid > 0).any() and (grid < 0).any()  # a real boundary, not one colour


def test_colours_follow_the_sign_and_points_their_class(qtbot, moons) -> None:  # noqa: ANN001
    view = shown_view(qtbot, moons)
    grid, image = view.grid_values(), view.image.image
    r, b = image[..., 0].astype(int), image[..., 2].astype(int)
    sure = np.abs(grid) > 1.0
    assert np.all((r > b)[sure & (grid > 0)])  # orange side: class 1
    assert np.all((b > r)[sure & (grid < 0)])  # blue side: class 0
    ds = moons.session.dataset
    assert len(view.train_points.data) == len(ds.x_train)
    assert len(view.test_points.data) == len(ds.x_test)
    assert_one_colour_per_class(ds.y_train, view.train_points.data["brush"], 2)


def test_refreshing_leaves_the_session_as_it_was(qtbot) -> None:  # noqa: ANN001
    scene = trained("moons", 20)
    session = scene.session
    session.forward()
    accuracy = session.accuracy()
    view = shown_view(qtbot, scene)
    view.redraw()
    assert session.accuracy() == accuracy  # the values of the last forward pass are intact
    session.executor.reset_params()
    view.redraw()
    assert view.mode == "boundary"
    assert session.executor.params == {}  # an unrun model gets no parameters from the view


def test_refresh_follows_training_without_moving_the_view(qtbot) -> None:  # noqa: ANN001
    scene = trained("moons", 5)
    view = shown_view(qtbot, scene)
    before = view.grid_values().copy()
    view_range = view.plot.getPlotItem().vb.viewRange()
    scene.train(50)
    view.redraw()
    assert not np.allclose(view.grid_values(), before)
    assert view.plot.getPlotItem().vb.viewRange() == view_range


def test_a_hidden_view_catches_up_when_shown(qtbot) -> None:  # noqa: ANN001
    scene = trained("moons", 5)
    view = shown_view(qtbot, scene)
    before = view.grid_values().copy()
    view.hide()
    scene.train(50)
    view.redraw()
    np.testing.assert_array_equal(view.grid_values(), before)
    view.show()
    assert not np.allclose(view.grid_values(), before)


def test_three_classes_colour_by_the_likeliest(qtbot) -> None:  # noqa: ANN001
    scene = trained("spiral", 200)
    view = shown_view(qtbot, scene)
    grid = view.grid_values()
    assert view.mode == "boundary" and grid.shape == (80, 80, 3)
    assert set(np.unique(grid.argmax(axis=-1)).tolist()) == {0, 1, 2}
    assert_one_colour_per_class(scene.session.dataset.y_train, view.train_points.data["brush"], 3)


def test_regression_shows_the_fitted_curve(qtbot) -> None:  # noqa: ANN001
    scene = trained("sine", 100)
    view = shown_view(qtbot, scene)
    assert view.mode == "regression"
    x, y = view.curve_data()
    assert np.all(np.diff(x) > 0)
    np.testing.assert_allclose(y, scene.session.predict(x[:, None], "y")[:, 0])
    assert len(view.train_points.data) == len(scene.session.dataset.x_train)


def test_a_scalar_scene_shows_the_hint(qtbot) -> None:  # noqa: ANN001
    scene = bpviz.load_scene(SCENES / "neuron.json")
    view = shown_view(qtbot, scene, node="o")
    assert view.mode == "hint" and HINT in view.hint_text()
    assert view.grid_values() is None


def test_no_session_and_a_failing_node_show_the_hint(qtbot, moons) -> None:  # noqa: ANN001
    view = shown_view(qtbot, None, node="score")
    assert view.mode == "hint" and HINT in view.hint_text()
    view.set_session(moons.session, "no_such_node")
    assert view.mode == "hint" and "no_such_node" in view.hint_text()
    view.set_session(moons.session, "score")  # and back
    assert view.mode == "boundary" and view.hint_text() == ""
