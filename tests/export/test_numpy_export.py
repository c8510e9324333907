"""The numpy export reproduces bpviz's values and gradients, for every op in the registry."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bpviz.engine.ops import REGISTRY
from bpviz.export import ExportError, export_scene
from bpviz.scene import load_scene, parse_scene

SCENES = Path(__file__).resolve().parents[2] / "scenes"


def _import(path: Path):  # noqa: ANN202
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _assert_export_matches(scene: Any, script: Path, grad_rtol: float = 1e-12) -> None:
    """Every node's value and gradient, and every layer parameter gradient, equal bpviz's."""
    session = scene.session
    session.forward()
    session.backward()
    module = _import(script)
    values = module.forward()
    grads = module.backward(values)
    for node_id in scene.graph.nodes:
        np.testing.assert_allclose(
            values[node_id], session.value(node_id), rtol=1e-12, atol=1e-12, err_msg=node_id
        )
        np.testing.assert_allclose(
            grads[node_id], session.grad(node_id), rtol=grad_rtol, atol=1e-12, err_msg=node_id
        )
    for node_id, named in session.executor.param_grads.items():
        if scene.graph.node(node_id).op == "param":
            continue  # a param node's gradient is its node gradient, checked above
        for pname, grad in named.items():
            np.testing.assert_allclose(
                module.pgrads[f"{node_id}.{pname}"], grad, rtol=grad_rtol, atol=1e-12
            )


def test_chain_rule_script_prints_the_output(tmp_path: Path) -> None:
    scene = load_scene(SCENES / "chain_rule.json")
    (script,) = export_scene(scene, "numpy", tmp_path / "chain_rule_np.py")
    _assert_export_matches(scene, script, grad_rtol=0)
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    out = float(scene.session.value(scene.graph.output))
    assert float(run.stdout.strip()) == pytest.approx(out, abs=1e-12)


def test_unsupported_op_names_node_and_op(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bpviz.export import numpy_target

    scene = load_scene(SCENES / "xor.json")
    monkeypatch.delitem(numpy_target.NUMPY_OPS, "bce")
    with pytest.raises(ExportError, match="node 'loss': op 'bce'"):
        export_scene(scene, "numpy", tmp_path / "xor_np.py")


@pytest.mark.parametrize(
    "name", ["chain_rule", "neuron", "xor", "moons", "spiral", "sine", "exam", "circles_features"]
)
def test_example_scenes_match_bpviz(tmp_path: Path, name: str) -> None:
    scene = load_scene(SCENES / f"{name}.json")
    (script,) = export_scene(scene, "numpy", tmp_path / f"{name}_np.py")
    _assert_export_matches(scene, script, grad_rtol=0)
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    assert run.stdout.strip()


SEEDS = range(8)
PARTS = 4  # _coverage_scene splits the steps over this many seeds
SCENE = {"format": "bpviz-scene", "version": 1, "name": "random"}
BROADCAST_SHAPES = [(3, 3), (3, 1), (3,), ()]


def _random_scene(seed: int) -> dict:
    """A seeded chain of elementwise and matmul ops over 3x3 constants."""
    rng = np.random.default_rng(seed)
    nodes = [
        {
            "id": f"c{i}",
            "op": "const",
            "inputs": {},
            "attrs": {"value": rng.uniform(0.5, 1.5, (3, 3)).tolist()},
        }
        for i in range(3)
    ]
    prev = "c0"
    for i in range(6):
        op = str(rng.choice(["add", "sub", "mul", "div", "tanh", "sigmoid", "exp", "matmul"]))
        other = f"c{rng.integers(3)}"
        inputs = {"x": prev} if op in ("tanh", "sigmoid", "exp") else {"a": prev, "b": other}
        nodes.append({"id": f"n{i}", "op": op, "inputs": inputs, "attrs": {}})
        prev = f"n{i}"
    return {**SCENE, "output": prev, "nodes": nodes}


class _Graph:
    """Builds a scene dict node by node; sources take turns being const, param and input."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes: list[dict] = []

    def add(self, op: str, attrs: dict | None = None, **inputs: str) -> str:
        node_id = f"n{len(self.nodes)}"
        self.nodes.append({"id": node_id, "op": op, "inputs": inputs, "attrs": attrs or {}})
        return node_id

    def source(self, shape: tuple[int, ...], low: float = -1.0, high: float = 1.0) -> str:
        op = ("const", "param", "input")[len(self.nodes) % 3]
        return self.add(op, {"value": self.rng.uniform(low, high, shape).tolist()})

    def target(self, values: np.ndarray) -> str:
        return self.add("target", {"value": values.tolist()})

    def pick(self, options: list) -> Any:
        return options[self.rng.integers(len(options))]

    def either(self, op: str, x: str, y: str) -> str:
        """op on x and y in a random order, so a broadcast operand comes first or second."""
        return self.add(op, a=x, b=y) if self.rng.random() < 0.5 else self.add(op, a=y, b=x)

    def broadcast_source(self, low: float = -1.0, high: float = 1.0) -> str:
        return self.source(self.pick(BROADCAST_SHAPES), low, high)


