"""Scene.predict: any node for new raw input rows, with the current parameters, checked
against the layer formulas computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from bpviz.engine.errors import BpvizError
from bpviz.scene import load_scene, parse_scene
from tests.scene.helpers import SCENES, node

ROWS = np.array([[-1.0, 0.5], [0.0, 0.0], [2.0, -0.25], [0.3, 1.7], [1.1, -0.6]])


@pytest.fixture(scope="module")
def moons():  # noqa: ANN201
    scene = load_scene(SCENES / "moons.json")
    scene.train(20)  # parameters that are not the initial ones
    scene.forward()
    return scene


def _layer(x: np.ndarray, scene, node: str, relu: bool) -> np.ndarray:  # noqa: ANN001
    z = x @ scene.param(node, "W") + scene.param(node, "b")
    return np.maximum(z, 0.0) if relu else z


def test_a_hidden_layer_is_act_of_x_w_plus_b(moons) -> None:  # noqa: ANN001
    W, b = moons.param("h1", "W"), moons.param("h1", "b")
    by_hand = np.array(
        [[max(0.0, r[0] * W[0, j] + r[1] * W[1, j] + b[j]) for j in range(16)] for r in ROWS]
    )
    got = moons.predict(ROWS, node="h1")
    assert got.shape == (5, 16)
    np.testing.assert_allclose(got, by_hand, rtol=0, atol=1e-12)


def test_default_is_the_node_feeding_the_loss(moons) -> None:  # noqa: ANN001
    h2 = _layer(_layer(ROWS, moons, "h1", True), moons, "h2", True)
    score = _layer(h2, moons, "score", False)
    np.testing.assert_allclose(moons.predict(ROWS), score, rtol=0, atol=1e-12)
    np.testing.assert_allclose(moons.predict(ROWS, node="h2"), h2, rtol=0, atol=1e-12)


def test_the_training_pass_is_left_alone(moons) -> None:  # noqa: ANN001
    before = moons.value("h1").copy()
    moons.predict(ROWS, node="h1")
    np.testing.assert_array_equal(moons.value("h1"), before)
    assert moons.value("h1").shape == (len(moons.session.dataset.x_train), 16)


def test_a_graph_without_a_loss_predicts_its_output() -> None:
    scene = parse_scene(
        {
            "format": "bpviz-scene",
            "version": 1,
            "output": "y",
            "nodes": [
                node("x", "input"),
                node("y", "dense", {"x": "x"}, {"units": 1, "activation": "tanh"}),
            ],
            "data": {"kind": "sine", "n": 20},
        }
    )
    x = np.linspace(-2, 2, 7)
    W, b = scene.param("y", "W"), scene.param("y", "b")
    by_hand = np.tanh(x[:, None] * W[0, 0] + b[0])
    np.testing.assert_allclose(scene.predict(x), by_hand, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("rows", "node", "message"),
    [
        (np.zeros((3, 3)), "h1", "X has 3 feature(s) per row, the data has 2"),
        (np.zeros((2, 2, 2)), "h1", "X must be rows × features, got shape (2, 2, 2)"),
        ([["a", "b"]], "h1", "X must be numbers"),
        (ROWS, "nope", "no node 'nope'"),
    ],
)
def test_bad_requests_say_what_is_wrong(moons, rows, node, message) -> None:  # noqa: ANN001
    with pytest.raises(BpvizError, match=message.replace("(", r"\(").replace(")", r"\)")):
        moons.predict(rows, node=node)


def test_data_transforms_are_applied_to_the_raw_rows() -> None:
    scene = load_scene(SCENES / "circles_features.json")  # transforms x1^2, x2^2
    scene.train(10)
    W, b = scene.param("score", "W"), scene.param("score", "b")
    by_hand = np.array([[r[0] ** 2 * W[0, 0] + r[1] ** 2 * W[1, 0] + b[0]] for r in ROWS])
    np.testing.assert_allclose(scene.predict(ROWS), by_hand, rtol=0, atol=1e-12)
    np.testing.assert_allclose(scene.predict(ROWS, node="x"), ROWS**2, rtol=0, atol=0)
