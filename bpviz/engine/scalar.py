"""A fast route for graphs of plain numbers (micrograd-style expressions, single neurons).

numpy spends about a microsecond per call on a 0-d array, more than the arithmetic; for a
graph whose every value is one float64, the plan is compiled once into two straight-line
Python functions over floats (forward, and backward in reverse plan order) and those run
instead. Every operation is written to give the very bits numpy gives: the same IEEE
operations in the same order, and numpy's own ufuncs where Python's `math` rounds
differently (exp, log, tanh, power). Fan-out gradients add up in the plan's order, as in
the kernel.

Anything unusual — a non-finite number anywhere, a division by zero, a float error — makes
the pass return None, and the executor repeats it with its numpy kernel, which reports the
error by its one policy. So this route changes speed, never results or messages.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from bpviz.engine.errors import trap_float_errors
from bpviz.engine.ops import REGISTRY

# the specs these float forms were written for; a replaced spec (another backward, a test's
# planted bug) runs on the kernel, which calls whatever the spec holds
_WRITTEN_FOR = dict(REGISTRY)
MAX_NODES = 5_000  # beyond, compiling (about 0.1 ms a node) costs more than it saves

_FAILURES = (FloatingPointError, ZeroDivisionError, OverflowError, ValueError, TypeError)


def _ufunc(f: np.ufunc) -> Callable[..., float]:
    def call(*xs: float) -> float:
        return float(f(*xs))

    return call


_RUNTIME: dict[str, Any] = {
    "_exp": _ufunc(np.exp),
    "_log": _ufunc(np.log),
    "_log1p": _ufunc(np.log1p),
    "_tanh": _ufunc(np.tanh),
    "_pow": _ufunc(np.power),
}

# forward: op -> expression over inputs a, b (or x; pred p, target t), attrs as {name}
_FORWARD: dict[str, str] = {
    "add": "{a} + {b}",
    "sub": "{a} - {b}",
    "mul": "{a} * {b}",
    "div": "{a} / {b}",
    "neg": "-{x}",
    "exp": "_exp({x})",
    "log": "_log({x})",
    "pow": "_pow({x}, {exponent!r})",
    "tanh": "_tanh({x})",
    # numpy's stable sigmoid: e = exp(-|x|); 1/(1+e) for x >= 0, else e/(1+e)
    "sigmoid": "(1.0 / (1.0 + _e) if {x} >= 0 else _e / (1.0 + _e))",
    "relu": "({x} if {x} > 0 else 0.0)",
    "leaky_relu": "({x} if {x} > 0 else {alpha!r} * {x})",
    "sum": "{x} + 0.0",  # a reduction starts from +0.0: -0.0 sums to 0.0
    "mean": "({x} + 0.0) / 1.0",
    "mse": "(({p} - {t}) * ({p} - {t}) + 0.0) / 1.0",
    "bce": "(({p} if {p} > 0 else 0.0) - {p} * {t} + _log1p(_exp(-abs({p}))) + 0.0) / 1.0",
    "hinge": "((_m if _m > 0 else 0.0) + 0.0) / 1.0",
}
# what some forwards compute first, into a temporary
_PRELUDE: dict[str, str] = {
    "sigmoid": "_e = _exp(-abs({x}))",
    "hinge": "_m = 1.0 - {t} * {p}",
}
# backward: op -> the gradient each input receives, from g (upstream) and y (the output)
_BACKWARD: dict[str, tuple[str, ...]] = {
    "add": ("{g}", "{g}"),
    "sub": ("{g}", "-{g}"),
    "mul": ("{g} * {b}", "{g} * {a}"),
    "div": ("{g} / {b}", "-{g} * {y} / {b}"),
    "neg": ("{g} * -1.0",),
    "exp": ("{g} * {y}",),
    "log": ("{g} * (1.0 / {x})",),
    "pow": ("{g} * ({exponent!r} * _pow({x}, {exponent!r} - 1.0))",),
    "tanh": ("{g} * (1.0 - {y} * {y})",),
    "sigmoid": ("{g} * ({y} * (1.0 - {y}))",),
    "relu": ("{g} * (1.0 if {x} > 0 else 0.0)",),
    "leaky_relu": ("{g} * (1.0 if {x} > 0 else {alpha!r})",),
    "sum": ("{g} * 1.0",),
    "mean": ("{g} * 1.0",),
    "mse": ("{g} * (2.0 * ({p} - {t}) / 1.0)", "{g} * (-2.0 * ({p} - {t}) / 1.0)"),
    "bce": ("{g} * ((_sig({p}) - {t}) / 1.0)", "{g} * (-{p} / 1.0)"),
    # numpy: scale = (t*p < 1) * (-1/n), a bool times -1.0: -1.0 or -0.0
    "hinge": (
        "{g} * ((-1.0 if {t} * {p} < 1.0 else -0.0) * {t})",
        "{g} * ((-1.0 if {t} * {p} < 1.0 else -0.0) * {p})",
    ),
}


def _sig(x: float) -> float:
    e = _RUNTIME["_exp"](-abs(x))
    return 1.0 / (1.0 + e) if x >= 0 else e / (1.0 + e)


_RUNTIME["_sig"] = _sig


class ScalarProgram:
    """The compiled forward and backward of one plan over floats."""

    def __init__(self, plan: Any, forward: Callable, backward: Callable) -> None:
        self.plan = plan
        self._forward = forward
        self._backward = backward
        self.data = [n.index for n in plan.data]
        self.param_nodes = [(n.index, n.node_id) for n in plan.nodes if n.spec.has_params]

    def forward(self, ex: Any) -> Any:
        """Every value, as floats in `ex._values` (parameter nodes keep their arrays);
        the output's value, or None to have the numpy kernel run the pass instead."""
        sources, params = ex._sources, ex.params
        try:
            inputs = [float(sources[i]) for i in self.data]
            inputs += [float(params[nid]["value"]) for _, nid in self.param_nodes]
            with trap_float_errors():
                values = self._forward(*inputs)
        except (*_FAILURES, KeyError):
            return None
        if not math.isfinite(sum(values)):
            return None  # a NaN or Inf somewhere: the kernel names where it began
        for i, nid in self.param_nodes:
            values[i] = params[nid]["value"]
        ex._values[:] = values
        ex._grads = []
        return np.float64(values[self.plan.output])

    def backward(self, ex: Any) -> bool:
        """Every gradient (reached nodes; None elsewhere) and the parameters' gradients;
        False to have the numpy kernel run the pass instead."""
        values = [v if type(v) is float else float(v) for v in ex._values]
        try:
            with trap_float_errors():
                grads = self._backward(*values)
        except _FAILURES:
            return False
        if not math.isfinite(sum(g for g in grads if g is not None)):
            return False
        ex._grads = grads
        ex.param_grads = {
            nid: {"value": np.float64(grads[i])}
            for i, nid in self.param_nodes
            if grads[i] is not None
        }
        return True


