"""Training extras a learner turns on in the Training panel: L1/L2 penalties and lr schedules.

Penalties follow TensorFlow Playground: they apply to weights, not biases. A weight is every
trainable array except a dense layer's bias `b`: dense `W` and every `param` node's value (a
bpviz param is whatever the person drew, so it counts as a weight). The penalty is part of the
loss the trainer reports, and its gradient joins the data gradient in the update:

    loss = data loss + l1 · Σ|w| + l2 · ½ Σ w²        ∂/∂w = l1 · sign(w) + l2 · w

(sign(0) = 0, as PyTorch differentiates |w| at 0). Schedules scale the learning rate by a
factor of the number of steps already taken, k (0 for the first step):

    step:    factor ** (k // every)                    (PyTorch's StepLR)
    cosine:  ½ (1 + cos(π · min(k, steps) / steps))    (CosineAnnealingLR to 0, then 0)
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from bpviz.engine.graph import Graph

ParamTree = dict[str, dict[str, np.ndarray]]
SCHEDULES: dict[str, tuple[str, ...]] = {"step": ("every", "factor"), "cosine": ("steps",)}
NOT_WEIGHTS: dict[str, frozenset[str]] = {"dense": frozenset({"b"})}  # op -> bias names
MAX_STEPS = 2**31


def is_weight(op: str, name: str) -> bool:
    """Whether the penalties reach parameter `name` of an `op` node."""
    return name not in NOT_WEIGHTS.get(op, frozenset())


def weights(graph: Graph, params: ParamTree) -> Iterator[tuple[str, str, np.ndarray]]:
    """(node id, parameter name, array) of every penalised array the executor holds."""
    nodes = graph.nodes
    for node_id, named in params.items():
        node = nodes.get(node_id)
        if node is None:
            continue
        for name, a in named.items():
            if is_weight(node.op, name):
                yield node_id, name, a


def penalty(graph: Graph, params: ParamTree, l1: float, l2: float) -> float:
    """l1 · Σ|w| + l2 · ½ Σ w² over the weights; 0.0 when both rates are 0."""
    if not (l1 or l2):
        return 0.0
    total = 0.0
    for _, _, w in weights(graph, params):
        if l1:
            total += l1 * float(np.abs(w).sum())
        if l2:
            total += l2 * 0.5 * float((w * w).sum())
    return total


def with_penalty_grads(
    graph: Graph, params: ParamTree, grads: ParamTree, l1: float, l2: float
) -> ParamTree:
    """`grads` plus the penalty's gradient, as new arrays (the shown gradients stay the data
    loss's). A weight the loss does not reach still gets the penalty's pull."""
    if not (l1 or l2):
        return grads
    out: ParamTree = {nid: dict(named) for nid, named in grads.items()}
    for node_id, name, w in weights(graph, params):
        extra = l1 * np.sign(w) + l2 * w if l1 else l2 * w
        g = out.setdefault(node_id, {}).get(name)
        out[node_id][name] = extra if g is None else g + extra
    return out


def lr_factor(schedule: Mapping[str, Any] | None, k: int) -> float:
    """The schedule's factor for the step taken after `k` steps (k = 0: the first)."""
    if not schedule:
        return 1.0
    if schedule["kind"] == "step":
        return schedule["factor"] ** (k // schedule["every"])
    n = schedule["steps"]
    return 0.5 * (1.0 + math.cos(math.pi * min(k, n) / n))


def _show(value: Any) -> str:
    """A value for a message, cut short (a 400-digit integer helps nobody)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def schedule_problem(schedule: Any, where: str = "training.schedule") -> str | None:
    """Why `schedule` is not a valid schedule (a message naming the key), or None."""
    if schedule is None:
        return None
    shapes = '{"kind": "step", "every": N, "factor": F} or {"kind": "cosine", "steps": N}'
    if not isinstance(schedule, Mapping):
        return f"{where}: expected null, {shapes}, got {_show(schedule)}"
    kind = schedule.get("kind")
    if kind not in SCHEDULES:
        got = "missing" if kind is None else f"got {_show(kind)}"
        return f"{where}.kind: expected 'step' or 'cosine', {got}"
    allowed = ("kind", *SCHEDULES[kind])
    for key in schedule:
        if key not in allowed:
            return f"{where}.{key}: unknown key for kind {kind!r} (allowed: {', '.join(allowed)})"
    for key in SCHEDULES[kind]:
        value = schedule.get(key)
        if key == "factor":
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not ok or not 0 < value <= 1:  # (0, 1] is finite; a huge int compares fine
                return f"{where}.factor: expected a number in (0, 1], got {_show(value)}"
        elif isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < MAX_STEPS:
            return f"{where}.{key}: expected an integer >= 1, got {_show(value)}"
    return None