# Each step reads the (3, 3) head h, whose entries lie in (-1, 1), and returns a node that
# broadcasts against it: (3, 3), (3, 1), (3,) or a scalar. Variants that must all be covered
# (attributes, vector sides) are separate steps; operand order and shapes are drawn.
Step = Callable[[_Graph, str], str]


def _binary(op: str) -> Step:
    return lambda b, h: b.either(op, h, b.broadcast_source())


def _unary(op: str, **attrs: Any) -> Step:
    return lambda b, h: b.add(op, attrs, x=h)


def _div(b: _Graph, h: str) -> str:
    if b.rng.random() < 0.5:
        return b.add("div", a=h, b=b.broadcast_source(0.5, 1.5))
    return b.add("div", a=b.broadcast_source(), b=b.add("exp", x=h))


def _log(b: _Graph, h: str) -> str:
    return b.add("log", x=b.add("sigmoid", x=h))


def _pow(**attrs: float) -> Step:
    """On positive values only: a source, or sigmoid(h)."""

    def step(b: _Graph, h: str) -> str:
        base = b.source((3, 3), 0.5, 1.5) if b.rng.random() < 0.5 else b.add("sigmoid", x=h)
        return b.add("pow", attrs, x=base)

    return step


def _reduction(op: str, axis: int | list[int] | None, keepdims: bool = False) -> Step:
    """Reduces h times signs drawn per entry, so a sum of nine entries stays near 1 (a sum of
    h alone, all near +1 late in the chain, would saturate the tanh that follows)."""

    def step(b: _Graph, h: str) -> str:
        x = b.add("mul", a=h, b=b.source((3, 3)))
        attrs: dict = {} if axis is None else {"axis": axis}
        return b.add(op, attrs | ({"keepdims": True} if keepdims else {}), x=x)

    return step


def _matmul(b: _Graph, h: str) -> str:
    """A (3, 3) matrix or a (3, 1) column on the right of h, or a matrix on its left."""
    if b.rng.random() < 0.5:
        return b.add("matmul", a=b.source((3, 3)), b=h)
    return b.add("matmul", a=h, b=b.source(b.pick([(3, 3), (3, 1)])))


def _matmul_vector(side: str) -> Step:
    """numpy promotes a vector on the left to a row and one on the right to a column."""

    def step(b: _Graph, h: str) -> str:
        vec = b.source((3,))
        if side == "left":
            return b.add("matmul", a=vec, b=h)
        if side == "right":
            return b.add("matmul", a=h, b=vec)
        return b.add("matmul", a=vec, b=b.add("mean", {"axis": 0}, x=h))

    return step


def _dense(b: _Graph, h: str) -> str:
    act = b.pick(["none", "tanh", "sigmoid", "relu"])
    x = h if b.rng.random() < 0.7 else b.add("mean", {"axis": 1}, x=h)  # (3, 3) or a vector
    return b.add("dense", {"units": 3, "activation": act}, x=x)


def _loss(op: str) -> Step:
    """The loss of h against a fitting target: a scalar that broadcasts back into h."""

    def step(b: _Graph, h: str) -> str:
        rng = b.rng
        if op == "cross_entropy":
            target = b.target(rng.integers(0, 3, 3).astype(float))
        elif op == "mse" and rng.random() < 0.5:  # a computed target receives a gradient too
            target = b.add("tanh", x=b.source(b.pick([(3, 3), (9,), ()])))
        elif op == "mse":
            target = b.target(rng.uniform(-1, 1, b.pick([(3, 3), (9,), ()])))
        elif op == "bce":
            target = b.target(rng.integers(0, 2, (3, 3)).astype(float))
        else:
            target = b.target(rng.choice([-1.0, 1.0], (3, 3)))
        return b.add(op, pred=h, target=target)

    return step


def _column(b: _Graph, h: str) -> str:
    """One column of h: a (3, 1) that broadcasts back over it."""
    return b.add("column", {"index": int(b.rng.integers(3))}, x=h)


def _concat(b: _Graph, h: str) -> str:
    """h's columns reordered: a column of h beside a (3, 2) source, or the other way round."""
    col = b.add("column", {"index": int(b.rng.integers(3))}, x=h)
    other = b.source((3, 2))
    return b.add("concat", a=col, b=other) if b.rng.random() < 0.5 else b.add(
        "concat", a=other, b=col
    )


