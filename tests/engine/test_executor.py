from __future__ import annotations

import math

import numpy as np
import pytest

from bpviz.engine.errors import GraphError, NonFiniteError, ShapeError
from bpviz.engine.executor import Executor
from bpviz.engine.graph import Graph
from tests.engine.helpers import chain_graph, mlp_graph


def test_scalar_chain_rule_by_hand() -> None:
    ex = Executor(chain_graph())
    x, w = 0.7, -1.3
    s = w * x + x
    assert ex.forward() == pytest.approx(math.tanh(s))
    ex.backward()
    dy_ds = 1 - math.tanh(s) ** 2
    assert ex.grad("y") == 1.0
    assert ex.grad("s") == pytest.approx(dy_ds)
    assert ex.grad("w") == pytest.approx(dy_ds * x)
    # x feeds mul and add: both contributions add up (the fan-out rule)
    assert ex.grad("x") == pytest.approx(dy_ds * w + dy_ds)
    assert ex.param_grads["w"]["value"] == pytest.approx(dy_ds * x)


def test_fan_out_accumulates_for_arrays_and_repeated_ports() -> None:
    g = Graph()
    g.add_node("a", "param", {"value": [1.0, -2.0, 3.0]})
    g.add_node("sq", "mul", inputs={"a": "a", "b": "a"})  # same value on both ports
    g.add_node("e", "exp", inputs={"x": "a"})
    g.add_node("t", "add", inputs={"a": "sq", "b": "e"})
    g.add_node("y", "sum", inputs={"x": "t"})
    g.set_output("y")
    ex = Executor(g)
    ex.forward()
    ex.backward()
    a = np.array([1.0, -2.0, 3.0])
    np.testing.assert_allclose(ex.grad("a"), 2 * a + np.exp(a))


def test_broadcast_gradients_reduce_to_input_shape() -> None:
    g = Graph()
    g.add_node("m", "param", {"value": [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]})
    g.add_node("b", "param", {"value": [10.0, 20.0]})
    g.add_node("c", "const", {"value": 2.0})
    g.add_node("s", "add", inputs={"a": "m", "b": "b"})
    g.add_node("p", "mul", inputs={"a": "s", "b": "c"})
    g.add_node("y", "sum", inputs={"x": "p"})
    g.set_output("y")
    ex = Executor(g)
    ex.forward()
    ex.backward()
    np.testing.assert_allclose(ex.grad("b"), [6.0, 6.0])
    assert ex.grad("c").shape == () and ex.grad("c") == pytest.approx(
        (np.array(ex.value("s"))).sum()
    )
    np.testing.assert_allclose(ex.grad("m"), np.full((3, 2), 2.0))


def test_steps_match_whole_passes() -> None:
    """Whole passes run plain loops, stepwise passes the kernels as generators: the very
    same bits."""
    ex = Executor(mlp_graph())
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(7, 2)), rng.integers(0, 2, 7)
    ex.set_data(x, y)
    ex.forward()
    loss = ex.forward()
    ex.backward()
    values = {n: ex.value(n).copy() for n in ex.graph.nodes}
    grads = {n: ex.grad(n).copy() for n in ex.graph.nodes}
    pgrads = {n: {k: v.copy() for k, v in d.items()} for n, d in ex.param_grads.items()}

    fwd = list(ex.forward_nodes())
    assert [s.node_id for s in fwd] == ex.graph.topological_order()
    for s in fwd:
        np.testing.assert_array_equal(s.value, values[s.node_id])
    assert fwd[-1].value == loss
    bwd = list(ex.backward_nodes())
    assert [s.node_id for s in bwd] == list(reversed(ex.graph.topological_order()))
    for s in bwd:
        np.testing.assert_allclose(s.grad, grads[s.node_id], rtol=0, atol=0)
        for c in s.contributions:
            assert c.dst == s.node_id and c.grad.shape == np.shape(values[c.src])
    for n, d in pgrads.items():
        for k, v in d.items():
            np.testing.assert_array_equal(ex.param_grads[n][k], v)


