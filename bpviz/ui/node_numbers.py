"""A node's formula with the numbers training has put on it, for tooltips and the inspector."""

from __future__ import annotations

from typing import Any

from bpviz.engine.formulas import explain
from bpviz.model.training import TrainingController


def explain_node(controller: TrainingController | None, node_id: str) -> str | None:
    """Formula and local derivatives with the current numbers; None for an unknown node."""
    if controller is None or node_id not in controller.document.nodes:
        return None
    inputs, value, params = node_numbers(controller, node_id)
    node = controller.document.node(node_id)
    return explain(node.spec, node.attrs, inputs, value, params).text


def node_numbers(controller: TrainingController, node_id: str) -> tuple[dict[str, Any], Any, Any]:
    """(input values by port, the node's value, its parameters) as training has them now."""
    node = controller.document.node(node_id)
    return (
        {p: controller.value(src) for p, src in node.inputs.items()},
        controller.value(node_id),
        controller.session.executor.params.get(node_id),
    )
