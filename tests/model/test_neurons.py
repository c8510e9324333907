"""The numbers inside a dense layer against hand computation: δ, ∂L/∂W, the chain-rule term,
the neuron maps over the data box, dead and saturated units."""

from __future__ import annotations

import numpy as np
import pytest

from bpviz.model.neurons import LayerNumbers, NeuronMaps, unit_health, value_bars
from bpviz.scene import load_scene, parse_scene
from tests.scene.helpers import SCENES, node

X = np.array([[0.5, -1.0], [1.5, 0.25], [-0.75, 0.8], [0.1, 0.3]])
T = np.array([1.0, 0.0, 1.0, 0.0])
W1 = np.array([[0.4, -0.7, 0.2], [0.9, 0.1, -0.5]])
B1 = np.array([0.1, -0.2, 0.3])
W2 = np.array([[0.6], [-0.8], [0.5]])
B2 = np.array([0.05])


def tiny_scene():  # noqa: ANN201
    """x (4 × 2) → h = tanh(x W1 + b1) → y = h W2 + b2 → mse against t, weights given."""
    scene = parse_scene(
        {
            "format": "bpviz-scene",
            "version": 1,
            "output": "loss",
            "nodes": [
                node("x", "input"),
                node("t", "target"),
                node("h", "dense", {"x": "x"}, {"units": 3, "activation": "tanh"}),
                node("y", "dense", {"x": "h"}, {"units": 1}),
                node("loss", "mse", {"pred": "y", "target": "t"}),
            ],
            "data": None,
            "state": {
                "params": {
                    "h": {"W": W1.tolist(), "b": B1.tolist()},
                    "y": {"W": W2.tolist(), "b": B2.tolist()},
                },
                "optimizer": {"step": 0},
            },
        },
        runnable=False,
    )
    scene.session.executor.set_data(X, T)
    scene.session.executor.forward()
    scene.session.executor.backward()
    return scene


def by_hand():  # noqa: ANN201
    h = np.tanh(X @ W1 + B1)
    y = h @ W2 + B2
    dy = 2 * (y - T[:, None]) / len(X)
    dh = dy @ W2.T
    delta = dh * (1 - h**2)
    return h, dh, delta


def test_delta_and_weight_gradients_match_hand_computation() -> None:
    scene = tiny_scene()
    layer = LayerNumbers.from_session(scene.session, "h", input_names=("x1", "x2"))
    h, dh, delta = by_hand()
    np.testing.assert_allclose(layer.out, h, rtol=0, atol=1e-12)
    np.testing.assert_allclose(layer.grad_out, dh, rtol=0, atol=1e-12)
    np.testing.assert_allclose(layer.delta, delta, rtol=0, atol=1e-12)
    np.testing.assert_allclose(layer.delta_sum, delta.sum(axis=0), rtol=0, atol=1e-12)
    np.testing.assert_allclose(layer.dW, X.T @ delta, rtol=0, atol=1e-12)
    term = layer.chain_term(1, 2)
    assert term.value == pytest.approx(sum(X[n, 1] * delta[n, 2] for n in range(4)), abs=1e-12)
    np.testing.assert_array_equal(term.a, X[:, 1])


def test_weight_tooltip_has_the_numbers() -> None:
    layer = LayerNumbers.from_session(tiny_scene().session, "h", input_names=("x1", "x2"))
    _, _, delta = by_hand()
    products = X[:, 1] * delta[:, 2]
    k = int(np.argmax(np.abs(products)))
    text = layer.weight_text(1, 2)
    lines = text.splitlines()
    assert lines[0] == "h.W[1,2]: x2 → unit 2"
    assert lines[1] == "w = -0.5"
    assert lines[2] == f"∂L/∂w = {(X[:, 1] @ delta[:, 2]):.4g}"
    assert lines[3].startswith(
        f"chain rule: ∂L/∂w = Σₙ x2·δ2 over 4 points = ({X[k, 1]:.4g})·({delta[k, 2]:.4g}) + "
    )
    assert lines[3].endswith(f" + … (1 more) = {(X[:, 1] @ delta[:, 2]):.4g}")


def test_without_backward_the_gradients_are_asked_for() -> None:
    scene = tiny_scene()
    scene.session.executor.forward()  # a forward pass forgets the gradients
    layer = LayerNumbers.from_session(scene.session, "h", input_names=("x1", "x2"))
    assert layer.delta is None and layer.chain_term(0, 0) is None
    assert layer.weight_text(0, 0).splitlines()[-1] == "∂L/∂w: run Backward to see it"
    assert layer.unit_text(0).splitlines()[2] == "δ = ∂L/∂z: run Backward to see it"