def compile_scalar(plan: Any, values: list[Any]) -> ScalarProgram | None:
    """The program for `plan`, or None unless every value (just computed by the kernel) is
    one float64 and every op has a float form."""
    if plan.output is None or len(plan.nodes) > MAX_NODES:
        return None
    for node in plan.nodes:
        v = values[node.index]
        if not (
            isinstance(v, (np.ndarray, np.generic)) and v.shape == () and v.dtype == np.float64
        ):
            return None
        op = node.spec.name
        if not (node.spec.is_data or op == "param" or op in _FORWARD):
            return None
        if node.spec is not _WRITTEN_FOR.get(op):
            return None
        if op in ("sum", "mean") and node.attrs.get("axis") is not None:
            return None
    fwd, bwd = _source(plan)
    namespace = dict(_RUNTIME)
    exec(compile(fwd + "\n" + bwd, "<bpviz scalar plan>", "exec"), namespace)  # noqa: S102
    return ScalarProgram(plan, namespace["forward"], namespace["backward"])


def _names(node: Any, var: Callable[[int], str]) -> dict[str, Any]:
    """Format fields for one node: its inputs by port name, its attrs."""
    fields = dict(node.attrs)
    for port, j in zip(node.ports, node.input_index, strict=True):
        fields[{"pred": "p", "target": "t"}.get(port, port)] = var(j)
    return fields


def _source(plan: Any) -> tuple[str, str]:
    """Python source of forward(*inputs) -> values and backward(*values) -> gradients."""

    def v(i: int) -> str:
        return f"v{i}"

    def g(i: int) -> str:
        return f"g{i}"

    n = len(plan.nodes)
    data = [node.index for node in plan.nodes if node.spec.is_data]
    params = [node.index for node in plan.nodes if node.spec.has_params]
    args = ", ".join(v(i) for i in data + params)
    lines = [f"def forward({args}):"]
    for node in plan.nodes:
        op = node.spec.name
        if node.spec.is_data or op == "param":
            continue
        fields = _names(node, v)
        if op in _PRELUDE:
            lines.append("    " + _PRELUDE[op].format(**fields))
        lines.append(f"    {v(node.index)} = " + _FORWARD[op].format(**fields))
    lines.append(f"    return [{', '.join(v(i) for i in range(n))}]")
    forward = "\n".join(lines)

    out = plan.output
    lines = [f"def backward({', '.join(v(i) for i in range(n))}):", f"    {g(out)} = 1.0"]
    reached = {out}
    for node in reversed(plan.nodes[: out + 1]):
        if node.index not in reached or not node.input_index:
            continue
        fields = _names(node, v)
        fields.update(g=g(node.index), y=v(node.index))
        rules = _BACKWARD[node.spec.name]
        if node.spec.name == "pow" and fields["exponent"] == 0:
            rules = ("{g} * 0.0",)  # x^0 is constant: slope 0, even at x = 0
        for j, expr in zip(node.input_index, rules, strict=True):
            c = expr.format(**fields)
            if j in reached:
                lines.append(f"    {g(j)} = {g(j)} + {c}")
            else:
                lines.append(f"    {g(j)} = {c}")
                reached.add(j)
    lines.append(f"    return [{', '.join(g(i) if i in reached else 'None' for i in range(n))}]")
    return forward, "\n".join(lines)