def test_contributions_at_fan_out_add_up_to_the_node_gradient() -> None:
    ex = Executor(chain_graph())
    list(ex.forward_nodes())
    steps = list(ex.backward_nodes())
    into_x = [c.grad for s in steps for c in s.contributions if c.src == "x"]
    assert len(into_x) == 2
    x_step = next(s for s in steps if s.node_id == "x")
    assert x_step.grad == pytest.approx(sum(into_x))


def test_nodes_off_the_output_path_get_zero_gradient() -> None:
    g = chain_graph()
    g.add_node("side", "exp", inputs={"x": "x"})
    ex = Executor(g)
    ex.forward()
    ex.backward()
    assert ex.value("side") == pytest.approx(math.exp(0.7))
    assert ex.grad("side") == 0.0


def test_nonfinite_forward_names_the_first_node() -> None:
    g = Graph()
    g.add_node("x", "const", {"value": -1.0})
    g.add_node("l", "log", inputs={"x": "x"})
    g.add_node("e", "exp", inputs={"x": "l"})
    g.set_output("e")
    with pytest.raises(NonFiniteError, match="'l'") as err:
        Executor(g).forward()
    assert err.value.node_id == "l" and err.value.phase == "forward"
    with pytest.raises(NonFiniteError, match="'l'"):
        list(Executor(g).forward_nodes())


def test_nonfinite_backward_names_the_node() -> None:
    g = Graph()
    g.add_node("w", "param", {"value": 0.0})
    g.add_node("r", "pow", {"exponent": 0.5}, inputs={"x": "w"})
    g.set_output("r")
    ex = Executor(g)
    ex.forward()
    with pytest.raises(NonFiniteError, match="during backward") as err:
        ex.backward()
    assert err.value.node_id in ("w", "r")


def test_passes_after_the_first_read_new_data_and_params_and_name_bad_nodes() -> None:
    """From the second pass on, a forward pass runs pre-bound steps: they read the data and
    the parameter arrays of the moment, and name the node that fails as the first pass does."""
    g = Graph()
    g.add_node("w", "param", {"value": [1.0, 2.0]})
    g.add_node("c", "const", {"value": [0.5, 0.25]})
    g.add_node("m", "mul", inputs={"a": "w", "b": "c"})
    g.add_node("out", "sum", inputs={"x": "m"})
    g.set_output("out")
    ex = Executor(g)
    ex.forward()
    assert ex.forward() == 1.0
    ex.params["w"]["value"] = np.array([4.0, 8.0])  # a new array (an update works in place)
    assert ex.forward() == 4.0
    np.testing.assert_array_equal(ex.value("w"), [4.0, 8.0])

    g = Graph()
    g.add_node("x", "input")
    g.add_node("t", "target")
    g.add_node("l", "log", inputs={"x": "x"})
    g.add_node("s", "add", inputs={"a": "l", "b": "t"})
    g.add_node("out", "sum", inputs={"x": "s"})
    g.set_output("out")
    ex = Executor(g)
    ex.set_data(np.ones((4, 1)), np.ones(4))
    ex.forward()
    ex.set_data(np.full((4, 1), np.e), np.ones(4))
    assert ex.forward() == 8.0
    ex.set_data(np.full((4, 1), -1.0), np.ones(4))
    with pytest.raises(NonFiniteError, match="'l'"):
        ex.forward()
    ex.set_data(np.ones((4, 1)), np.ones(3))
    with pytest.raises(ShapeError, match="node 's'"):
        ex.forward()


def test_incompatible_shapes_name_the_node() -> None:
    g = Graph()
    g.add_node("a", "const", {"value": [1.0, 2.0, 3.0]})
    g.add_node("b", "const", {"value": [1.0, 2.0]})
    g.add_node("s", "add", inputs={"a": "a", "b": "b"})
    g.set_output("s")
    with pytest.raises(ShapeError, match="node 's'"):
        Executor(g).forward()


def test_unconnected_output_is_reported() -> None:
    g = Graph()
    g.add_node("a", "const", {"value": 1.0})
    g.add_node("s", "add", inputs={"a": "a"})
    g.set_output("s")
    ex = Executor(g)
    with pytest.raises(GraphError, match="'s.b'"):
        ex.forward()
    assert ex.value("a") == 1.0  # what can be computed still is


