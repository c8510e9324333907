"""Forward and reverse-mode backward over a graph, whole or one node at a time.

An execution plan (topological order, input indices, functions) is built once per graph
change and reused for every pass; that is where the speed comes from.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from bpviz.engine.errors import GraphError, NonFiniteError, ShapeError, trap_float_errors
from bpviz.engine.graph import Graph
from bpviz.engine.ops import OpSpec
from bpviz.engine.ops.data import encode_target
from bpviz.engine.ops.init import initialise, rng_for
from bpviz.engine.ops.layers import default_init

SOURCE_OPS = frozenset({"const", "input", "target", "param"})


@dataclass(frozen=True)
class Step:
    """One node of a plan: what to call and where its inputs are."""

    index: int
    node_id: str
    spec: OpSpec
    ports: tuple[str, ...]
    input_index: tuple[int, ...]
    attrs: dict[str, Any]


@dataclass(frozen=True)
class Plan:
    version: int
    steps: tuple[Step, ...]  # topological order of every node whose inputs are all connected
    index: dict[str, int]  # node id -> position in steps
    incomplete: tuple[str, ...]  # nodes that cannot be computed (an input is missing upstream)
    output: int | None


@dataclass(frozen=True)
class ForwardStep:
    node_id: str
    value: np.ndarray
    inputs: tuple[tuple[str, str, np.ndarray], ...]  # (port, source id, value) per incoming edge


@dataclass(frozen=True)
class Contribution:
    """The gradient one edge carries backward: upstream gradient times the local derivative."""

    src: str
    dst: str
    port: str
    grad: np.ndarray


@dataclass(frozen=True)
class BackwardStep:
    node_id: str
    grad: np.ndarray  # dOutput/dNode, complete (every consumer has already contributed)
    contributions: tuple[Contribution, ...]
    param_grads: dict[str, np.ndarray]


def build_plan(graph: Graph) -> Plan:
    steps: list[Step] = []
    index: dict[str, int] = {}
    incomplete: list[str] = []
    for node_id in graph.topological_order():
        node = graph.nodes[node_id]
        spec = node.spec
        ports = spec.inputs
        if any(p not in node.inputs or node.inputs[p] not in index for p in ports):
            incomplete.append(node_id)
            continue
        index[node_id] = len(steps)
        attrs = {**spec.default_attrs(), **node.attrs}
        steps.append(
            Step(
                len(steps), node_id, spec, ports, tuple(index[node.inputs[p]] for p in ports), attrs
            )
        )
    out = index.get(graph.output) if graph.output is not None else None
    return Plan(graph.version, tuple(steps), index, tuple(incomplete), out)


def _all_finite(a: np.ndarray) -> bool:
    if a.dtype.kind != "f":
        return True
    return math.isfinite(a) if a.ndim == 0 else bool(np.isfinite(a).all())


def _first_nonfinite(values: list[np.ndarray | None], order: Iterator[int]) -> int | None:
    for i in order:
        v = values[i]
        if v is not None and v.dtype.kind == "f" and not np.isfinite(v).all():
            return i
    return None


class Executor:
    """Holds a graph's parameters, data, values and gradients, and runs passes over it."""

    def __init__(self, graph: Graph, seed: int = 0) -> None:
        self.graph = graph
        self.seed = seed
        self.params: dict[str, dict[str, np.ndarray]] = {}
        self.param_grads: dict[str, dict[str, np.ndarray]] = {}
        self._loaded: set[str] = set()  # params from a file, checked against shapes once
        self._x: np.ndarray | None = None
        self._y: np.ndarray | None = None
        self._plan: Plan | None = None
        self._sources: dict[int, np.ndarray] = {}
        self._values: list[np.ndarray | None] = []
        self._grads: list[np.ndarray | None] = []
        self._params_checked = False

    # ---- set-up ---------------------------------------------------------------------------
    @property
    def plan(self) -> Plan:
        if self._plan is None or self._plan.version != self.graph.version:
            self._plan = build_plan(self.graph)
            self._sources = {}
            self._params_checked = False
            self._values = [None] * len(self._plan.steps)
            self._grads = []
        return self._plan

    def set_data(self, x: np.ndarray | None, y: np.ndarray | None) -> None:
        """The batch that `input` and `target` nodes produce on the next forward pass."""
        if x is self._x and y is self._y:
            return
        same_features = x is not None and self._x is not None and x.shape[1:] == self._x.shape[1:]
        self._x, self._y = x, y
        self._sources = {}
        if not same_features:  # parameter shapes follow the features, not the batch size
            self._params_checked = False

    def load_params(self, params: Mapping[str, Mapping[str, np.ndarray]]) -> None:
        """Use saved parameters; a shape that no longer fits raises ShapeError on next forward."""
        for node_id, arrays in params.items():
            self.params[node_id] = {k: np.array(v, dtype=np.float64) for k, v in arrays.items()}
            self._loaded.add(node_id)
        self._params_checked = False

    def use_params(self, params: dict[str, dict[str, np.ndarray]]) -> None:
        """Read parameters from `params` (e.g. a copy, to evaluate without side effects);
        they are checked against the graph on the next pass."""
        self.params = params
        self._params_checked = False

    def forget_params(self, node_id: str) -> None:
        """Drop one node's parameters (its attrs changed); drawn again on the next forward."""
        self.params.pop(node_id, None)
        self.param_grads.pop(node_id, None)
        self._loaded.discard(node_id)
        self._params_checked = False

    def reset_params(self, seed: int | None = None) -> None:
        """Forget every parameter; they are drawn afresh (seeded) on the next forward pass."""
        if seed is not None:
            self.seed = seed
        self.params.clear()
        self.param_grads.clear()
        self._loaded.clear()
        self._params_checked = False

    def _source_value(self, step: Step) -> np.ndarray:
        op = step.spec.name
        if op == "input" and self._x is not None:
            return np.asarray(self._x, dtype=np.float64)
        if op == "target" and self._y is not None:
            return encode_target(np.asarray(self._y), step.attrs.get("encoding", "column"))
        return step.spec.forward((), step.attrs, {})

    def _prepare(self, plan: Plan) -> None:
        """Fill source values and make sure every param exists with the shape its node needs."""
        values = self._values
        for step in plan.steps:
            if step.spec.name in ("const", "input", "target"):
                if step.index not in self._sources:
                    self._sources[step.index] = self._source_value(step)
                values[step.index] = self._sources[step.index]
        if self._params_checked:
            return
        for step in plan.steps:
            if step.spec.param_shapes is None:
                continue
            if step.input_index and any(values[j] is None for j in step.input_index):
                self._run_node(step)  # not yet: param shapes depend on upstream values
            self._ensure_params(step, tuple(values[j].shape for j in step.input_index))
            if not step.input_index:
                values[step.index] = self.params[step.node_id]["value"]
        self._params_checked = True

    def _run_node(self, step: Step) -> None:
        for j in step.input_index:
            if self._values[j] is None:
                self._run_node(self.plan.steps[j])
        s = self.plan.steps[step.index]
        if s.spec.param_shapes is not None:
            self._ensure_params(s, tuple(self._values[j].shape for j in s.input_index))
        if s.index not in self._sources:
            self._values[s.index] = self._call_forward(s)

    def _ensure_params(self, step: Step, input_shapes: tuple[tuple[int, ...], ...]) -> None:
        try:
            shapes = step.spec.param_shapes(input_shapes, step.attrs)
        except (ValueError, OverflowError) as e:
            raise ShapeError(step.node_id, str(e)) from None
        have = self.params.get(step.node_id, {})
        if all(name in have and have[name].shape == shape for name, shape in shapes.items()):
            self._loaded.discard(step.node_id)
            return
        if step.node_id in self._loaded:
            got = {k: v.shape for k, v in have.items()}
            raise ShapeError(
                step.node_id, f"saved parameters have shapes {got}, the node needs {shapes}"
            )
        try:
            self.params[step.node_id] = {
                name: self._initial(step, name, shape) for name, shape in shapes.items()
            }
        except (ValueError, OverflowError) as e:
            raise ShapeError(step.node_id, f"cannot create its parameters: {e}") from None

    def _initial(self, step: Step, name: str, shape: tuple[int, ...]) -> np.ndarray:
        attrs = step.attrs
        if step.spec.name == "param" and attrs.get("value") is not None:
            return np.array(attrs["value"], dtype=np.float64)
        if step.spec.name == "dense" and name == "b":
            return np.zeros(shape)
        init = attrs.get("init") or (default_init(attrs) if step.spec.name == "dense" else "normal")
        return initialise(init, shape, rng_for(self.seed, step.node_id, name))

    def _call_forward(self, step: Step) -> np.ndarray:
        values = self._values
        try:
            with trap_float_errors():
                out = step.spec.forward(
                    [values[j] for j in step.input_index],
                    step.attrs,
                    self.params.get(step.node_id, {}),
                )
        except FloatingPointError as e:
            raise NonFiniteError(step.node_id, "forward", str(e)) from None
        except (ValueError, IndexError, TypeError, OverflowError) as e:
            raise ShapeError(step.node_id, str(e)) from None
        return np.asarray(out)

    # ---- whole passes --------------------------------------------------------------------
    def forward(self) -> np.ndarray:
        """Compute every computable node; returns the output's value."""
        plan = self.plan
        self._prepare(plan)
        values = self._values
        params = self.params
        self._grads = []
        step = None
        try:
            with trap_float_errors():
                for step in plan.steps:
                    if step.input_index:
                        values[step.index] = step.spec.forward(
                            [values[j] for j in step.input_index],
                            step.attrs,
                            params.get(step.node_id),
                        )
                    elif step.spec.param_shapes is not None:
                        values[step.index] = params[step.node_id]["value"]
        except FloatingPointError as e:
            raise NonFiniteError(step.node_id, "forward", str(e)) from None
        except (ValueError, IndexError, TypeError, OverflowError) as e:
            raise ShapeError(step.node_id, str(e)) from None
        out = self._output_index(plan)
        result = values[out]
        if not _all_finite(result):
            # BLAS products do not raise float errors: find where the non-finite value began.
            bad = _first_nonfinite(values, iter(range(len(values))))
            raise NonFiniteError(plan.steps[out if bad is None else bad].node_id, "forward")
        return result

    def backward(self) -> None:
        """Reverse-mode pass from the output; gradients add up where a value fans out."""
        plan = self.plan
        out, grads = self._seed_gradients(plan)
        values = self._values
        param_grads: dict[str, dict[str, np.ndarray]] = {}
        params = self.params
        step = None
        try:
            with trap_float_errors():
                for step in reversed(plan.steps[: out + 1]):
                    g = grads[step.index]
                    if g is None:
                        continue
                    idx = step.input_index
                    if not idx and step.spec.param_shapes is None:
                        continue
                    in_grads, p_grads = step.spec.backward(
                        g,
                        [values[j] for j in idx],
                        values[step.index],
                        step.attrs,
                        params.get(step.node_id),
                    )
                    if p_grads is not None:
                        param_grads[step.node_id] = p_grads
                    for j, c in zip(idx, in_grads, strict=True):
                        prev = grads[j]
                        grads[j] = c if prev is None else prev + c
        except FloatingPointError as e:
            raise NonFiniteError(step.node_id, "backward", str(e)) from None
        # No per-gradient scan needed: with float errors trapped, numpy (matmul included)
        # raises at the op that first makes an Inf or NaN from finite numbers.
        self._grads = grads
        self.param_grads = param_grads

    def _seed_gradients(self, plan: Plan) -> tuple[int, list[np.ndarray | None]]:
        """The output's index and a gradient list holding dOutput/dOutput = 1 (ones for a
        non-scalar output, i.e. the gradient of its sum)."""
        out = self._output_index(plan)
        if self._values[out] is None:
            raise GraphError("run forward before backward")
        grads: list[np.ndarray | None] = [None] * len(plan.steps)
        grads[out] = np.ones_like(self._values[out], dtype=np.float64)
        return out, grads

    def _output_index(self, plan: Plan) -> int:
        if self.graph.output is None:
            raise GraphError("the graph has no output node")
        if plan.output is None:
            missing = [f"'{n}.{p}'" for n in plan.incomplete for p in self.graph.missing_inputs(n)]
            raise GraphError(
                f"output '{self.graph.output}' cannot be computed: unconnected input "
                + (", ".join(missing) or "upstream")
            )
        return plan.output

    # ---- one node at a time --------------------------------------------------------------
    def forward_steps(self) -> Iterator[ForwardStep]:
        """The forward pass one node at a time, checking each value as it is made."""
        plan = self.plan
        self._prepare(plan)
        self._grads = []
        values = self._values
        for step in plan.steps:
            if step.input_index or step.spec.param_shapes is not None:
                values[step.index] = (
                    self._call_forward(step)
                    if step.input_index
                    else self.params[step.node_id]["value"]
                )
            v = values[step.index]
            if v.dtype.kind == "f" and not np.isfinite(v).all():
                raise NonFiniteError(step.node_id, "forward")
            inputs = tuple(
                (port, plan.steps[j].node_id, values[j])
                for port, j in zip(step.ports, step.input_index, strict=True)
            )
            yield ForwardStep(step.node_id, v, inputs)

    def backward_steps(self) -> Iterator[BackwardStep]:
        """The backward pass one node at a time, in reverse topological order."""
        plan = self.plan
        out, grads = self._seed_gradients(plan)
        values = self._values
        self._grads = grads
        self.param_grads = {}
        for step in reversed(plan.steps[: out + 1]):
            g = grads[step.index]
            if g is None:
                continue
            if not np.isfinite(g).all():
                raise NonFiniteError(step.node_id, "backward")
            contributions: list[Contribution] = []
            p_grads = None
            if step.input_index or step.spec.param_shapes is not None:
                try:
                    with trap_float_errors():
                        in_grads, p_grads = step.spec.backward(
                            g,
                            [values[j] for j in step.input_index],
                            values[step.index],
                            step.attrs,
                            self.params.get(step.node_id),
                        )
                except FloatingPointError as e:
                    raise NonFiniteError(step.node_id, "backward", str(e)) from None
                for port, j, c in zip(step.ports, step.input_index, in_grads, strict=True):
                    prev = grads[j]
                    grads[j] = c if prev is None else prev + c
                    contributions.append(Contribution(plan.steps[j].node_id, step.node_id, port, c))
                if p_grads is not None:
                    self.param_grads[step.node_id] = p_grads
                    for name, pg in p_grads.items():
                        if not np.isfinite(pg).all():
                            raise NonFiniteError(step.node_id, "backward", f"parameter {name}")
            yield BackwardStep(step.node_id, g, tuple(contributions), dict(p_grads or {}))

    # ---- results -------------------------------------------------------------------------
    def has_value(self, node_id: str) -> bool:
        i = self.plan.index.get(node_id)
        return i is not None and i < len(self._values) and self._values[i] is not None

    def raw_value(self, node_id: str) -> np.ndarray:
        """The stored value without checks (may be a numpy scalar); for the training loop."""
        return self._values[self.plan.index[node_id]]

    def value(self, node_id: str) -> np.ndarray:
        self.graph.node(node_id)
        i = self.plan.index.get(node_id)
        if i is None or self._values[i] is None:
            raise GraphError(
                f"node '{node_id}' has no value yet (run forward; are its inputs connected?)"
            )
        return np.asarray(self._values[i])

    def grad(self, node_id: str) -> np.ndarray:
        """dOutput/dNode; zeros for a node the output does not depend on."""
        value = self.value(node_id)
        if not self._grads:
            raise GraphError("no gradients yet (run backward)")
        g = self._grads[self.plan.index[node_id]]
        return np.zeros_like(value, dtype=np.float64) if g is None else np.asarray(g)

    def source_override(self, node_id: str, value: np.ndarray) -> None:
        """Replace a const/input/target value until the next plan or data change (gradcheck)."""
        i = self.plan.index[node_id]
        self._sources[i] = value
