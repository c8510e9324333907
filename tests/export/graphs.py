"""One seeded random-graph generator for every export test: each op of the registry, every
attribute variant, operands that broadcast, and sources that take turns being const, param and
input — so all targets are checked on the same graphs."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

EXAMPLES = ("chain_rule", "neuron", "xor", "moons", "spiral", "sine", "exam", "circles_features")
SEEDS = range(8)
PARTS = 4  # random_scene splits the steps over this many seeds
SCENE = {"format": "bpviz-scene", "version": 1, "name": "random"}
BROADCAST_SHAPES = [(3, 3), (3, 1), (3,), ()]


class Graph:
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
Step = Callable[[Graph, str], str]


def _binary(op: str) -> Step:
    return lambda b, h: b.either(op, h, b.broadcast_source())


def _unary(op: str, **attrs: Any) -> Step:
    return lambda b, h: b.add(op, attrs, x=h)


def _div(b: Graph, h: str) -> str:
    if b.rng.random() < 0.5:
        return b.add("div", a=h, b=b.broadcast_source(0.5, 1.5))
    return b.add("div", a=b.broadcast_source(), b=b.add("exp", x=h))


def _log(b: Graph, h: str) -> str:
    return b.add("log", x=b.add("sigmoid", x=h))


def _pow(**attrs: float) -> Step:
    """On positive values only: a source, or sigmoid(h)."""

    def step(b: Graph, h: str) -> str:
        base = b.source((3, 3), 0.5, 1.5) if b.rng.random() < 0.5 else b.add("sigmoid", x=h)
        return b.add("pow", attrs, x=base)

    return step


def _reduction(op: str, axis: int | list[int] | None, keepdims: bool = False) -> Step:
    """Reduces h times signs drawn per entry, so a sum of nine entries stays near 1 (a sum of
    h alone, all near +1 late in the chain, would saturate the tanh that follows)."""

    def step(b: Graph, h: str) -> str:
        x = b.add("mul", a=h, b=b.source((3, 3)))
        attrs: dict = {} if axis is None else {"axis": axis}
        return b.add(op, attrs | ({"keepdims": True} if keepdims else {}), x=x)

    return step


def _matmul(b: Graph, h: str) -> str:
    """A (3, 3) matrix or a (3, 1) column on the right of h, or a matrix on its left."""
    if b.rng.random() < 0.5:
        return b.add("matmul", a=b.source((3, 3)), b=h)
    return b.add("matmul", a=h, b=b.source(b.pick([(3, 3), (3, 1)])))


def _matmul_vector(side: str) -> Step:
    """numpy promotes a vector on the left to a row and one on the right to a column."""

    def step(b: Graph, h: str) -> str:
        vec = b.source((3,))
        if side == "left":
            return b.add("matmul", a=vec, b=h)
        if side == "right":
            return b.add("matmul", a=h, b=vec)
        return b.add("matmul", a=vec, b=b.add("mean", {"axis": 0}, x=h))

    return step


def _dense(b: Graph, h: str) -> str:
    act = b.pick(["none", "tanh", "sigmoid", "relu"])
    x = h if b.rng.random() < 0.7 else b.add("mean", {"axis": 1}, x=h)  # (3, 3) or a vector
    return b.add("dense", {"units": 3, "activation": act}, x=x)


def _loss(op: str) -> Step:
    """The loss of h against a fitting target: a scalar that broadcasts back into h."""

    def step(b: Graph, h: str) -> str:
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


def _column(b: Graph, h: str) -> str:
    """One column of h: a (3, 1) that broadcasts back over it."""
    return b.add("column", {"index": int(b.rng.integers(3))}, x=h)


def _concat(b: Graph, h: str) -> str:
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


def random_scene(seed: int) -> dict:
    """A short chain (so gradients stay well above 1e-12) of the steps numbered seed mod PARTS
    plus two random ones, in seeded order; seeds 0 .. PARTS-1 together use every step.

    Each result r updates the head as h = tanh(r + w * h), w a random source in (0.3, 0.8) of
    a broadcast shape: no step can cancel h exactly (neg would in h + r) and tanh keeps it in
    (-1, 1)."""
    b = Graph(seed)
    picked = [i for i in range(len(STEPS)) if i % PARTS == seed % PARTS]
    picked += [int(i) for i in b.rng.integers(len(STEPS), size=2)]
    h = b.source((3, 3))
    for i in b.rng.permutation(picked):
        r = STEPS[i](b, h)
        h = b.add("tanh", x=b.either("add", r, b.either("mul", h, b.broadcast_source(0.3, 0.8))))
    out = b.add("sum", x=h) if b.rng.random() < 0.5 else h  # a scalar or a (3, 3) output
    return {**SCENE, "output": out, "nodes": b.nodes}


def ops_used(scenes: list[dict[str, Any]]) -> set[str]:
    return {node["op"] for scene in scenes for node in scene["nodes"]}


def import_script(path: Path) -> ModuleType:
    """An exported script, imported as a module under a name of its own."""
    spec = importlib.util.spec_from_file_location(f"exported_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
