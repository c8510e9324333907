"""Inside a dense layer, Qt-free: each neuron's map over the input plane, its bias and δ, each
weight's value, gradient and chain-rule term, and which units are dead or saturated.

Everything is read from what a training pass already stored (values, gradients, parameter
gradients); δ = ∂L/∂z is the stored ∂L/∂a times the activation's derivative, written in terms
of the stored output, so nothing is recomputed. The maps are one batched forward pass over the
plane's points for all layers on show (`NeuronMaps.compute`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from bpviz.engine.errors import GraphError
from bpviz.engine.graph import Graph
from bpviz.engine.ops.activations import ACTIVATIONS
from bpviz.engine.optim import ParamTree
from bpviz.engine.session import Session
from bpviz.model.plane import Plane
from bpviz.model.snapshots import Snapshot

SATURATION = 0.99  # |a| beyond this share of the activation's range counts as saturated ...
SATURATED_SHARE = 0.95  # ... on at least this share of the training points
SHOWN_TERMS = 3  # largest products written out in a chain-rule term before "…"
MAP_SIZE = 48  # cells per side of a neuron map


def fmt(v: float) -> str:
    return f"{v:.4g}"


@dataclass(frozen=True)
class Health:
    """Per unit: dead (a relu that is zero on every training point) or saturated (a tanh or
    sigmoid beyond SATURATION of its range on ≥ SATURATED_SHARE of the points)."""

    activation: str
    dead: np.ndarray
    saturated: np.ndarray

    def summary(self) -> str:
        """'3 of 16 dead' (what a collapsed layer shows); '' when every unit is fine."""
        n = len(self.dead)
        parts = [
            f"{int(flags.sum())} of {n} {word}"
            for flags, word in ((self.dead, "dead"), (self.saturated, "saturated"))
            if flags.any()
        ]
        return ", ".join(parts)

    def note(self, j: int) -> str | None:
        """Why unit j has a badge, for its tooltip."""
        if self.dead[j]:
            return (
                "dead: relu is 0 on every training point, so its gradient is 0 there and "
                "its weights no longer learn"
            )
        if self.saturated[j]:
            return (
                f"saturated: {self.activation} is beyond {SATURATION:g} of its range on "
                f"≥ {SATURATED_SHARE:.0%} of the training points, where its slope is ≈ 0"
            )
        return None


def unit_health(activation: str, out: np.ndarray) -> Health:
    """Dead and saturated units of a layer from its (N, units) output on the training set."""
    a = np.asarray(out, dtype=float).reshape(-1, np.shape(out)[-1] if np.ndim(out) else 1)
    none = np.zeros(a.shape[1], dtype=bool)
    if len(a) == 0:
        return Health(activation, none, none)
    if activation == "relu":
        return Health(activation, (a <= 0).all(axis=0), none)
    if activation == "tanh":
        edge = np.abs(a) > SATURATION
    elif activation == "sigmoid":
        edge = np.abs(2.0 * a - 1.0) > SATURATION
    else:
        return Health(activation, none, none)
    return Health(activation, none, edge.mean(axis=0) >= SATURATED_SHARE)


def pre_activation_grad(activation: str, out: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
    """δ = ∂L/∂z from ∂L/∂a and the output a (the derivative is written in terms of a)."""
    if activation == "none":
        return np.asarray(grad_out, dtype=float)
    return grad_out * ACTIVATIONS[activation][1](out)


@dataclass(frozen=True)
class ChainTerm:
    """∂L/∂W[i, j] = Σₙ aᵢ⁽ⁿ⁾ · δⱼ⁽ⁿ⁾, the products it sums, and a text with numbers."""

    value: float
    a: np.ndarray  # the input i over the batch
    delta: np.ndarray  # δ of unit j over the batch

    def text(self, a_name: str, j: int) -> str:
        """The sum with its largest products written out (the order of a sum is free)."""
        n = len(self.a)
        products = self.a * self.delta
        top = np.argsort(-np.abs(products), kind="stable")[:SHOWN_TERMS]
        shown = " + ".join(f"({fmt(self.a[k])})·({fmt(self.delta[k])})" for k in top)
        more = f" + … ({n - len(top)} more)" if n > len(top) else ""
        return f"Σₙ {a_name}·δ{j} over {n} points = {shown}{more} = {fmt(self.value)}"


@dataclass
class LayerNumbers:
    """One dense node's numbers after a pass: W (inputs × units), b, and when available the
    training pass's input values, outputs, ∂L/∂output and parameter gradients."""

    node_id: str
    source_id: str
    activation: str
    W: np.ndarray
    b: np.ndarray
    inputs: np.ndarray | None = None  # (N, inputs)
    out: np.ndarray | None = None  # (N, units)
    grad_out: np.ndarray | None = None  # ∂L/∂a, (N, units)
    dW: np.ndarray | None = None
    db: np.ndarray | None = None
    input_names: tuple[str, ...] = field(default=())

    @classmethod
    def read(
        cls,
        graph: Graph,
        node_id: str,
        params: Mapping[str, Mapping[str, np.ndarray]],
        values: Mapping[str, np.ndarray] | None = None,
        grads: Mapping[str, np.ndarray] | None = None,
        param_grads: Mapping[str, Mapping[str, np.ndarray]] | None = None,
        input_names: Sequence[str] = (),
    ) -> LayerNumbers:
        """From the dicts a training controller or executor keeps; missing parts stay None."""
        node = graph.node(node_id)
        if node.op != "dense":
            raise GraphError(f"node '{node_id}' is a {node.op}, not a dense layer")
        p = params.get(node_id)
        if not p or "W" not in p:
            raise GraphError(f"layer '{node_id}' has no weights yet (run forward first)")
        src = node.inputs.get("x", "")
        values, grads = values or {}, grads or {}
        # parameter gradients outlive a forward pass: they count only beside a fresh ∂L/∂a
        fresh = node_id in grads
        pg = ((param_grads or {}).get(node_id) or {}) if fresh else {}

        n_in, units = np.shape(p["W"])

        def rows(a: np.ndarray | None, width: int) -> np.ndarray | None:
            """A pass's (N, width) array; None when it belongs to another shape of the graph
            (the layer was rewired or resized since)."""
            if a is None:
                return None
            a = np.atleast_2d(np.asarray(a, dtype=float))
            return a if a.ndim == 2 and a.shape[1] == width else None

        names = tuple(input_names) or tuple(f"{src}[{i}]" for i in range(n_in))
        return cls(
            node_id,
            src,
            node.attrs.get("activation", "none"),
            np.asarray(p["W"]),
            np.asarray(p["b"]),
            rows(values.get(src), n_in),
            rows(values.get(node_id), units),
            rows(grads.get(node_id), units),
            pg.get("W"),
            pg.get("b"),
            names,
        )

    @classmethod
    def from_session(cls, session: Session, node_id: str, **kw: object) -> LayerNumbers:
        """After `session.forward()` (and `backward()` for gradients)."""
        ex = session.executor
        values = {n: ex.value(n) for n in session.graph.nodes if ex.has_value(n)}
        try:
            grads = {n: ex.grad(n) for n in values}
        except GraphError:  # no backward pass yet
            grads = {}
        return cls.read(session.graph, node_id, ex.params, values, grads, ex.param_grads, **kw)

    @classmethod
    def from_snapshot(
        cls, graph: Graph, node_id: str, snap: Snapshot, input_names: Sequence[str] = ()
    ) -> LayerNumbers:
        """At a step of the training history (the timeline scrubbed back): that step's
        weights, and when the snapshot is full its pass's values and gradients, with the
        layer's ∂L/∂W = xᵀδ and ∂L/∂b = Σδ written out from them (a snapshot keeps no
        parameter gradients)."""
        numbers = cls.read(graph, node_id, snap.params, snap.values, snap.grads, None, input_names)
        x, delta = numbers.inputs, numbers.delta
        if x is not None and delta is not None and len(x) == len(delta):
            numbers.dW, numbers.db = x.T @ delta, delta.sum(axis=0)
        return numbers

    @property
    def units(self) -> int:
        return int(self.W.shape[1])

    @property
    def n_in(self) -> int:
        return int(self.W.shape[0])

    @cached_property
    def delta(self) -> np.ndarray | None:
        """δ = ∂L/∂z at each training point, (N, units)."""
        if self.out is None or self.grad_out is None:
            return None
        return pre_activation_grad(self.activation, self.out, self.grad_out)

    @property
    def delta_sum(self) -> np.ndarray | None:
        """δ summed over the batch (which is ∂L/∂b)."""
        if self.db is not None:
            return np.asarray(self.db)
        return None if self.delta is None else self.delta.sum(axis=0)

    @cached_property
    def health(self) -> Health | None:
        return None if self.out is None else unit_health(self.activation, self.out)

    def chain_term(self, i: int, j: int) -> ChainTerm | None:
        if self.inputs is None or self.delta is None:
            return None
        a, d = self.inputs[:, i], self.delta[:, j]
        value = float(self.dW[i, j]) if self.dW is not None else float(a @ d)
        return ChainTerm(value, a, d)

    def weight_text(self, i: int, j: int) -> str:
        """Tooltip of weight W[i, j]: its value, gradient and chain-rule term with numbers."""
        name = self.input_names[i]
        lines = [f"{self.node_id}.W[{i},{j}]: {name} → unit {j}", f"w = {fmt(self.W[i, j])}"]
        term = self.chain_term(i, j)
        if self.dW is not None:
            lines.append(f"∂L/∂w = {fmt(self.dW[i, j])}")
        if term is not None:
            lines.append(f"chain rule: ∂L/∂w = {term.text(name, j)}")
        if self.dW is None and term is None:
            lines.append("∂L/∂w: run Backward to see it")
        return "\n".join(lines)

    def unit_text(self, j: int) -> str:
        """Tooltip of unit j: its formula, bias, δ and badge reason."""
        act = self.activation
        z = f"Σᵢ W[i,{j}]·{self.source_id}ᵢ + b{j}"
        lines = [f"{self.node_id} unit {j}: a = {z if act == 'none' else f'{act}({z})'}"]
        lines.append(f"b = {fmt(self.b[j])}")
        ds = self.delta_sum
        lines.append(
            "δ = ∂L/∂z: run Backward to see it"
            if ds is None
            else f"Σ δ over the batch = ∂L/∂b = {fmt(ds[j])}"
        )
        note = self.health.note(j) if self.health is not None else None
        if note:
            lines.append(note)
        return "\n".join(lines)


def value_bars(out: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean, min, max) of each unit over the batch: a unit's tile when there is no plane."""
    a = np.atleast_2d(np.asarray(out, dtype=float))
    return a.mean(axis=0), a.min(axis=0), a.max(axis=0)


class NeuronMaps:
    """Each unit's value over the input plane for the layers on show, one batched pass.

    One `compute` of an 8-8-8 network over 48 × 48 points costs a forward pass of 2304 rows,
    well under a millisecond of matrix work, so a view can refresh it at display rate."""

    def __init__(self, session: Session, size: int = MAP_SIZE) -> None:
        self.session = session
        self.plane = Plane.for_data(session.dataset, size)

    @property
    def kind(self) -> str:
        return self.plane.kind

    def compute(
        self, node_ids: Sequence[str], params: ParamTree | None = None
    ) -> dict[str, np.ndarray]:
        """node id -> (rows, cols, units) over the plane for 2-D data, (points, units) for
        1-D data; {} when the data has no plane."""
        if self.plane.kind == "none" or not node_ids:
            return {}
        found = self.session.predict_many(self.plane.points, node_ids, params)
        return {n: self.plane.shape_values(v) for n, v in found.items()}
