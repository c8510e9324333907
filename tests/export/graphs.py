"""Seeded random scenes for the export tests: every op, broadcasting, params and layers."""

from __future__ import annotations

from typing import Any

import numpy as np

EXAMPLES = ("chain_rule", "neuron", "xor", "moons", "spiral", "sine", "exam", "circles_features")


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes: list[dict[str, Any]] = []

    def add(self, op: str, inputs: dict[str, str] | None = None, **attrs: Any) -> str:
        node_id = f"{op}{len(self.nodes)}"
        self.nodes.append({"id": node_id, "op": op, "inputs": inputs or {}, "attrs": attrs})
        return node_id

    def values(self, shape: tuple[int, ...], low: float = -1.5, high: float = 1.5) -> Any:
        return self.rng.uniform(low, high, shape).tolist()


def random_scene(seed: int) -> dict[str, Any]:
    """A chain of 8 random steps over (3, 3) values, from trainable params and constants.

    Each step keeps values finite (log and pow see positive inputs, exp a squashed one) and
    mixes in broadcast partners of shape (3, 3), (3, 1), (3,) and ().
    """
    b = _Builder(seed)
    rng = b.rng
    w = b.add("param", value=b.values((3, 3)))
    partners = [
        b.add("param", value=b.values((3, 1))),
        b.add("const", value=b.values((3,))),
        b.add("const", value=float(rng.uniform(0.5, 1.5))),
        b.add("const", value=b.values((3, 3))),
    ]
    positive = b.add("const", value=b.values((3, 3), 0.5, 1.5))
    prev = b.add("mul", {"a": w, "b": positive})
    for _ in range(8):
        step = str(rng.choice(STEPS))
        prev = STEP_BUILDERS[step](b, prev, str(rng.choice(partners)), positive)
    prev = _columns(b, prev, "", positive)  # after the drawn steps: their draws stay as they were
    return {
        "format": "bpviz-scene",
        "version": 1,
        "name": f"random {seed}",
        "output": prev,
        "nodes": b.nodes,
    }


def _binary(op: str):  # noqa: ANN202
    return lambda b, x, other, pos: b.add(op, {"a": x, "b": other})


def _unary(op: str, **attrs: Any):  # noqa: ANN202
    return lambda b, x, other, pos: b.add(op, {"x": x}, **attrs)


def _positive(op: str, **attrs: Any):  # noqa: ANN202
    """log and pow read exp(tanh(x)) + pos, which lies in (0.5 + 1/e, 1.5 + e)."""

    def build(b: _Builder, x: str, other: str, pos: str) -> str:
        squashed = b.add("exp", {"x": b.add("tanh", {"x": x})})
        return b.add(op, {"x": b.add("add", {"a": squashed, "b": pos})}, **attrs)

    return build


def _loss(op: str):  # noqa: ANN202
    """A loss inside the graph: its value scales the running value."""

    def build(b: _Builder, x: str, other: str, pos: str) -> str:
        if op == "cross_entropy":
            labels = b.add("const", value=[0.0, 2.0, 1.0])
            loss = b.add(op, {"pred": x, "target": labels})
        else:
            target = b.add("const", value=b.values((3, 3)))
            loss = b.add(op, {"pred": x, "target": target})
        return b.add("mul", {"a": x, "b": loss})

    return build


def _dense(activation: str):  # noqa: ANN202
    return lambda b, x, other, pos: b.add("dense", {"x": x}, units=3, activation=activation)


def _matvec(b: _Builder, x: str, other: str, pos: str) -> str:
    vec = b.add("param", value=b.values((3,)))
    return b.add("add", {"a": x, "b": b.add("matmul", {"a": x, "b": vec})})


def _reduce(op: str, axis: Any, keepdims: bool = False):  # noqa: ANN202
    """A reduction added back onto its input, so the chain keeps its (3, 3) shape."""

    def build(b: _Builder, x: str, other: str, pos: str) -> str:
        if keepdims:  # kept axes broadcast back over x whichever axis was reduced
            return b.add("mul", {"a": x, "b": b.add(op, {"x": x}, axis=axis, keepdims=True)})
        reduced = b.add(op, {"x": x}, axis=axis)
        if isinstance(axis, int) and axis % 2 == 1:
            return b.add("sub", {"a": x, "b": b.add("matmul", {"a": x, "b": reduced})})
        return b.add("add", {"a": x, "b": reduced})

    return build


def _columns(b: _Builder, x: str, other: str, pos: str) -> str:
    """x's columns in another order: column 2, then columns 0 and 1 joined."""
    cols = [b.add("column", {"x": x}, index=i) for i in (2, 0, 1)]
    return b.add("concat", {"a": cols[0], "b": b.add("concat", {"a": cols[1], "b": cols[2]})})


STEP_BUILDERS = {
    "add": _binary("add"),
    "sub": _binary("sub"),
    "mul": _binary("mul"),
    "div": lambda b, x, other, pos: b.add("div", {"a": x, "b": pos}),
    "matmul": lambda b, x, other, pos: b.add("matmul", {"a": x, "b": pos}),
    "matvec": _matvec,
    "neg": _unary("neg"),
    "exp": lambda b, x, other, pos: b.add("exp", {"x": b.add("tanh", {"x": x})}),
    "log": _positive("log"),
    "pow": _positive("pow", exponent=1.5),
    "square": _unary("pow", exponent=2.0),
    "tanh": _unary("tanh"),
    "sigmoid": _unary("sigmoid"),
    "relu": _unary("relu"),
    "leaky_relu": _unary("leaky_relu", alpha=0.2),
    "softmax": _unary("softmax"),
    "sum_all": _reduce("sum", None),
    "sum_rows": _reduce("sum", 0),
    "mean_cols": _reduce("mean", -1),
    "mean_list": _reduce("mean", [0, 1]),
    "sum_none": _reduce("sum", []),
    "sum_keep_cols": _reduce("sum", 1, keepdims=True),
    "mean_keep_all": _reduce("mean", None, keepdims=True),
    "dense_tanh": _dense("tanh"),
    "dense_relu": _dense("relu"),
    "dense_sigmoid": _dense("sigmoid"),
    "dense": _dense("none"),
    "mse": _loss("mse"),
    "bce": _loss("bce"),
    "hinge": _loss("hinge"),
    "cross_entropy": _loss("cross_entropy"),
}
STEPS = tuple(STEP_BUILDERS)


def ops_used(scenes: list[dict[str, Any]]) -> set[str]:
    return {node["op"] for scene in scenes for node in scene["nodes"]}
