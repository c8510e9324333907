"""What shape each node's value has, and whether a new connection would fit.

The canvas asks before it connects, so a wire that would make `add` combine a (3,) with a
(4,) is refused with the reason instead of breaking the next forward pass. The answer comes
from running the graph on a two-example slice of the scene's data: exact, and cheap. The
Inspector shows the shapes on the whole training set, found from a second, three-example
slice without a pass over the (possibly large) data.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from bpviz.engine.datasets import Dataset
from bpviz.engine.errors import BpvizError, GraphError, NonFiniteError, ShapeError
from bpviz.engine.executor import Executor
from bpviz.engine.graph import Graph
from bpviz.engine.session import load_data

Shape = tuple[int, ...]
PROBE_ROWS = 2
NO_DATA = "this scene has no data: choose a dataset in the Data panel"


class ShapeOracle:
    def __init__(self, document: Any, base_dir: str | None = None) -> None:
        self.document = document
        self.base_dir = base_dir
        self._data_key: str | None = None
        self._dataset: Dataset | None = None
        self._shapes: dict[str, Shape] = {}
        self._version: tuple[int, str | None] = (-1, None)  # graph version, data key
        self._full: tuple[tuple[int, str | None], dict[str, Shape]] = ((-1, None), {})
        self._baseline: tuple[tuple[int, str | None], str | None] = ((-1, None), None)

    def _key(self) -> tuple[int, str]:
        """What the shapes depend on: the graph's version and the data spec."""
        data = json.dumps(self.document.data, sort_keys=True, default=str)
        return self.document.graph.version, data

    def _load_dataset(self) -> Dataset | None:
        spec = self.document.data
        key = json.dumps(spec, sort_keys=True, default=str)
        if key != self._data_key:
            self._data_key = key
            try:
                self._dataset = load_data(spec, self.base_dir)[2]  # after data.transforms
            except BpvizError:
                self._dataset = None
        return self._dataset

    def _probe_data(self, rows: int = PROBE_ROWS) -> tuple[np.ndarray, np.ndarray] | None:
        ds = self._load_dataset()
        if ds is None:
            return None
        return ds.x_train[:rows], ds.y_train[:rows]

    def _run(self, graph: Graph, rows: int = PROBE_ROWS) -> tuple[Executor, BpvizError | None]:
        ex = Executor(graph)
        data = self._probe_data(rows)
        if data is not None:
            ex.set_data(*data)
        try:
            ex.forward()
        except (GraphError, NonFiniteError):
            return ex, None  # an unconnected output or a NaN says nothing about shapes
        except ShapeError as e:
            return ex, e
        return ex, None

    def shapes(self) -> dict[str, Shape]:
        """Shape of every node that can be computed now (recomputed after each edit)."""
        graph = self.document.graph
        key = self._key()
        if key != self._version:
            ex, _ = self._run(graph)
            self._shapes = {
                nid: tuple(np.shape(ex.value(nid))) for nid in graph.nodes if ex.has_value(nid)
            }
            self._version = key
        return self._shapes

    def data_shapes(self) -> dict[str, Shape]:
        """Shape of every node on the whole training set, as a pass over all its rows would
        give it: a dimension that grows from a 2-row to a 3-row pass grows with the rows
        (by that much per row), and is extended to the training set's row count."""
        small = self.shapes()
        ds = self._load_dataset()
        rows = 0 if ds is None else len(ds.x_train)
        if rows <= PROBE_ROWS:  # no data, or the probe pass saw all of it
            return small
        key = self._key()
        if self._full[0] != key:
            ex, _ = self._run(self.document.graph, PROBE_ROWS + 1)
            full = {}
            for nid, a in small.items():
                b = tuple(np.shape(ex.value(nid))) if ex.has_value(nid) else a
                full[nid] = (
                    tuple(x + (y - x) * (rows - PROBE_ROWS) for x, y in zip(a, b, strict=True))
                    if len(b) == len(a)
                    else a
                )
            self._full = (key, full)
        return self._full[1]

    def connection_problem(self, src: str, dst: str, port: str) -> str | None:
        """Why src -> dst.port would be refused (structure or shapes); None if it fits.

        An occupied port counts as replaceable: the caller swaps its edge out."""
        graph = self.document.graph
        problem = graph.connect_problem(src, dst, port, replacing=True)
        if problem:
            return problem
        if graph.nodes[dst].inputs.get(port) == src:
            return None
        trial = graph.copy()
        if port in trial.nodes[dst].inputs:
            trial.disconnect(dst, port)
        trial.connect(src, dst, port)
        return self._trial_problem(trial, dst)

    def splice_problem(
        self, op: str, attrs: dict[str, Any], src: str, dst: str, port: str, new_port: str
    ) -> str | None:
        """Why a new `op` node put into the wire src → dst.port (fed on its `new_port`)
        would break the shapes there; None if it fits. The wire must exist."""
        trial = self.document.graph.copy()
        node_id = "splice_probe"
        while node_id in trial:
            node_id += "_"
        try:
            trial.add_node(node_id, op, attrs)
        except GraphError as e:
            return str(e)
        trial.disconnect(dst, port)
        trial.connect(src, node_id, new_port)
        trial.connect(node_id, dst, port)
        return self._trial_problem(trial, node_id)

    def _trial_problem(self, trial: Graph, changed: str) -> str | None:
        """The shape problem an edited copy of the graph has at or after `changed`."""
        _, error = self._run(trial)
        if error is None or error.node_id not in _downstream(trial, changed):
            return None
        if self._baseline_error() == error.node_id:
            return None  # that node fails already; this connection is not to blame
        if self._probe_data() is None and _reads_dataless_input(trial, error.node_id):
            return NO_DATA  # the input's stand-in value is not the fault: data is missing
        return f"incompatible shapes: {error}"

    def _baseline_error(self) -> str | None:
        key = self._key()
        if self._baseline[0] != key:
            _, error = self._run(self.document.graph)
            self._baseline = (key, error.node_id if error else None)
        return self._baseline[1]


def _reads_dataless_input(graph: Graph, node_id: str) -> bool:
    """Whether `node_id` depends on an input node that has no value of its own to offer."""
    return any(
        graph.nodes[n].op == "input" and graph.nodes[n].attrs.get("value") is None
        for n in graph.ancestors(node_id)
    )


def _downstream(graph: Graph, node_id: str) -> set[str]:
    seen, todo = {node_id}, [node_id]
    while todo:
        for edge in graph.consumers(todo.pop()):
            if edge.dst not in seen:
                seen.add(edge.dst)
                todo.append(edge.dst)
    return seen
