"""What the window's training controls do, without Qt: whole passes, one node at a time,
optimizer steps, and the numbers the overlays show.

Training state is not part of the document or of undo. The controller keeps a snapshot of
every node's value and gradient and of the gradient each wire carries, and says through
signals when they change, so overlays and plots redraw without asking the engine themselves.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

import numpy as np
from psygnal import Signal

from bpviz.engine.errors import BpvizError, GraphError
from bpviz.engine.executor import NodeGrad, NodeValue
from bpviz.engine.session import Session
from bpviz.engine.training import StepResult
from bpviz.model.settings import Effect, training_effect

Edge = tuple[str, str, str]


class Phase(StrEnum):
    """Where the controller's numbers stand; equal to its plain string ("forward_done")."""

    IDLE = "idle"  # nothing shown
    FORWARD = "forward"  # a forward pass under way, node by node
    FORWARD_DONE = "forward_done"
    BACKWARD = "backward"
    BACKWARD_DONE = "backward_done"  # values and gradients fresh
    UPDATED = "updated"  # the optimizer moved the parameters: what is shown is older
    STALE = "stale"  # the graph changed under the numbers
    ERROR = "error"


VANISHING, EXPLODING = 1e-6, 1e3


class TrainingController:
    """Drives a Session built on the document's own graph, so edits are seen at once."""

    phase_changed = Signal()  # read .phase, .next_node, .grads_fresh
    node_stepped = Signal(object)  # the NodeValue or NodeGrad just taken
    values_changed = Signal()
    # the StepResult of the newest step, once per call that trained: a slice of Run mode says
    # only its last (every step is in `history`), so listeners cost nothing per step
    trained = Signal(object)
    history_reset = Signal()
    failed = Signal(str, str)  # node id ("" when none), message
    restarted = Signal(str)  # a settings edit reset the learned state: why, for the status bar

    def __init__(self, document: Any, base_dir: str | os.PathLike | None = None) -> None:
        self.document = document
        self.data_error: str | None = None
        if base_dir is not None and getattr(document, "base_dir", None) is None:
            document.base_dir = os.fspath(base_dir)  # where the data panel's CSV paths start
        try:
            self.session = Session(document.graph, document.data, document.training, base_dir)
        except BpvizError as e:  # e.g. a CSV file that moved: still let the graph be stepped
            self.data_error = str(e)
            self.session = Session(document.graph, None, document.training, base_dir)
        if document.state:
            # the scene validated it; a later edit may have made it stale
            with contextlib.suppress(BpvizError, KeyError, TypeError, ValueError):
                self.session.load_state_dict(document.state)
        self.phase = Phase.IDLE
        self.next_node: str | None = None
        self.error_node: str | None = None
        self.values: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.contributions: dict[Edge, np.ndarray] = {}
        self._steps: Iterator[NodeValue | NodeGrad] | None = None
        self._order: list[str] = []
        self._loss: float | None = None
        self._graph_version = document.graph.version
        self._training = document.training
        self._params_edited = False  # weights set by hand: worth saving before any step
        self.check_passes = 0  # forward passes the last gradient check took
        # (graph version, executor change count, whether a step measured it) just after the
        # last pass over the training set: a step's measuring pass or this controller's own
        self._held_at: tuple[int, int, bool] | None = None
        document.changed.connect(self._on_document_changed)
        document.attr_changed.connect(self._on_attr_changed)
        document.node_removed.connect(self.session.executor.forget_params)
        document.params_set.connect(self._on_params_set)
        document.slots_set.connect(self._on_slots_set)
        for signal, slot in self._settings_slots():
            signal.connect(slot)
        document.learned_state_provider = self.state_dict

    def close(self) -> None:
        self.document.changed.disconnect(self._on_document_changed)
        self.document.attr_changed.disconnect(self._on_attr_changed)
        self.document.node_removed.disconnect(self.session.executor.forget_params)
        self.document.params_set.disconnect(self._on_params_set)
        self.document.slots_set.disconnect(self._on_slots_set)
        for signal, slot in self._settings_slots():
            signal.disconnect(slot)
        if self.document.learned_state_provider == self.state_dict:
            self.document.learned_state_provider = None

    def _settings_slots(self) -> list[tuple[Any, Any]]:
        d = self.document
        return [
            (d.data_changed, self._on_data_changed),
            (d.training_changed, self._on_training_changed),
            (d.state_restored, self._on_state_restored),
        ]

    # ---- state ---------------------------------------------------------------------------
    @property
    def grads_fresh(self) -> bool:
        return self.phase == Phase.BACKWARD_DONE

    @property
    def history(self):  # noqa: ANN201 - engine History
        return self.session.history

    def _set_phase(self, phase: Phase, next_node: str | None = None) -> None:
        self.phase, self.next_node = phase, next_node
        if phase != Phase.ERROR:
            self.error_node = None
        self.phase_changed.emit()

    def _fail(self, error: BpvizError) -> None:
        self._steps = None
        self.error_node = getattr(error, "node_id", None)
        self._set_phase(Phase.ERROR)
        self.failed.emit(self.error_node or "", str(error))

    def _on_document_changed(self) -> None:
        version = self.document.graph.version
        if version == self._graph_version:
            return  # a node moved or the state block was replaced: the numbers still hold
        self._graph_version = version
        self._steps = None
        if self.phase not in (Phase.IDLE, Phase.STALE):
            self._set_phase(Phase.STALE)

    def _on_attr_changed(self, node_id: str, name: str, value: object) -> None:
        if node_id in self.document.nodes and self.document.node(node_id).spec.has_params:
            # new value, shape or init: the node's parameters are drawn again from its attrs
            self.session.executor.forget_params(node_id)

    def _on_data_changed(self, data: dict[str, Any] | None) -> None:
        """Other data (or transforms): the weights describe something else; start afresh."""
        try:
            self.session.set_data(data)
            self.data_error = None
        except BpvizError as e:  # the document checked it; a CSV may have gone since
            self.data_error = str(e)
            self.session.set_data(None)
        self._restart("Data changed: training starts afresh")

    def _on_training_changed(self, training: dict[str, Any] | None) -> None:
        """Settings apply from the next step; a new seed restarts training from its weights."""
        effect = training_effect(self._training, training)
        self._training = training
        self.session.set_training(training, reset=effect is Effect.RESET)
        if effect is Effect.RESET:
            self._restart("Seed changed: training starts afresh")

    def _on_state_restored(self, state: dict[str, Any] | None) -> None:
        """Undo of a restarting edit: carry on from the weights learned before it."""
        if state:
            with contextlib.suppress(BpvizError, KeyError, TypeError, ValueError):
                self.session.load_state_dict(state)
                self._params_edited = bool(state.get("params"))  # saved again as it was
        self._steps = None
        self.values, self.grads, self.contributions = {}, {}, {}
        self._set_phase("idle")
        self.values_changed.emit()

    def _restart(self, reason: str) -> None:
        self._params_edited = False
        self._steps = None
        self.values, self.grads, self.contributions = {}, {}, {}
        self._set_phase("idle")
        self.history_reset.emit()
        self.values_changed.emit()
        self.restarted.emit(reason)

    def _on_params_set(self, node_id: str, arrays: dict[str, np.ndarray]) -> None:
        """Use a layer's arrays as set on the document (in place where the shape fits, so
        the optimizer's slots stay paired with them); the shown numbers are then stale."""
        held = self.session.executor.params.setdefault(node_id, {})
        for name, a in arrays.items():
            if name in held and held[name].shape == a.shape:
                held[name][...] = a
            else:
                held[name] = np.array(a)
        self.session.executor.use_params(self.session.executor.params)  # shapes checked again
        self._params_edited = True

    def _on_slots_set(self, slots: dict[str, dict[str, dict[str, np.ndarray]] | None]) -> None:
        """Optimizer state handed over by an edit (see `Document.set_optimizer_slots`)."""
        held = self.session.trainer.optimizer.slots
        for node_id, arrays in slots.items():
            if arrays is None:
                held.pop(node_id, None)
            else:
                held[node_id] = {n: {k: a.copy() for k, a in s.items()} for n, s in arrays.items()}

    # ---- reading the numbers -------------------------------------------------------------
    def value(self, node_id: str) -> np.ndarray | None:
        return self.values.get(node_id)

    def grad(self, node_id: str) -> np.ndarray | None:
        return self.grads.get(node_id)

    def edge_grad(self, edge: Edge) -> np.ndarray | None:
        return self.contributions.get(edge)

    def gradient_flag(self, node_id: str) -> str | None:
        """'vanishing' or 'exploding' for a node whose fresh gradient is suspicious."""
        g = self.grads.get(node_id)
        if g is None or not self.grads_fresh or g.size == 0:
            return None
        if self.document.node(node_id).spec.is_data:
            return None  # data is not trained: a small gradient there is no vanishing problem
        size = float(np.max(np.abs(g)))
        if size < VANISHING:
            return "vanishing"
        return "exploding" if size > EXPLODING else None

    def chain_term(self, edge: Edge) -> str | None:
        """The chain-rule product an edge carries, numbers filled in, for a wire's tooltip."""
        src, dst, port = edge
        c, up = self.contributions.get(edge), self.grads.get(dst)
        if c is None or up is None:
            return None
        head = f"∂L/∂{src} via {dst}.{port} = ∂L/∂{dst} × ∂{dst}/∂{src}"
        if c.size == 1 and up.size == 1:
            u, cv = float(up.reshape(-1)[0]), float(c.reshape(-1)[0])
            local = f"{cv / u:.4g}" if u != 0 else "?"
            return f"{head}\n= {u:.4g} × {local} = {cv:.4g}"
        return f"{head}\nupstream {_describe(up)}; carried {_describe(c)}"

    # ---- whole passes --------------------------------------------------------------------
    def _mark_held(self, ok: bool = True, by_step: bool = False) -> None:
        """Note that the executor holds a pass over the training set with the current
        parameters (`ok`; `by_step`: a step's measuring pass), or may not."""
        ex = self.session.executor
        self._held_at = (self.document.graph.version, ex.changes, by_step) if ok else None

    def _holds_training_pass(self, by_step: bool = False) -> bool:
        """Whether nothing ran on the executor or changed its data, parameters or graph since
        the last pass over the training set (`by_step`: since the last step measured it): it
        then holds the values a forward pass would compute again."""
        held, ex = self._held_at, self.session.executor
        if held is None or held[:2] != (self.document.graph.version, ex.changes):
            return False
        return held[2] or not by_step

    def forward(self) -> bool:
        try:
            self._steps = None
            if self._holds_training_pass():  # e.g. the overlays' refresh after a Run slice
                out = self.session.executor.value(self.document.graph.output)
            else:
                out = self.session.forward()
                self._mark_held()
            self._loss = float(np.sum(out))
        except BpvizError as e:
            self._snapshot_values()
            self._fail(e)
            return False
        self._snapshot_values()
        self.grads, self.contributions = {}, {}
        self._set_phase(Phase.FORWARD_DONE)
        self.values_changed.emit()
        return True

    def backward(self) -> bool:
        if self.phase != Phase.FORWARD_DONE and not self.forward():
            return False
        try:
            for step in self.session.executor.backward_nodes():
                self._record_backward(step)
        except BpvizError as e:
            self._fail(e)
            return False
        self._set_phase(Phase.BACKWARD_DONE)
        self.values_changed.emit()
        return True

    def update(self) -> StepResult | None:
        if self.phase != Phase.BACKWARD_DONE and not self.backward():
            return None
        try:
            result = self.session.trainer.apply_update(self._loss, self.session.accuracy())
        except BpvizError as e:
            self._mark_held(False)
            self._fail(e)
            return None
        self._mark_held(by_step=True)
        self._set_phase(Phase.UPDATED)
        self.trained.emit(result)
        return result

    def step(self) -> StepResult | None:
        """Forward, backward and update: one optimizer step, shown in full."""
        if self.phase != Phase.BACKWARD_DONE and not self.backward():
            return None
        return self.update()

    def run_for(self, seconds: float, max_steps: int = 1_000_000) -> list[StepResult]:
        """Optimizer steps for about `seconds` (one slice of Run mode); stops at an error."""
        results: list[StepResult] = []
        trainer = self.session.trainer
        deadline = time.perf_counter() + seconds
        # a full-batch step reuses the previous step's measuring pass as its forward pass
        # (and its loss) while the executor still holds it: always within a slice, and across
        # slices when only the overlays' refresh (which reuses it too) or nothing ran between
        continuing = self._holds_training_pass(by_step=True)
        try:
            while len(results) < max_steps:
                results.append(trainer.step(continuing=continuing))
                continuing = True
                if time.perf_counter() >= deadline:
                    break
        except BpvizError as e:
            self._mark_held(False)
            self._fail(e)
        else:
            if results:
                self._mark_held(by_step=True)
        if results and self.phase not in (Phase.ERROR, Phase.UPDATED):
            # before announcing: listeners must see stale values (said once, not every slice)
            self._set_phase(Phase.UPDATED)
        if results:
            self.trained.emit(results[-1])
        return results

    def refresh(self) -> bool:
        """Recompute what the overlays show (values, gradients, wires) for the current
        parameters on the whole training set, e.g. after a slice of Run mode."""
        return self.backward() if self.forward() else False

    def reset(self, seed: int | None = None) -> None:
        """New initial parameters (seeded), optimizer and history; nothing shown."""
        self.session.trainer.reset(seed)
        self._params_edited = False
        self._steps = None
        self.values, self.grads, self.contributions = {}, {}, {}
        self._set_phase(Phase.IDLE)
        self.history_reset.emit()
        self.values_changed.emit()

    def check_gradients(self) -> dict[str, bool]:
        """Node id -> whether its analytic gradient agrees with finite differences."""
        results = self.session.gradcheck()
        # central differences: two forward passes per number, where one backward pass did
        self.check_passes = 2 * sum(r.entries for r in results)
        agree: dict[str, bool] = {}
        for r in results:
            agree[r.node_id] = agree.get(r.node_id, True) and r.ok
        self.refresh()
        return agree

    def state_dict(self) -> dict[str, Any] | None:
        """Learned parameters and optimizer state for saving; None until the optimizer has
        taken a step or a weight was set by hand (freshly drawn weights are reproducible from
        the seed: no need to save)."""
        if not self.session.executor.params:
            return None
        if self.session.trainer.step_count == 0 and not self._params_edited:
            return None
        with contextlib.suppress(BpvizError):
            # an edit may have changed a layer's shape: a pass redraws just the misfits,
            # so no saved array has a shape the graph would refuse when loading
            self.session.forward()
        # deleted nodes' arrays were forgotten on removal, and the optimizer leaves out slots
        # that no longer fit, so every saved array belongs to the graph as it is now
        return self.session.state_dict()

    def reset_pass(self) -> None:
        """Forget a pass under way, so the next `next_step` starts a fresh forward pass."""
        self._steps = None
        if self.phase in (Phase.FORWARD, Phase.FORWARD_DONE, Phase.BACKWARD, Phase.BACKWARD_DONE):
            self._set_phase(Phase.IDLE)

    # ---- one node at a time --------------------------------------------------------------
    def next_step(self) -> NodeValue | NodeGrad | None:
        """Advance the forward or the backward pass by one node, starting a pass if none is
        under way: backward after a finished forward pass, otherwise a new forward pass."""
        try:
            if self._steps is None:
                if self.phase == Phase.FORWARD_DONE:
                    self._begin_backward()
                else:
                    self._begin_forward()
            step = next(self._steps, None)
        except BpvizError as e:
            self._fail(e)
            return None
        backward = self.phase == Phase.BACKWARD
        if step is None:  # nothing to compute (no output, or nothing reaches it)
            self._steps = None
            self._set_phase(Phase.BACKWARD_DONE if backward else Phase.FORWARD_DONE)
            return None
        if backward:
            self._record_backward(step)
        else:
            self.values[step.node_id] = np.array(step.value)  # a copy, as in _snapshot_values
        i = self._order.index(step.node_id)
        if i + 1 < len(self._order):
            self._set_phase(self.phase, self._order[i + 1])
        else:  # that was the pass's last node
            self._steps = None
            if backward:
                self._set_phase(Phase.BACKWARD_DONE)
            else:
                out = self.document.graph.output
                self._loss = float(np.sum(self.values[out])) if out in self.values else None
                self._set_phase(Phase.FORWARD_DONE, out)
        self.node_stepped.emit(step)
        self.values_changed.emit()
        return step

    def _begin_forward(self) -> None:
        s = self.session
        if s.network_data is not None:
            s.executor.set_data(s.network_data.x_train, s.network_data.y_train)
        self.values, self.grads, self.contributions = {}, {}, {}
        self._order = [st.node_id for st in s.executor.plan.nodes]
        self._steps = s.executor.forward_nodes()
        self._set_phase(Phase.FORWARD, self._order[0] if self._order else None)

    def _begin_backward(self) -> None:
        graph = self.document.graph
        if graph.output is None:
            raise GraphError("the graph has no output node to differentiate")
        needed = graph.ancestors(graph.output) | {graph.output}
        order = [st.node_id for st in self.session.executor.plan.nodes]
        self._order = [n for n in reversed(order) if n in needed]
        self.grads, self.contributions = {}, {}
        self._steps = self.session.executor.backward_nodes()
        self._set_phase(Phase.BACKWARD, self._order[0] if self._order else None)

    # ---- snapshots -----------------------------------------------------------------------
    def _snapshot_values(self) -> None:
        held = self.session.executor.held_values()
        # copies: a param node's value is the parameter array the optimizer updates in place
        self.values = {n: np.array(v) for n, v in held.items()}

    def _record_backward(self, step: NodeGrad) -> None:
        self.grads[step.node_id] = np.asarray(step.grad)
        for c in step.contributions:
            self.contributions[(c.src, c.dst, c.port)] = np.asarray(c.grad)


def _describe(a: np.ndarray) -> str:
    a = np.asarray(a)
    if a.size == 1:
        return f"{float(a.reshape(-1)[0]):.4g}"
    with np.errstate(over="ignore", invalid="ignore"):  # diverging values: the norm is inf
        norm = float(np.linalg.norm(a))
    return f"shape {a.shape}, norm {norm:.3g}" if math.isfinite(norm) else f"shape {a.shape}"
