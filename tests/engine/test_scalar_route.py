"""Graphs of plain numbers run as compiled float code: every value and gradient must be the
very bits the numpy kernel gives, and any trouble must end as the kernel's own error."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bpviz.engine.errors import NonFiniteError
from bpviz.engine.executor import Executor
from bpviz.engine.gradcheck import gradcheck
from bpviz.engine.graph import Graph

UNARY = ("neg", "exp", "tanh", "sigmoid", "relu", "leaky_relu", "sum", "mean", "pow", "log")
BINARY = ("add", "sub", "mul", "div")
LOSSES = ("mse", "bce", "hinge")


def random_scalar_graph(seed: int, n: int = 60) -> Graph:
    """Params and consts (some exactly 0.0 or -0.0), then random ops of earlier nodes, a
    loss at the end; inputs of exp, log, div and pow kept where the op is defined."""
    rng = np.random.default_rng(seed)
    g = Graph()
    ids: list[str] = []
    for i in range(6):
        value = float(rng.choice([0.0, -0.0, 1.0, rng.normal(), rng.uniform(-3, 3)]))
        g.add_node(f"s{i}", "param" if i % 2 else "const", {"value": value})
        ids.append(f"s{i}")
    squash = []
    for i in range(n):
        nid = f"n{i}"
        if i % 3 == 2:
            g.add_node(nid, "tanh", inputs={"x": ids[-1]})
            squash.append(nid)
        elif rng.random() < 0.5:
            op = str(rng.choice(UNARY))
            src = str(rng.choice(squash or ids))
            attrs = {"exponent": float(rng.choice([2.0, 3.0, 0.5, -1.5]))} if op == "pow" else {}
            attrs |= {"alpha": 0.2} if op == "leaky_relu" else {}
            if op in ("log", "pow"):  # a positive input: 1 + sigmoid(x)
                g.add_node(f"{nid}p", "sigmoid", inputs={"x": src})
                g.add_node(f"{nid}q", "add", inputs={"a": f"{nid}p", "b": "s2"})
                src = f"{nid}q"
                g.set_attr("s2", "value", 1.0)
            g.add_node(nid, op, attrs, inputs={"x": src})
        else:
            op = str(rng.choice(BINARY))
            a, b = (str(rng.choice(squash or ids)) for _ in range(2))
            if op == "div":
                g.add_node(f"{nid}d", "exp", inputs={"x": b})
                b = f"{nid}d"
            g.add_node(nid, op, inputs={"a": a, "b": b})
        ids.append(nid)
    g.add_node("loss", LOSSES[seed % 3], inputs={"pred": ids[-1], "target": "s0"})
    g.set_output("loss")
    return g


def run(ex: Executor) -> tuple[list, list, dict]:
    ex.forward()
    ex.backward()
    nodes = list(ex.graph.nodes)
    values = [ex.value(n).tobytes() for n in nodes]
    grads = [ex.grad(n).tobytes() for n in nodes]
    params = {k: v["value"].tobytes() for k, v in ex.param_grads.items()}
    return values, grads, params


@pytest.mark.parametrize("seed", range(40))
def test_floats_give_the_kernels_bits(seed: int) -> None:
    ex = Executor(random_scalar_graph(seed))
    run(ex)  # the first passes are the kernel's; the second compiles the float route
    kernel = run(ex)
    assert not ex._scalar_ran
    floats = run(ex)
    assert ex._scalar_ran, "the second pass should run as floats"
    assert floats == kernel


def test_zero_signs_and_thresholds() -> None:
    g = Graph()
    g.add_node("z", "param", {"value": -0.0})
    for op in ("relu", "sum", "mean", "leaky_relu", "sigmoid", "neg"):
        g.add_node(op, op, inputs={"x": "z"})
    g.add_node("t", "const", {"value": -0.0})
    g.add_node("h", "hinge", inputs={"pred": "relu", "target": "t"})
    g.add_node("b", "bce", inputs={"pred": "sum", "target": "t"})
    g.add_node("m", "mse", inputs={"pred": "mean", "target": "neg"})
    g.add_node("s1", "add", inputs={"a": "h", "b": "b"})
    g.add_node("s2", "add", inputs={"a": "s1", "b": "m"})
    g.add_node("s3", "mul", inputs={"a": "s2", "b": "leaky_relu"})
    g.add_node("out", "add", inputs={"a": "s3", "b": "sigmoid"})
    g.set_output("out")
    ex = Executor(g)
    kernel = run(ex)
    assert run(ex) == kernel and not ex._scalar_ran  # the second pass compiles
    assert run(ex) == kernel and ex._scalar_ran


def test_trouble_in_floats_ends_as_the_kernels_error() -> None:
    g = Graph()
    g.add_node("w", "param", {"value": 1e200})
    g.add_node("sq", "mul", inputs={"a": "w", "b": "w"})  # inf as a float, silently
    g.add_node("r", "div", inputs={"a": "w", "b": "sq"})  # 1e200 / inf = 0: finite output
    g.set_output("r")
    ex = Executor(g)
    ex.params["w"] = {"value": np.array(1.0)}
    for _ in range(2):  # the second pass compiles the float route
        ex.forward()
        ex.backward()
    ex.params["w"]["value"][...] = 1e200  # in place, as the optimizer does
    with pytest.raises(NonFiniteError, match="'sq' during forward: overflow"):
        ex.forward()
    ex.params["w"]["value"][...] = 0.0
    with pytest.raises(NonFiniteError, match="node 'r' during forward: invalid"):
        ex.forward()
    ex.params["w"]["value"][...] = 2.0
    assert ex.forward() == 0.5 and ex._scalar_ran


def test_gradcheck_runs_on_the_float_route() -> None:
    ex = Executor(random_scalar_graph(3))
    results = gradcheck(ex)
    assert len(results) == 6 and all(r.ok for r in results)
    assert ex._scalar_ran
    assert math.isfinite(float(ex.forward()))


def test_zero_exponent_and_kept_dims() -> None:
    """x^0 has slope 0 even at x = 0; a sum that keeps dims of a number is that number."""
    g = Graph()
    g.add_node("x", "param", {"value": 0.0})
    g.add_node("p", "pow", {"exponent": 0.0}, inputs={"x": "x"})
    g.add_node("s", "sum", {"keepdims": True}, inputs={"x": "x"})
    g.add_node("y", "add", inputs={"a": "p", "b": "s"})
    g.set_output("y")
    ex = Executor(g)
    kernel = run(ex)
    assert run(ex) == kernel
    assert run(ex) == kernel and ex._scalar_ran
    assert ex.grad("x") == 1.0 and ex.forward() == 1.0
