"""The loss over a plane through parameter space: two scalar entries varied on a grid around
their current values, every other parameter held where it is.

The grid is evaluated on a scratch executor holding a copy of the parameters, so the session
(its parameters, cached values and gradients, optimizer) is never touched, and it is evaluated
in slices (`compute_some`) so a UI can spread the work over timer ticks. The optimizer's path
through the same plane is recorded point by point (`record`), one point per call.
"""

from __future__ import annotations

import contextlib
import math
import re
import time
from dataclasses import dataclass

import numpy as np

from bpviz.engine.errors import BpvizError, NonFiniteError
from bpviz.engine.executor import Executor
from bpviz.engine.session import Session

GRID = 41  # points per side
MIN_SPAN = 1.0  # the grid reaches at least this far either side of the current value
SPAN_FACTOR = 2.0  # ... and otherwise 2·|value|, so the origin is inside the grid
PATH_MARGIN = 1.1  # the grid grows to hold the recorded path, with 10 % to spare ...
PATH_REACH = 4.0  # ... but never beyond 4 × the span above (a diverged run stays readable)
MAX_PATH = 10_000  # path points kept; beyond this every other one is dropped
LIST_LIMIT = 64  # entries per array that scalar_params lists (all stay addressable by label)

Arrays = dict[str, dict[str, np.ndarray]]
_LABEL = re.compile(r"^(?P<node>[^\[]+?)(?:\.(?P<name>[A-Za-z_]\w*))?(?:\[(?P<idx>[\d,\s]*)\])?$")


@dataclass(frozen=True)
class ParamRef:
    """One scalar entry of one parameter array: node, array name ("value", "W", "b"), index."""

    node_id: str
    name: str = "value"
    index: tuple[int, ...] = ()

    @property
    def label(self) -> str:
        """`w1` for a scalar param node, `p1[0,1]` for an array one, `h1.W[0,1]` for a layer."""
        head = self.node_id if self.name == "value" else f"{self.node_id}.{self.name}"
        return head + (f"[{','.join(map(str, self.index))}]" if self.index else "")

    @classmethod
    def parse(cls, label: str) -> ParamRef:
        """The inverse of `label` (node ids may contain dots: the last `.Name` is the array)."""
        m = _LABEL.match(label.strip())
        if not m:
            raise ValueError(f"not a parameter entry: {label!r}")
        idx = m["idx"]
        index = tuple(int(s) for s in idx.split(",") if s.strip()) if idx else ()
        return cls(m["node"], m["name"] or "value", index)

    def get(self, params: Arrays) -> float:
        return float(params[self.node_id][self.name][self.index])

    def exists_in(self, params: Arrays) -> bool:
        arr = params.get(self.node_id, {}).get(self.name)
        if arr is None or len(self.index) != arr.ndim:
            return False
        return all(0 <= i < n for i, n in zip(self.index, arr.shape, strict=True))


def _copy(params: Arrays) -> Arrays:
    return {
        nid: {k: np.array(v, dtype=np.float64) for k, v in a.items()} for nid, a in params.items()
    }


def scratch_executor(session: Session) -> Executor:
    """An executor on the session's graph with a copy of its parameters and the training set
    as data; parameters the session has not drawn yet are drawn exactly as it would (same
    seed), so nothing here changes the session."""
    src = session.executor
    ex = Executor(session.graph, seed=src.seed)
    ex.use_params(_copy(src.params))
    if session.network_data is not None:
        ex.set_data(session.network_data.x_train, session.network_data.y_train)
    return ex


def current_params(session: Session) -> Arrays:
    """The session's parameters, complete: drawn on a scratch executor where missing (a copy)."""
    params = session.executor.params
    needed = [n.id for n in session.graph if n.spec.param_shapes is not None]
    if all(nid in params for nid in needed):
        return params
    ex = scratch_executor(session)
    with contextlib.suppress(BpvizError):  # whatever was drawn before an error is there
        ex.forward()
    return ex.params


def scalar_params(session: Session, limit: int | None = LIST_LIMIT) -> list[ParamRef]:
    """Scalar entries of every parameter array, in graph order, for a chooser. At most `limit`
    entries per array (the first ones, row by row); any other entry is addressable by
    `ParamRef.parse(label)`."""
    params = current_params(session)
    refs: list[ParamRef] = []
    for nid in session.graph.nodes:
        for name, arr in params.get(nid, {}).items():
            for k, index in enumerate(np.ndindex(*arr.shape)):
                if limit is not None and k >= limit:
                    break
                refs.append(ParamRef(nid, name, tuple(int(i) for i in index)))
    return refs


def loss_of(executor: Executor) -> float:
    """The output summed to a number, as the training controller reads it; NaN if not finite."""
    try:
        value = float(np.sum(executor.forward()))
    except NonFiniteError:
        return math.nan
    return value if math.isfinite(value) else math.nan