def test_maps_cover_the_data_box_like_the_boundary_view() -> None:
    scene = load_scene(SCENES / "moons.json")
    scene.train(30)
    maps = NeuronMaps(scene.session, size=48)
    ds = scene.session.dataset
    x = np.vstack([ds.x_train, ds.x_test])
    lo, hi = x.min(axis=0), x.max(axis=0)
    lo, hi = lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo)
    xs = lo[0] + (np.arange(48) + 0.5) * (hi[0] - lo[0]) / 48
    ys = lo[1] + (np.arange(48) + 0.5) * (hi[1] - lo[1]) / 48
    got = maps.compute(["h1"])["h1"]
    assert maps.kind == "map" and got.shape == (48, 48, 16)
    W, b = scene.param("h1", "W"), scene.param("h1", "b")
    for row, col, unit in ((0, 0, 0), (47, 3, 5), (20, 31, 15)):
        z = xs[col] * W[0, unit] + ys[row] * W[1, unit] + b[unit]
        assert got[row, col, unit] == pytest.approx(max(z, 0.0), abs=1e-12)


def test_one_feature_gives_curves_and_no_data_gives_none() -> None:
    sine = load_scene(SCENES / "sine.json")
    maps = NeuronMaps(sine.session)
    assert maps.kind == "curve"
    first = next(n.id for n in sine.graph if n.op == "dense")
    assert maps.compute([first])[first].shape[0] == 200
    without_data = NeuronMaps(tiny_scene().session)
    assert without_data.kind == "none" and without_data.compute(["h"]) == {}


def test_dead_and_saturated_units_are_counted() -> None:
    relu = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0], [0.0, 3.0, 0.0]])
    health = unit_health("relu", relu)
    assert health.dead.tolist() == [True, False, False]
    assert health.summary() == "1 of 3 dead"
    assert health.note(0).startswith("dead: relu is 0 on every training point")
    assert health.note(1) is None
    n = 100
    tanh = np.full((n, 3), 0.2)
    tanh[:95, 0] = -0.995  # 95 % beyond 0.99: saturated
    tanh[:94, 1] = 0.999  # 94 %: not yet
    tanh[:, 2] = 0.99  # at 0.99, not beyond
    assert unit_health("tanh", tanh).saturated.tolist() == [True, False, False]
    assert unit_health("tanh", tanh).summary() == "1 of 3 saturated"
    sig = np.full((n, 2), 0.5)
    sig[:, 0] = 0.004  # |2a − 1| = 0.992
    sig[:, 1] = 0.995  # 0.99: not beyond
    assert unit_health("sigmoid", sig).saturated.tolist() == [True, False]
    assert unit_health("none", tanh).summary() == ""


def test_value_bars_are_batch_mean_and_range() -> None:
    mean, lo, hi = value_bars(np.array([[1.0, -2.0], [3.0, 4.0]]))
    assert mean.tolist() == [2.0, 1.0] and lo.tolist() == [1.0, -2.0] and hi.tolist() == [3.0, 4.0]


def test_a_layer_that_is_not_dense_is_refused() -> None:
    scene = tiny_scene()
    with pytest.raises(Exception, match="node 'loss' is a mse, not a dense layer"):
        LayerNumbers.from_session(scene.session, "loss")


def test_a_snapshot_gives_its_steps_numbers_with_the_gradients_written_out() -> None:
    from bpviz.model.snapshots import Snapshot

    s = tiny_scene().session
    ex = s.executor
    values = {n: np.array(ex.value(n)) for n in s.graph.nodes}
    grads = {n: np.array(ex.grad(n)) for n in s.graph.nodes if n != "t"}
    params = {n: {k: np.array(a) for k, a in p.items()} for n, p in ex.params.items()}
    snap = Snapshot(3, params, values=values, grads=grads, full=True)
    n = LayerNumbers.from_snapshot(s.graph, "h", snap)
    _, _, delta = by_hand()
    np.testing.assert_array_equal(n.b, B1)
    np.testing.assert_allclose(n.dW, X.T @ delta, rtol=0, atol=1e-12)
    np.testing.assert_allclose(n.delta_sum, delta.sum(axis=0), rtol=0, atol=1e-12)
    light = LayerNumbers.from_snapshot(s.graph, "h", Snapshot(3, params))
    np.testing.assert_array_equal(light.W, W1)
    assert light.dW is None and light.delta_sum is None and light.inputs is None


def test_a_pass_of_another_shape_is_not_read_as_the_layers() -> None:
    """The layer was resized or rewired since the pass: its arrays no longer fit W."""
    s = tiny_scene().session
    ex = s.executor
    values = {"x": np.ones((4, 3)), "h": np.ones((4, 5))}
    n = LayerNumbers.read(s.graph, "h", ex.params, values, {"h": np.ones((4, 5))})
    assert n.inputs is None and n.out is None and n.grad_out is None and n.delta is None
    assert "run Backward to see it" in n.weight_text(0, 0)