def test_plan_is_rebuilt_after_an_edit_and_reused_otherwise() -> None:
    g = chain_graph()
    ex = Executor(g)
    ex.forward()
    plan = ex.plan
    ex.forward()
    assert ex.plan is plan
    g.set_attr("x", "value", 2.0)
    assert ex.forward() == pytest.approx(math.tanh(-1.3 * 2 + 2))
    assert ex.plan is not plan


def test_params_are_seeded_and_reproducible() -> None:
    a, b, c = (
        Executor(mlp_graph(), seed=5),
        Executor(mlp_graph(), seed=5),
        Executor(mlp_graph(), seed=6),
    )
    for ex in (a, b, c):
        ex.set_data(np.ones((3, 2)), np.ones(3))
        ex.forward()
    np.testing.assert_array_equal(a.params["h"]["W"], b.params["h"]["W"])
    assert not np.array_equal(a.params["h"]["W"], c.params["h"]["W"])
    assert a.params["h"]["W"].shape == (2, 8) and np.all(a.params["out"]["b"] == 0)


def test_saved_params_that_no_longer_fit_raise_shape_error() -> None:
    ex = Executor(mlp_graph())
    ex.load_params({"h": {"W": np.zeros((3, 8)), "b": np.zeros(8)}})
    ex.set_data(np.ones((4, 2)), np.ones(4))
    with pytest.raises(ShapeError, match="node 'h'"):
        ex.forward()


@pytest.mark.parametrize("init", ["zeros", "normal", "xavier", "he", {"uniform": 0.5}])
def test_param_init_kinds(init: object) -> None:
    g = Graph()
    g.add_node("p", "param", {"shape": [30, 20], "init": init})
    g.set_output("p")
    v = Executor(g).forward()
    assert v.shape == (30, 20)
    if init == "zeros":
        assert np.all(v == 0)
    elif isinstance(init, dict):
        assert np.abs(v).max() <= 0.5
    elif init == "xavier":
        assert v.std() == pytest.approx(np.sqrt(2 / 50), rel=0.15)
    elif init == "he":
        assert v.std() == pytest.approx(np.sqrt(2 / 30), rel=0.15)


def test_a_training_backward_computes_only_what_leads_to_parameters(monkeypatch) -> None:  # noqa: ANN001
    """The data fed to the first layer gets no gradient in a training step (it is the
    step's largest product); parameter gradients are exactly those of a full pass."""
    import dataclasses

    from bpviz.engine.datasets import make_dataset
    from bpviz.engine.ops import REGISTRY

    dense = REGISTRY["dense"]
    asked: list[object] = []
    skipped: list[bool] = []

    def spy(*args):  # noqa: ANN002, ANN202
        in_grads, p_grads = dense.backward(*args)
        asked.append(args[5] if len(args) > 5 else None)
        skipped.append(in_grads[0] is None)
        return in_grads, p_grads

    monkeypatch.setitem(REGISTRY, "dense", dataclasses.replace(dense, backward=spy))
    ds = make_dataset({"kind": "gauss", "n": 20, "seed": 1})
    ex = Executor(mlp_graph())
    ex.set_data(ds.x_train, ds.y_train)
    ex.forward()
    ex.backward()
    full = {n: {k: g.copy() for k, g in pg.items()} for n, pg in ex.param_grads.items()}
    x_grad, h_grad = ex.grad("x"), ex.grad("h")
    assert x_grad.shape == ds.x_train.shape and asked == [None, None]
    asked.clear()
    ex.forward()
    ex.backward(params_only=True)
    assert asked == [None, (False,)]  # the output layer as usual; the first skips x's gradient
    assert skipped == [False, False, False, True]
    for node_id, grads in full.items():
        for name, g in grads.items():
            np.testing.assert_array_equal(ex.param_grads[node_id][name], g)
    with pytest.raises(GraphError, match="gradient of 'x' was not computed"):
        ex.grad("x")
    np.testing.assert_array_equal(ex.grad("h"), h_grad)
    ex.backward()
    np.testing.assert_array_equal(ex.grad("x"), x_grad)