AXES: list[int | list[int] | None] = [None, 0, -1, [0, 1], [1, -2], []]
STEPS: list[Step] = [
    *(_binary(op) for op in ("add", "sub", "mul")),
    _div,
    *(_unary(op) for op in ("neg", "exp", "tanh", "sigmoid", "relu", "softmax")),
    _log,
    _unary("leaky_relu"),
    _unary("leaky_relu", alpha=0.2),
    _pow(),
    _pow(exponent=3),
    _pow(exponent=0.5),
    _pow(exponent=-1.5),
    *(_reduction(op, axis) for op in ("sum", "mean") for axis in AXES),
    *(_reduction(op, axis, True) for op in ("sum", "mean") for axis in (None, -1, [0, 1])),
    _matmul,
    *(_matmul_vector(side) for side in ("left", "right", "both")),
    _dense,
    _column,
    _concat,
    *(_loss(op) for op in ("mse", "bce", "hinge", "cross_entropy")),
]


def _coverage_scene(seed: int) -> dict:
    """A short chain (so gradients stay well above 1e-12) of the steps numbered seed mod PARTS
    plus two random ones, in seeded order; seeds 0 .. PARTS-1 together use every step.

    Each result r updates the head as h = tanh(r + w * h), w a random source in (0.3, 0.8) of
    a broadcast shape: no step can cancel h exactly (neg would in h + r) and tanh keeps it in
    (-1, 1)."""
    b = _Graph(seed)
    picked = [i for i in range(len(STEPS)) if i % PARTS == seed % PARTS]
    picked += [int(i) for i in b.rng.integers(len(STEPS), size=2)]
    h = b.source((3, 3))
    for i in b.rng.permutation(picked):
        r = STEPS[i](b, h)
        h = b.add("tanh", x=b.either("add", r, b.either("mul", h, b.broadcast_source(0.3, 0.8))))
    out = b.add("sum", x=h) if b.rng.random() < 0.5 else h  # a scalar or a (3, 3) output
    return {**SCENE, "output": out, "nodes": b.nodes}


@pytest.mark.parametrize("make", [_random_scene, _coverage_scene])
@pytest.mark.parametrize("seed", SEEDS)
def test_random_graphs_match_bpviz(tmp_path: Path, seed: int, make: Callable[[int], dict]) -> None:
    scene = parse_scene(make(seed))
    (script,) = export_scene(scene, "numpy", tmp_path / f"rand{seed}.py")
    _assert_export_matches(scene, script)
    assert not re.search(r"^\s*(import|from) bpviz", script.read_text(), re.M)  # standalone


def test_random_graphs_cover_every_registry_op() -> None:
    """A newly registered op fails here until a generator (and so the export) covers it."""
    seen = {
        node["op"]
        for seed in SEEDS
        for raw in (_random_scene(seed), _coverage_scene(seed))
        for node in raw["nodes"]
    }
    missing = sorted(set(REGISTRY) - seen)
    assert not missing, f"no generated graph uses {missing}: add a step for it to STEPS"


@pytest.mark.parametrize(
    ("a", "b"),
    [((3,), (3, 2)), ((2, 3), (3,)), ((3,), (3,)), ((4, 2, 3), (3,)), ((3,), (4, 3, 2))],
)
def test_matmul_with_vectors_matches_bpviz(
    tmp_path: Path, a: tuple[int, ...], b: tuple[int, ...]
) -> None:
    """Vectors are promoted like numpy's @ (row on the left, column on the right), batched too."""
    g = _Graph(0)
    m = g.add("matmul", a=g.source(a), b=g.source(b))
    scene = parse_scene({**SCENE, "output": g.add("tanh", x=m), "nodes": g.nodes})
    (script,) = export_scene(scene, "numpy", tmp_path / "matmul.py")
    _assert_export_matches(scene, script)


def test_attributes_are_written_as_literals(tmp_path: Path) -> None:
    g = _Graph(0)
    x = g.source((3, 3), 0.5, 1.5)
    parts = [
        g.add("sum", {"axis": []}, x=x),
        g.add("mean", {"axis": [0, -1]}, x=x),
        g.add("pow", {"exponent": 0.5}, x=x),
        g.add("leaky_relu", {"alpha": 0.25}, x=x),
    ]
    out = g.add(
        "add", a=g.add("add", a=parts[0], b=parts[1]), b=g.add("mul", a=parts[2], b=parts[3])
    )
    scene = parse_scene({**SCENE, "output": out, "nodes": g.nodes})
    (script,) = export_scene(scene, "numpy", tmp_path / "attrs.py")
    text = script.read_text()
    literals = ("axis=(), keepdims=False)", "axis=(0, -1), keepdims=False)")
    for code in (*literals, f"np.power(v['{x}'], 0.5)", f"0.25 * v['{x}']"):
        assert code in text
    _assert_export_matches(scene, script)
