"""What every export target reads from a scene: one frozen snapshot, taken after a forward pass.

Targets write text from the snapshot and never touch the scene again, so an export cannot
change the document (its parameters are copied, not shared).
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from bpviz.engine.errors import BpvizError
from bpviz.engine.formulas import fill_attrs
from bpviz.engine.graph import Graph, Node
from bpviz.engine.ops import REGISTRY
from bpviz.engine.optim import TrainingConfig
from bpviz.engine.transforms import Features

SOURCES = ("const", "input", "target", "param")
LOSSES = ("mse", "bce", "hinge", "cross_entropy")


class ExportError(BpvizError):
    """A node the chosen target cannot express; names the node and op."""

    def __init__(self, node_id: str, op: str, target: str, why: str = "") -> None:
        message = f"node '{node_id}': op '{op}' cannot be exported to {target}"
        super().__init__(message + (f" ({why})" if why else ""))
        self.node_id, self.op = node_id, op


def identifier(node_id: str, reserved: Iterable[str] = ()) -> str:
    """A Python identifier for a node id: other characters become `_`; keywords, names
    starting with a digit and `reserved` names get an `n_` prefix."""
    name = re.sub(r"\W", "_", node_id)
    taken = reserved if isinstance(reserved, (set, frozenset)) else set(reserved)
    if not name.isidentifier() or keyword.iskeyword(name) or name in taken:
        name = "n_" + name
    return name


def unique_identifiers(node_ids: Iterable[str], reserved: Iterable[str] = ()) -> dict[str, str]:
    """`identifier` for every node, made unique (ids `a-b` and `a_b` would otherwise meet)."""
    taken = set(reserved)
    names: dict[str, str] = {}
    for nid in node_ids:
        base = identifier(nid, taken)
        name, k = base, 2
        while name in taken:
            name, k = f"{base}_{k}", k + 1
        taken.add(name)
        names[nid] = name
    return names


def formula(node: Node, which: str = "formula") -> str:
    """The op's formula (or "derivative") as the registry writes it, with the node's attrs:
    the comments and doc strings of exported code read like the inspector."""
    spec = REGISTRY[node.op]
    return fill_attrs(getattr(spec, which), {**spec.default_attrs(), **node.attrs})


def literal(a: Any) -> str:
    """Python source for an array's numbers (repr round-trips every float64 exactly)."""
    return repr(np.asarray(a, dtype=float).tolist())


@dataclass(frozen=True)
class Snapshot:
    """A scene's graph, numbers and training set-up at the moment of export."""

    name: str
    graph: Graph
    order: list[str]  # every node, topologically sorted
    output: str
    params: dict[str, dict[str, np.ndarray]]  # node id -> {"value"} or {"W", "b"}
    values: dict[str, np.ndarray]  # each node's value on the training set
    x: np.ndarray | None  # raw training features and raw targets; None without data
    y: np.ndarray | None
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    config: TrainingConfig
    optimizer_state: dict[str, Any]  # Optimizer.state_dict(): step count and slots
    features: Features = ()  # data.transforms: exports apply them to the raw `x` themselves

    def node(self, node_id: str) -> Node:
        return self.graph.node(node_id)

    @property
    def nodes(self) -> list[Node]:
        return [self.graph.node(nid) for nid in self.order]

    def prediction(self) -> str | None:
        """The loss's `pred` input when the output is a loss node, else None."""
        out = self.node(self.output)
        return out.inputs.get("pred") if out.op in LOSSES else None


def snapshot(scene: Any) -> Snapshot:
    """Run one forward pass on the training set and copy what the targets need."""
    session = scene.session
    session.forward()
    ex = session.executor
    order = scene.graph.topological_order()
    ds = session.dataset
    has_test = ds is not None and len(ds.x_test) > 0
    return Snapshot(
        name=scene.name or "scene",
        graph=scene.graph,
        order=order,
        output=scene.graph.output or order[-1],
        params={nid: {k: a.copy() for k, a in ps.items()} for nid, ps in ex.params.items()},
        values={nid: np.array(ex.value(nid)) for nid in order if ex.has_value(nid)},
        x=None if ds is None else np.array(ds.x_train, dtype=np.float64),
        y=None if ds is None else np.array(ds.y_train),
        x_test=np.array(ds.x_test, dtype=np.float64) if has_test else None,
        y_test=np.array(ds.y_test) if has_test else None,
        config=session.config,
        optimizer_state=session.trainer.optimizer.state_dict(ex.params),
        features=session.features,
    )
