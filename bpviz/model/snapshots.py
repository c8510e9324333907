"""Training history the timeline can scrub back through: kept copies of every node's value and
gradient, each wire's gradient and the learned parameters, within a memory budget.

Two kinds of snapshot are kept. A *light* one holds only the parameters (a copy of each array:
cheap, so one can be taken at every optimizer step). A *full* one also holds the values,
gradients and wire gradients the overlays show. `record` makes a full snapshot whenever the
controller's numbers are fresh (its last pass was a complete forward and backward pass after
the last update, e.g. just after `refresh()`); when they are not and the newest full snapshot is
`full_every` or more steps old, the store computes them itself on a private executor over the
training set, so a full snapshot exists at least every `full_every` steps (`full_every=None`:
never; `materialize` computes a light snapshot's numbers when it is shown). The controller is
never touched: its values, parameters and signals stay exactly as they were.

Memory is bounded by thinning: when the kept arrays exceed the budget, every other snapshot in
the older half is dropped (never the first nor the newest). Repeated thinning leaves recent
steps dense and older ones progressively sparser, so a run of any length fits the budget.
"""

from __future__ import annotations

import bisect
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from psygnal import Signal

from bpviz.engine.errors import BpvizError
from bpviz.engine.executor import Executor

Edge = tuple[str, str, str]
Arrays = dict[str, np.ndarray]
DEFAULT_BUDGET = 64 * 1024 * 1024
DEFAULT_FULL_EVERY = 50


@dataclass
class Snapshot:
    """The numbers at one optimizer step: `params` after that step's update, and (when full)
    the values, gradients and wire gradients of a pass over the training set with them.

    `loss` is the loss the training history reports for that step: the whole training set's
    with these same parameters (engine.training.LOSS_MEANING), or None when not known. A full
    snapshot's loss node therefore shows exactly this number."""

    step: int
    params: dict[str, Arrays]
    loss: float | None = None
    values: Arrays = field(default_factory=dict)
    grads: Arrays = field(default_factory=dict)
    contributions: dict[Edge, np.ndarray] = field(default_factory=dict)
    full: bool = False

    @property
    def nbytes(self) -> int:
        """The memory the snapshot really holds: each array object with its numbers (a
        scalar graph's 0-d arrays are mostly object), the dicts and the wires' key tuples.
        Node ids are the graph's own strings and not counted."""
        size = sys.getsizeof(self.params) + sum(_dict_bytes(p) for p in self.params.values())
        return size + sum(_dict_bytes(d) for d in (self.values, self.grads, self.contributions))


def _dict_bytes(arrays: dict[Any, np.ndarray]) -> int:
    size = sys.getsizeof(arrays)
    for key, a in arrays.items():
        # an array owning its numbers counts them in getsizeof; a view's live in its base
        size += sys.getsizeof(a) + (a.nbytes if a.base is not None else 0)
        if isinstance(key, tuple):
            size += sys.getsizeof(key)
    return size


def _copy_params(params: dict[str, dict[str, np.ndarray]]) -> dict[str, Arrays]:
    # copies: the optimizer updates these arrays in place
    return {nid: {k: np.array(a) for k, a in arrays.items()} for nid, arrays in params.items()}