class Landscape:
    """The loss on an n×n grid around two parameter entries, computed in slices.

    `values[i, j]` is the loss at `(xs[i], ys[j])` (first index along `a`, pyqtgraph's
    default image order), NaN where not computed yet or not finite."""

    def __init__(self) -> None:
        self.a: ParamRef | None = None
        self.b: ParamRef | None = None
        self.xs = np.empty(0)
        self.ys = np.empty(0)
        self.values = np.empty((0, 0))
        self.centre: tuple[float, float] | None = None
        self.path: list[tuple[float, float]] = []
        self.error: str | None = None
        self.graph_version: int | None = None
        self._ex: Executor | None = None
        self._next = 0

    # ---- the grid ------------------------------------------------------------------------
    def start(
        self,
        session: Session,
        a: ParamRef,
        b: ParamRef,
        n: int = GRID,
        span: float | tuple[float, float] | None = None,
    ) -> None:
        """Begin a new grid around the current values of `a` and `b`. `span` (per axis or both)
        is how far the grid reaches either side; by default max(MIN_SPAN, SPAN_FACTOR·|value|),
        grown to hold the recorded path. Raises ValueError for an unusable choice."""
        if a == b:
            raise ValueError("choose two different parameters")
        if n < 2:
            raise ValueError("the grid needs at least 2 points per side")
        ex = scratch_executor(session)
        ex.use_params(_copy(current_params(session)))
        for ref in (a, b):
            if not ref.exists_in(ex.params):
                raise ValueError(f"no parameter entry {ref.label}")
        if (a, b) != (self.a, self.b):
            self.path = []
        self.a, self.b = a, b
        va, vb = a.get(ex.params), b.get(ex.params)
        self.centre = (va, vb)
        if not self.path or self.path[-1] != self.centre:
            self.path.append(self.centre)
        if span is None:
            sa, sb = self._default_span(va, 0), self._default_span(vb, 1)
        elif isinstance(span, tuple):
            sa, sb = (float(s) for s in span)
        else:
            sa = sb = float(span)
        self.xs = np.linspace(va - sa, va + sa, n)
        self.ys = np.linspace(vb - sb, vb + sb, n)
        self.values = np.full((n, n), np.nan)
        self.error = None
        self.graph_version = session.graph.version
        self._ex = ex
        self._next = 0

    def _default_span(self, v: float, axis: int) -> float:
        base = max(MIN_SPAN, SPAN_FACTOR * abs(v))
        reach = max((abs(p[axis] - v) for p in self.path if math.isfinite(p[axis])), default=0.0)
        return max(base, min(reach * PATH_MARGIN, PATH_REACH * base))

    @property
    def started(self) -> bool:
        return self.values.size > 0

    @property
    def done(self) -> bool:
        return self.started and self._ex is None

    @property
    def progress(self) -> float:
        """Share of grid points computed, 0..1 (1 also after an error stopped the grid)."""
        if not self.started:
            return 0.0
        return 1.0 if self._ex is None else self._next / self.values.size

    def compute_some(self, max_seconds: float) -> bool:
        """Compute grid points for about `max_seconds` (at least one); True when finished."""
        ex = self._ex
        if ex is None:
            return True
        n = len(self.ys)
        pa = ex.params[self.a.node_id][self.a.name]
        pb = ex.params[self.b.node_id][self.b.name]
        deadline = time.perf_counter() + max_seconds
        total = self.values.size
        while self._next < total:
            i, j = divmod(self._next, n)
            pa[self.a.index] = self.xs[i]
            pb[self.b.index] = self.ys[j]
            try:
                self.values[i, j] = loss_of(ex)
            except BpvizError as e:  # the graph cannot be computed at all: no point going on
                self.error = str(e)
                self._ex = None
                return True
            self._next += 1
            if time.perf_counter() >= deadline:
                break
        if self._next >= total:
            self._ex = None
            return True
        return False

    def compute_all(self) -> None:
        while not self.compute_some(1.0):
            pass

    # ---- the optimizer's path ------------------------------------------------------------
    def point(self, session: Session) -> tuple[float, float] | None:
        """The session's current values of `a` and `b` (None if either is missing)."""
        if self.a is None or self.b is None:
            return None
        params = session.executor.params
        if not (self.a.exists_in(params) and self.b.exists_in(params)):
            return None
        return self.a.get(params), self.b.get(params)

    def record(self, session: Session) -> None:
        """Append the current point to the path (after a training step); repeats are skipped,
        so a run slice that emits many steps at once adds one point."""
        p = self.point(session)
        if p is None or (self.path and self.path[-1] == p):
            return
        self.path.append(p)
        if len(self.path) > MAX_PATH:
            self.path = self.path[:-1:2] + [self.path[-1]]

    def clear_path(self, session: Session | None = None) -> None:
        """Forget the path (training was reset); start it again at the session's point."""
        self.path = []
        if session is not None:
            self.record(session)


def resolve(session: Session, label: str) -> ParamRef | None:
    """The entry a typed label names (`h1.W[0,1]`, `w1`, `p1[2]`), or None if there is none.

    A node id may itself contain a dot, so `a.b` is also tried as the param node `a.b`."""
    params = current_params(session)
    try:
        ref = ParamRef.parse(label)
    except ValueError:
        return None
    if ref.exists_in(params):
        return ref
    if ref.name != "value":
        alt = ParamRef(f"{ref.node_id}.{ref.name}", "value", ref.index)
        if alt.exists_in(params):
            return alt
    return None
