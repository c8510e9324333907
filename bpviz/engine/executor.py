"""Forward and reverse-mode backward over a graph, whole or one node at a time.

An execution plan (topological order, input indices, functions) is built once per graph
change and reused for every pass; that is where the speed comes from.

One kernel per direction computes every pass. It is a generator that hands back each plan
node once computed: a stepwise pass (the window's "next node") shows each node as it comes.
Whole passes (a training step's) run the same calls in the same order as one plain loop,
without handing nodes back; a test holds the two to the same bits. Non-finite numbers follow
one policy: numpy float errors are trapped while the kernel runs (`trap_float_errors`),
naming the op that made them at no per-node cost, and every value or gradient handed out of
a pass is checked, since a BLAS product makes Inf without raising. Graphs of plain numbers
take a faster route through the same plan (`engine/scalar.py`) with the same results and, on
any trouble, the same errors.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np

from bpviz.engine.collector import BIG, collector_paused
from bpviz.engine.errors import (
    GraphError,
    NonFiniteError,
    ShapeError,
    run_trapped,
    trap_float_errors,
)
from bpviz.engine.graph import Graph
from bpviz.engine.ops import OpSpec
from bpviz.engine.ops.base import UNIT_GRAD
from bpviz.engine.ops.init import rng_for
from bpviz.engine.scalar import ScalarProgram, compile_scalar

_SHAPE_ERRORS = (ValueError, IndexError, TypeError, OverflowError)


BackwardStep = tuple[int, Any, tuple[int, ...], dict[str, Any], str, tuple[bool, ...] | None]
ForwardStep = tuple[int, Any, tuple[int, ...], dict[str, Any], str]


class PlanNode(NamedTuple):
    """One node of a plan: what to call, where its inputs are, and whether its gradient
    matters to training (it has a parameter at or upstream of it). A tuple: plans of a
    million nodes are made quickly."""

    index: int
    node_id: str
    spec: OpSpec
    ports: tuple[str, ...]
    input_index: tuple[int, ...]
    attrs: dict[str, Any]
    has_params: bool  # the op owns parameters (read here, not through the spec, per pass)
    trains: bool
    wants: tuple[bool, ...] | None  # per input, whether its gradient matters to training;
    # None when every input's does


@dataclass(frozen=True)
class Plan:
    version: int
    nodes: tuple[PlanNode, ...]  # topological order of every node whose inputs are connected
    index: dict[str, int]  # node id -> position in nodes
    incomplete: tuple[str, ...]  # nodes that cannot be computed (an input is missing upstream)
    output: int | None
    data: tuple[PlanNode, ...]  # the nodes whose value the scene gives (const, input, target)

    # What a whole pass's calls need, looked up once per plan. A forward pass reads these only
    # on small plans, after its first pass: a million-node load makes no second tuple per node.
    @cached_property
    def forward_steps(self) -> tuple[ForwardStep, ...]:
        """(position, forward or None for a param node, input positions, attrs, id) of every
        node a forward pass computes (not the data nodes, which are filled in), in order."""
        return tuple(
            (n.index, n.spec.forward if n.input_index else None, n.input_index, n.attrs, n.node_id)
            for n in self.nodes
            if n.input_index or n.has_params
        )

    @cached_property
    def backward_steps(self) -> tuple[tuple[BackwardStep, ...], tuple[BackwardStep, ...]]:
        """(every node's, a training pass's) (position, backward, input positions, attrs, id,
        wants) from the output back; a training pass visits only nodes whose gradient leads
        to a parameter, and asks only for the input gradients that do."""
        if self.output is None:
            return (), ()
        reach = [
            n for n in reversed(self.nodes[: self.output + 1]) if n.input_index or n.has_params
        ]
        every = tuple(
            (n.index, n.spec.backward, n.input_index, n.attrs, n.node_id, None) for n in reach
        )
        training = tuple(
            (n.index, n.spec.backward, n.input_index, n.attrs, n.node_id, n.wants)
            for n in reach
            if n.trains
        )
        return every, training


@dataclass(frozen=True)
class NodeValue:
    """A node just computed by a forward pass."""

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
class NodeGrad:
    """A node just reached by a backward pass."""

    node_id: str
    grad: np.ndarray  # dOutput/dNode, complete (every consumer has already contributed)
    contributions: tuple[Contribution, ...]
    param_grads: dict[str, np.ndarray]


def build_plan(graph: Graph) -> Plan:
    """One linear pass in topological order; per op, what every node of it shares (spec,
    ports, default attrs) is looked up once, so a million-node plan takes about a second."""
    nodes: list[PlanNode] = []
    index: dict[str, int] = {}
    incomplete: list[str] = []
    data: list[PlanNode] = []
    trains_at: list[bool] = []  # per plan position: whether that node's gradient matters
    per_op: dict[str, tuple[OpSpec, tuple[str, ...], dict[str, Any], bool, bool]] = {}
    shared: dict[tuple[bool, ...], tuple[bool, ...]] = {}  # one copy of each `wants` tuple
    graph_nodes = graph.nodes
    make = tuple.__new__
    any_trains = False  # until a node trains, no input's gradient matters to training
    unwanted: dict[int, tuple[bool, ...] | None] = {0: None}  # all-False `wants`, by length
    for node_id in graph.topological_order():
        node = graph_nodes[node_id]
        facts = per_op.get(node.op)
        if facts is None:
            spec = node.spec
            facts = (spec, spec.inputs, spec.default_attrs(), spec.has_params, spec.is_data)
            per_op[node.op] = facts
        spec, ports, defaults, has_params, is_data = facts
        inputs = node.inputs
        try:  # the usual one or two ports written out: no comprehension per node
            if len(ports) == 1:
                idx: tuple[int, ...] = (index[inputs[ports[0]]],)
            elif len(ports) == 2:
                idx = (index[inputs[ports[0]]], index[inputs[ports[1]]])
            else:
                idx = tuple([index[inputs[p]] for p in ports])
        except KeyError:
            incomplete.append(node_id)
            continue
        position = len(nodes)
        index[node_id] = position
        attrs = {**defaults, **node.attrs} if node.attrs else defaults
        if any_trains:
            wants = tuple([trains_at[j] for j in idx])
            trains = has_params or True in wants
            wanted = None if False not in wants else shared.setdefault(wants, wants)
        else:  # nothing upstream trains: no input's gradient is wanted
            trains = has_params
            wanted = unwanted.get(len(idx), False)
            if wanted is False:
                wanted = unwanted[len(idx)] = (False,) * len(idx)
        any_trains = any_trains or trains
        plan_node = make(
            PlanNode,
            (
                position,
                node_id,
                spec,
                ports,
                idx,
                attrs,
                has_params,
                trains,
                wanted,
            ),
        )
        nodes.append(plan_node)
        trains_at.append(trains)
        if is_data:
            data.append(plan_node)
    out = index.get(graph.output) if graph.output is not None else None
    return Plan(graph.version, tuple(nodes), index, tuple(incomplete), out, tuple(data))


def _all_finite(a: Any) -> bool:
    if isinstance(a, float):
        return math.isfinite(a)
    if a.dtype.kind != "f":
        return True
    return math.isfinite(a) if a.ndim == 0 else bool(np.isfinite(a).all())


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
        self._values: list[Any] = []
        self._grads: list[Any] = []
        self._all_grads = True  # the last backward pass computed every node's gradient
        self._params_checked = False
        # the float route: None until a pass ran, 1 after one (compiled on the next), then a
        # ScalarProgram or False (this plan has no float form)
        self._scalar: ScalarProgram | int | None = None
        self._scalar_ran = False  # the last forward pass ran as floats
        # bumped by every forward pass and every change of data or parameters: an unchanged
        # count (same graph version) means the values held are still the last pass's
        self.changes = 0

    # ---- set-up ---------------------------------------------------------------------------
    @property
    def plan(self) -> Plan:
        if self._plan is None or self._plan.version != self.graph.version:
            self._plan = build_plan(self.graph)
            self._sources = {}
            self._params_checked = False
            self._values = [None] * len(self._plan.nodes)
            self._grads = []
            self._scalar = None
        return self._plan

    def set_data(self, x: np.ndarray | None, y: np.ndarray | None) -> None:
        """The batch that `input` and `target` nodes produce on the next forward pass."""
        if x is self._x and y is self._y:
            return
        same_features = x is not None and self._x is not None and x.shape[1:] == self._x.shape[1:]
        self._x, self._y = x, y
        self.changes += 1
        self._sources = {}
        self._scalar = None
        if not same_features:  # parameter shapes follow the features, not the batch size
            self._params_checked = False

    def load_params(self, params: Mapping[str, Mapping[str, np.ndarray]]) -> None:
        """Use saved parameters; a shape that no longer fits raises ShapeError on next forward."""
        for node_id, arrays in params.items():
            self.params[node_id] = {k: np.array(v, dtype=np.float64) for k, v in arrays.items()}
            self._loaded.add(node_id)
        self.changes += 1
        self._params_checked = False
        self._scalar = None

    def use_params(self, params: dict[str, dict[str, np.ndarray]]) -> None:
        """Read parameters from `params` (e.g. a copy, to evaluate without side effects);
        they are checked against the graph on the next pass."""
        self.params = params
        self.changes += 1
        self._params_checked = False
        self._scalar = None

    def forget_params(self, node_id: str) -> None:
        """Drop one node's parameters (its attrs changed); drawn again on the next forward."""
        self.params.pop(node_id, None)
        self.param_grads.pop(node_id, None)
        self._loaded.discard(node_id)
        self.changes += 1
        self._params_checked = False
        self._scalar = None

    def reset_params(self, seed: int | None = None) -> None:
        """Forget every parameter; they are drawn afresh (seeded) on the next forward pass."""
        if seed is not None:
            self.seed = seed
        self.params.clear()
        self.param_grads.clear()
        self._loaded.clear()
        self.changes += 1
        self._params_checked = False
        self._scalar = None

    def _fill_data(self, plan: Plan) -> None:
        """Put the value of every const, input and target node in place (made once per plan
        or data change)."""
        values, sources = self._values, self._sources
        for node in plan.data:
            v = sources.get(node.index)
            if v is None:
                fill = node.spec.from_data
                v = fill(self._x, self._y, node.attrs) if fill is not None else None
                if v is None:
                    v = node.spec.forward((), node.attrs, {})
                sources[node.index] = v
            values[node.index] = v

    def _ensure_params(self, node: PlanNode) -> None:
        """Make sure the node's parameters exist with the shapes its inputs ask for."""
        values = self._values
        input_shapes = tuple(np.shape(values[j]) for j in node.input_index)
        try:
            shapes = node.spec.param_shapes(input_shapes, node.attrs)
        except (ValueError, OverflowError) as e:
            raise ShapeError(node.node_id, str(e)) from None
        have = self.params.get(node.node_id, {})
        if all(name in have and have[name].shape == shape for name, shape in shapes.items()):
            self._loaded.discard(node.node_id)
            return
        if node.node_id in self._loaded:
            got = {k: v.shape for k, v in have.items()}
            raise ShapeError(
                node.node_id, f"saved parameters have shapes {got}, the node needs {shapes}"
            )
        initial = node.spec.initial
        assert initial is not None, f"op '{node.spec.name}' has parameters but no initial"
        try:
            with np.errstate(all="warn", under="ignore"):  # drawing is not part of the pass
                self.params[node.node_id] = {
                    name: initial(name, shape, node.attrs, rng_for(self.seed, node.node_id, name))
                    for name, shape in shapes.items()
                }
        except (ValueError, OverflowError) as e:
            raise ShapeError(node.node_id, f"cannot create its parameters: {e}") from None

    # ---- the kernels ---------------------------------------------------------------------
    def _forward_kernel(self, plan: Plan) -> Iterator[PlanNode]:
        """Compute each node in plan order, handing it back once its value is in place. The
        first pass after a change also makes every parameter fit its node's inputs."""
        self._fill_data(plan)
        self._grads = []
        self._scalar_ran = False
        values, params = self._values, self.params
        check = not self._params_checked
        node = None
        try:
            for node in plan.nodes:
                idx = node.input_index
                if node.has_params and check:
                    self._ensure_params(node)
                if idx:
                    values[node.index] = node.spec.forward(
                        [values[j] for j in idx], node.attrs, params.get(node.node_id)
                    )
                elif node.has_params:  # a param node: its value is the array itself
                    values[node.index] = params[node.node_id]["value"]
                yield node
        except FloatingPointError as e:
            raise NonFiniteError(node.node_id, "forward", str(e)) from None
        except _SHAPE_ERRORS as e:
            raise ShapeError(node.node_id, str(e)) from None
        self._params_checked = True

    def _backward_kernel(
        self, plan: Plan, grads: list[Any], everything: bool
    ) -> Iterator[tuple[PlanNode, Any, dict[str, np.ndarray] | None]]:
        """Reverse-mode from the output, handing back (node, gradients sent to its inputs,
        its parameters' gradients) once each node's gradient is complete. Without
        `everything`, only gradients that lead to a parameter are computed."""
        values, params = self._values, self.params
        param_grads: dict[str, dict[str, np.ndarray]] = {}
        self.param_grads = param_grads
        out = plan.output
        assert out is not None
        node = None
        try:
            for node in reversed(plan.nodes[: out + 1]):
                g = grads[node.index]
                if g is None or not (everything or node.trains):
                    continue
                idx = node.input_index
                if not idx and not node.has_params:
                    yield node, (), None
                    continue
                xs = [values[j] for j in idx]
                wants = None if everything else node.wants
                if wants is None:
                    in_grads, p_grads = node.spec.backward(
                        g, xs, values[node.index], node.attrs, params.get(node.node_id)
                    )
                    pairs = zip(idx, in_grads, strict=True)
                else:
                    in_grads, p_grads = node.spec.backward(
                        g, xs, values[node.index], node.attrs, params.get(node.node_id), wants
                    )
                    pairs = [(j, c) for j, c, w in zip(idx, in_grads, wants, strict=True) if w]
                if p_grads is not None:
                    param_grads[node.node_id] = p_grads
                for j, c in pairs:
                    if c is not None:
                        prev = grads[j]
                        grads[j] = c if prev is None else prev + c
                yield node, in_grads, p_grads
        except FloatingPointError as e:
            raise NonFiniteError(node.node_id, "backward", str(e)) from None

    def _forward_pass(self, plan: Plan) -> None:
        """The forward kernel's work as one plain loop, for a whole pass: the same calls in
        the same order, so the same bits, without handing each node back."""
        self._fill_data(plan)
        self._grads = []
        self._scalar_ran = False
        values, params = self._values, self.params
        check = not self._params_checked
        node_id = ""
        if not check and len(plan.nodes) < BIG:
            self._forward_steps(plan.forward_steps)
            return
        try:
            for node in plan.nodes:
                idx = node.input_index
                if node.has_params:
                    node_id = node.node_id
                    if check:
                        self._ensure_params(node)
                    if not idx:  # a param node: its value is the array itself
                        values[node.index] = params[node_id]["value"]
                        continue
                if idx:
                    # one or two inputs written out: a comprehension costs a call per node
                    if len(idx) == 1:
                        xs = [values[idx[0]]]
                    elif len(idx) == 2:
                        xs = [values[idx[0]], values[idx[1]]]
                    else:
                        xs = [values[j] for j in idx]
                    node_id = node.node_id
                    values[node.index] = node.spec.forward(xs, node.attrs, params.get(node_id))
        except FloatingPointError as e:
            raise NonFiniteError(node_id, "forward", str(e)) from None
        except _SHAPE_ERRORS as e:
            raise ShapeError(node_id, str(e)) from None
        self._params_checked = True

    def _forward_steps(self, steps: tuple[ForwardStep, ...]) -> None:
        """A forward pass over pre-bound steps, once the parameters fit: the same calls in
        the same order as `_forward_pass`'s loop."""
        values, params = self._values, self.params
        node_id = ""
        try:
            for i, forward, idx, attrs, node_id in steps:
                if forward is None:  # a param node: its value is the array itself
                    values[i] = params[node_id]["value"]
                    continue
                if len(idx) == 1:
                    xs = [values[idx[0]]]
                elif len(idx) == 2:
                    xs = [values[idx[0]], values[idx[1]]]
                else:
                    xs = [values[j] for j in idx]
                values[i] = forward(xs, attrs, params.get(node_id))
        except FloatingPointError as e:
            raise NonFiniteError(node_id, "forward", str(e)) from None
        except _SHAPE_ERRORS as e:
            raise ShapeError(node_id, str(e)) from None

    def _backward_pass(self, plan: Plan, grads: list[Any], everything: bool) -> None:
        """The backward kernel's work as one plain loop over pre-bound steps (see
        `_forward_pass`)."""
        values, params = self._values, self.params
        param_grads: dict[str, dict[str, np.ndarray]] = {}
        self.param_grads = param_grads
        every, training = plan.backward_steps
        node_id = ""
        try:
            for i, backward, idx, attrs, node_id, wants in every if everything else training:
                g = grads[i]
                if g is None:
                    continue
                if len(idx) == 1:
                    xs = [values[idx[0]]]
                elif len(idx) == 2:
                    xs = [values[idx[0]], values[idx[1]]]
                else:
                    xs = [values[j] for j in idx]
                if wants is None:
                    in_grads, p_grads = backward(g, xs, values[i], attrs, params.get(node_id))
                    for j, c in zip(idx, in_grads, strict=True):
                        if c is not None:
                            prev = grads[j]
                            grads[j] = c if prev is None else prev + c
                else:
                    in_grads, p_grads = backward(
                        g, xs, values[i], attrs, params.get(node_id), wants
                    )
                    if len(idx) > 1:  # one input not wanted: nothing to add (a first layer)
                        for j, c, w in zip(idx, in_grads, wants, strict=True):
                            if w and c is not None:
                                prev = grads[j]
                                grads[j] = c if prev is None else prev + c
                if p_grads is not None:
                    param_grads[node_id] = p_grads
        except FloatingPointError as e:
            raise NonFiniteError(node_id, "backward", str(e)) from None

    # ---- whole passes --------------------------------------------------------------------
    def forward(self) -> np.ndarray:
        """Compute every computable node; returns the output's value."""
        plan = self.plan
        self.changes += 1
        if isinstance(self._scalar, ScalarProgram) and self._params_checked:
            result = self._scalar.forward(self)
            if result is not None:
                self._scalar_ran = True
                return result
        if len(plan.nodes) < BIG:
            run_trapped(self._forward_pass, plan)
        else:
            with trap_float_errors(), collector_paused():  # see engine.collector
                self._forward_pass(plan)
        out = plan.output
        if out is None:
            out = self._output_index(plan)  # raises, saying why
        result = self._values[out]
        if not _all_finite(result):
            # BLAS products do not raise float errors: find where the non-finite value began.
            bad = next((n for n in plan.nodes if not _all_finite(self._values[n.index])), None)
            raise NonFiniteError((bad or plan.nodes[out]).node_id, "forward")
        if self._scalar is None:  # one-off passes (loading, a probe) never pay for compiling
            self._scalar = 1
        elif self._scalar == 1:
            self._scalar = compile_scalar(plan, self._values) or False
        return result

    def backward(self, params_only: bool = False) -> None:
        """Reverse-mode pass from the output; gradients add up where a value fans out.

        `params_only` (training steps) leaves out gradients that lead to no parameter, such
        as the data's: nothing reads them unless they are shown."""
        plan = self.plan
        if self._scalar_ran:
            if isinstance(self._scalar, ScalarProgram) and self._scalar.backward(self):
                self._all_grads = True  # as floats, every gradient costs next to nothing
                return
            self._values_as_arrays()
        grads = self._seed_gradients(plan)
        self._grads = grads
        self._all_grads = not params_only
        if len(plan.nodes) < BIG:
            run_trapped(self._backward_pass, plan, grads, not params_only)
        else:
            with trap_float_errors(), collector_paused():
                self._backward_pass(plan, grads, not params_only)
        # No per-gradient scan needed: with float errors trapped, numpy raises at the op
        # that first makes an Inf or NaN from finite numbers.

    def _values_as_arrays(self) -> None:
        """After a pass as floats, the numpy kernel's own kind of values (same numbers)."""
        self._values[:] = [np.float64(v) if type(v) is float else v for v in self._values]
        self._scalar_ran = False

    def _seed_gradients(self, plan: Plan) -> list[Any]:
        """A gradient list holding dOutput/dOutput = 1 at the output (ones for a non-scalar
        output, i.e. the gradient of its sum)."""
        out = plan.output
        if out is None:
            out = self._output_index(plan)  # raises, saying why
        if self._values[out] is None:
            raise GraphError("run forward before backward")
        grads: list[Any] = [None] * len(plan.nodes)
        v = self._values[out]
        # UNIT_GRAD is ones_like of a 0-d value (a loss), made once
        scalar = getattr(v, "ndim", 0) == 0
        grads[out] = UNIT_GRAD if scalar else np.ones_like(v, dtype=np.float64)
        return grads

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
    def forward_nodes(self) -> Iterator[NodeValue]:
        """The forward pass one node at a time, checking each value as it is handed out."""
        plan = self.plan
        self.changes += 1
        values = self._values
        kernel = self._forward_kernel(plan)
        while True:
            with trap_float_errors():  # only around the kernel: the caller's code is its own
                node = next(kernel, None)
            if node is None:
                return
            v = values[node.index]
            if not _all_finite(v):
                raise NonFiniteError(node.node_id, "forward")
            inputs = tuple(
                (port, plan.nodes[j].node_id, values[j])
                for port, j in zip(node.ports, node.input_index, strict=True)
            )
            yield NodeValue(node.node_id, v, inputs)

    def backward_nodes(self) -> Iterator[NodeGrad]:
        """The backward pass one node at a time, in reverse topological order, checking each
        gradient as it is handed out."""
        plan = self.plan
        if self._scalar_ran:
            self._values_as_arrays()
        grads = self._seed_gradients(plan)
        self._grads = grads
        self._all_grads = True
        kernel = self._backward_kernel(plan, grads, True)
        while True:
            with trap_float_errors():
                item = next(kernel, None)
            if item is None:
                return
            node, in_grads, p_grads = item
            g = grads[node.index]
            if not _all_finite(g):
                raise NonFiniteError(node.node_id, "backward")
            for name, pg in (p_grads or {}).items():
                if not _all_finite(pg):
                    raise NonFiniteError(node.node_id, "backward", f"parameter {name}")
            contributions = tuple(
                Contribution(plan.nodes[j].node_id, node.node_id, port, c)
                for port, j, c in zip(node.ports, node.input_index, in_grads, strict=True)
            )
            yield NodeGrad(node.node_id, g, contributions, dict(p_grads or {}))

    # ---- results -------------------------------------------------------------------------
    def has_value(self, node_id: str) -> bool:
        i = self.plan.index.get(node_id)
        return i is not None and i < len(self._values) and self._values[i] is not None

    def held_values(self) -> dict[str, Any]:
        """Every computed node's value by id, in plan order: a whole snapshot in one call."""
        plan = self.plan  # first: a new plan starts a value list of its own length
        pairs = zip(plan.nodes, self._values, strict=True)
        return {n.node_id: v for n, v in pairs if v is not None}

    @property
    def held(self) -> list[Any]:
        """The values the last passes left, by plan position (the list itself, to read and
        not to change): the training loop's per-step reads, with no lookup by id."""
        return self._values

    def raw_value(self, node_id: str) -> np.ndarray:
        """The stored value without checks (may be a numpy scalar); for the training loop."""
        v = self._values[self.plan.index[node_id]]
        return np.float64(v) if isinstance(v, float) else v

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
        i = self.plan.index[node_id]
        if not self._all_grads and not self.plan.nodes[i].trains:
            raise GraphError(
                f"the gradient of '{node_id}' was not computed: the last backward pass was a"
                " training step's, which computes only what leads to parameters"
            )
        g = self._grads[i]
        return np.zeros_like(value, dtype=np.float64) if g is None else np.asarray(g)

    def source_override(self, node_id: str, value: np.ndarray) -> None:
        """Replace a const/input/target value until the next plan or data change (gradcheck)."""
        i = self.plan.index[node_id]
        self._sources[i] = value
        self.changes += 1