class SnapshotStore:
    """Snapshots by step within `budget_bytes`; see the module docstring for what is kept."""

    changed = Signal()  # a snapshot was added, completed or dropped, or all were cleared

    def __init__(
        self, budget_bytes: int = DEFAULT_BUDGET, full_every: int | None = DEFAULT_FULL_EVERY
    ) -> None:
        self.budget = int(budget_bytes)
        self.full_every = None if full_every is None else max(1, int(full_every))
        self._steps: list[int] = []
        self._snaps: dict[int, Snapshot] = {}
        self._nbytes = 0
        self._last_full: int | None = None
        self.recorded = 0  # record calls since the last clear (kept or not)
        self._controller: Any = None  # the attached one: to complete light snapshots

    # ---- reading -------------------------------------------------------------------------
    def steps(self) -> list[int]:
        """Kept step numbers, oldest first."""
        return list(self._steps)

    def __len__(self) -> int:
        return len(self._steps)

    @property
    def nbytes(self) -> int:
        return self._nbytes

    def get(self, step: int) -> Snapshot | None:
        """The kept snapshot at `step`, or the nearest kept one before it; None if none."""
        i = bisect.bisect_right(self._steps, step)
        return self._snaps[self._steps[i - 1]] if i else None

    def latest(self) -> Snapshot | None:
        """The newest snapshot: the state training resumes from (the controller's own)."""
        return self._snaps[self._steps[-1]] if self._steps else None

    def materialize(self, snap: Snapshot, controller: Any = None) -> Snapshot:
        """`snap` itself when full; otherwise a full copy whose values and gradients are
        computed from its parameters (not stored: the budget holds). `controller` defaults to
        the attached one; without one, or when the graph no longer fits, `snap` as it is."""
        controller = controller if controller is not None else self._controller
        if snap.full or controller is None:
            return snap
        copy = Snapshot(snap.step, snap.params, snap.loss)
        self._fill_by_computing(copy, controller)
        return copy if copy.full else snap

    @property
    def latest_step(self) -> int | None:
        return self._steps[-1] if self._steps else None

    # ---- writing -------------------------------------------------------------------------
    def clear(self) -> None:
        self._steps.clear()
        self._snaps.clear()
        self._nbytes = 0
        self._last_full = None
        self.recorded = 0
        self._notify()

    def record(
        self, step: int, controller: Any, loss: float | None = None, fresh: bool | None = None
    ) -> Snapshot:
        """Keep the controller's current parameters as those of `step` (call it right after
        that step's update), plus its values and gradients when `fresh` (see the module
        docstring). `fresh=None` trusts `controller.grads_fresh`, right after `refresh()`;
        pass False from a `trained` handler: the controller's shown numbers are from before
        the step. A step at or before the newest kept one
        replaces the snapshots from there on."""
        params = _copy_params(controller.session.executor.params)
        snap = Snapshot(step, params, loss)
        if self._fresh(controller) if fresh is None else fresh:
            self._fill_from_controller(snap, controller)
        elif self.full_every is not None and (
            self._last_full is None or step - self._last_full >= self.full_every
        ):
            self._fill_by_computing(snap, controller)
        self._drop_from(step)
        self._steps.append(step)
        self._snaps[step] = snap
        self._nbytes += snap.nbytes
        if snap.full:
            self._last_full = step
        self.recorded += 1
        self._thin()
        self._notify()
        return snap

    def complete_latest(self, controller: Any) -> bool:
        """Add the controller's fresh values and gradients to the newest snapshot, when they
        belong to it (no update since); call it on `values_changed`, e.g. after `refresh()`
        in Run mode (a complete pass always runs on the current parameters)."""
        snap = self.latest()
        if snap is None or snap.full or not self._fresh(controller):
            return False
        if controller.session.trainer.step_count != snap.step:
            return False
        self._nbytes -= snap.nbytes
        self._fill_from_controller(snap, controller)
        self._nbytes += snap.nbytes
        self._last_full = snap.step
        self._thin()
        self._notify()
        return True

    def attach(self, controller: Any) -> Callable[[], None]:
        """Keep recording `controller`'s training: a snapshot after each update whose
        parameters are still current (in Run mode, the last step of each slice: a slice
        announces only that one), the values and gradients added after each
        refresh, and everything forgotten when the history is reset. Returns a detach call."""

        def on_trained(result: Any) -> None:
            if result.step == controller.session.trainer.step_count:
                self.record(result.step, controller, result.loss, fresh=False)

        def on_values() -> None:
            self.complete_latest(controller)

        self._controller = controller
        controller.trained.connect(on_trained)
        controller.values_changed.connect(on_values)
        controller.history_reset.connect(self.clear)

        def detach() -> None:
            controller.trained.disconnect(on_trained)
            controller.values_changed.disconnect(on_values)
            controller.history_reset.disconnect(self.clear)
            if self._controller is controller:
                self._controller = None

        return detach

    # ---- inside --------------------------------------------------------------------------
    def _notify(self) -> None:
        self.changed.emit()

    @staticmethod
    def _fresh(controller: Any) -> bool:
        return bool(getattr(controller, "grads_fresh", False)) and bool(controller.values)

    @staticmethod
    def _fill_from_controller(snap: Snapshot, controller: Any) -> None:
        snap.values = {n: np.array(v) for n, v in controller.values.items()}
        snap.grads = {n: np.array(g) for n, g in controller.grads.items()}
        snap.contributions = {e: np.array(c) for e, c in controller.contributions.items()}
        snap.full = True

    @staticmethod
    def _fill_by_computing(snap: Snapshot, controller: Any) -> None:
        """A pass over the training set on a private executor with the snapshot's own
        parameter copies, as `controller.refresh()` would compute, without touching it."""
        session = getattr(controller, "session", None)
        live = getattr(session, "executor", None)
        if live is None or not hasattr(live, "graph"):
            return
        ex = Executor(live.graph, seed=live.seed)
        ex.use_params(_copy_params(snap.params))
        dataset = getattr(session, "network_data", None)
        if dataset is not None:
            ex.set_data(dataset.x_train, dataset.y_train)
        values: Arrays = {}
        grads: Arrays = {}
        contributions: dict[Edge, np.ndarray] = {}
        try:
            for fs in ex.forward_nodes():
                values[fs.node_id] = np.array(fs.value)
            if live.graph.output is not None:
                for bs in ex.backward_nodes():
                    grads[bs.node_id] = np.array(bs.grad)
                    for c in bs.contributions:
                        contributions[(c.src, c.dst, c.port)] = np.array(c.grad)
        except BpvizError:
            return  # e.g. non-finite numbers: a light snapshot is still worth keeping
        snap.values, snap.grads, snap.contributions, snap.full = values, grads, contributions, True

    def _drop_from(self, step: int) -> None:
        i = bisect.bisect_left(self._steps, step)
        for s in self._steps[i:]:
            self._nbytes -= self._snaps.pop(s).nbytes
        del self._steps[i:]
        if self._last_full is not None and self._last_full >= step:
            fulls = [s for s in self._steps if self._snaps[s].full]
            self._last_full = fulls[-1] if fulls else None

    def _thin(self) -> None:
        """Drop every other snapshot among the older half until within budget; the first and
        the newest stay, so the timeline always spans the whole run."""
        while self._nbytes > self.budget and len(self._steps) > 2:
            n = len(self._steps)
            older = self._steps[1 : max(2, n // 2 + 1)]  # never index 0, never the newest
            doomed = older[1::2] if len(older) > 1 else older
            if not doomed:
                break
            for s in doomed:
                self._nbytes -= self._snaps.pop(s).nbytes
            gone = set(doomed)
            self._steps = [s for s in self._steps if s not in gone]
