"""What running or training a scene needs beyond a well-formed graph: targets encoded the way
the loss reads them, a scalar output to minimise, something to train.

Each check names the file place or the node, so a scene that would train to nonsense fails
(or warns) before the first step instead of printing a plausible-looking number.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from bpviz.engine.graph import Node
from bpviz.engine.ops.losses import ENCODINGS_FOR_LOSS
from bpviz.scene.errors import SceneError
from bpviz.scene.validate import node_place

if TYPE_CHECKING:
    from bpviz.engine.session import Session


def check_target_encodings(
    data: Any, nodes: Mapping[str, Node], index: Mapping[str, int]
) -> None:
    """With data, a loss's `target` node must encode the labels the way the loss reads them
    (hinge needs -1/+1 'signs', cross_entropy class 'labels', bce 0/1). `nodes` are the
    checked graph's, `index` gives each id's position in the file."""
    if data is None:
        return
    for node in nodes.values():
        allowed = ENCODINGS_FOR_LOSS.get(node.op)
        src = node.inputs.get("target")
        if allowed is None or src is None:
            continue
        target = nodes[src]
        if target.op != "target":
            continue
        encoding = target.attrs.get("encoding") or "column"
        if encoding not in allowed:
            use = " or ".join(f"'{e}'" for e in allowed)
            raise SceneError(
                f"encoding '{encoding}' does not fit the {node.op} loss '{node.id}':"
                f" use {use}",
                node_place(index[src], "attrs", "encoding"),
            )


def scalar_problem(session: Session) -> str | None:
    """Why the session's output cannot be minimised (run after a forward pass), or None."""
    graph = session.graph
    out = graph.output
    if out is None:
        return "no output: training needs a scalar loss to minimise"
    if not session.executor.has_value(out):
        return None  # the pass did not get there; running says why
    shape = np.shape(session.executor.raw_value(out))
    if shape != ():
        return (
            f"output '{out}' has shape {shape}: training needs a scalar loss"
            " (end the graph in a loss node, or sum or mean)"
        )
    return None


def training_warnings(session: Session) -> list[str]:
    """Things that make training pointless without making it wrong."""
    graph = session.graph
    out = graph.output
    if out is None:
        return []
    reach = graph.ancestors(out) | {out}
    if not any(graph.nodes[n].spec.param_shapes is not None for n in reach):
        return [
            f"nothing to train: no node feeding output '{out}' has parameters"
            " (param or dense), so training leaves every value as it is"
        ]
    return []
