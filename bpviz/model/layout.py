"""Automatic left-to-right layout, so that every wire runs forward the way values flow.

A Sugiyama layout cut down to what small teaching graphs need: layers by longest path from a
source, a few barycentre sweeps to untangle wires, each layer centred vertically. The result is
one `MoveNodes`, so a layout the person dislikes is a single undo away.
"""

from __future__ import annotations

from statistics import fmean

from bpviz.model.commands import MoveNodes
from bpviz.model.document import Document, Pos

SWEEPS = 4


def layer_of_each_node(doc: Document) -> dict[str, int]:
    """Longest path from any source, so every edge goes at least one layer to the right."""
    layer: dict[str, int] = {}
    for node_id in doc.graph.topological_order():
        sources = doc.node(node_id).inputs.values()
        layer[node_id] = max((layer[s] + 1 for s in sources), default=0)
    return layer


def order_layers(doc: Document, layer: dict[str, int]) -> list[list[str]]:
    """Nodes per layer, ordered by barycentre sweeps (down by inputs, up by consumers)."""
    depth = max(layer.values(), default=-1) + 1
    layers: list[list[str]] = [[] for _ in range(depth)]
    for node_id in doc.nodes:  # document order is the starting guess (and tie breaker)
        layers[layer[node_id]].append(node_id)
    inputs = {n: list(doc.node(n).inputs.values()) for n in doc.nodes}
    outputs: dict[str, list[str]] = {n: [] for n in doc.nodes}
    for dst, srcs in inputs.items():
        for s in srcs:
            outputs[s].append(dst)

    def place(row: list[str]) -> None:
        """Position within its layer, scaled to [0, 1] so layers of any size compare."""
        last = len(row) - 1
        for i, n in enumerate(row):
            r[n] = i / last if last > 0 else 0.5

    r: dict[str, float] = {}
    for row in layers:
        place(row)

    def sweep(rows: range, neighbours: dict[str, list[str]]) -> None:
        """Reorder each layer by its neighbours' mean position; only that layer's positions
        change, so each sweep costs O(nodes + edges)."""
        for k in rows:
            keyed = [
                (fmean([r[m] for m in neighbours[n]]) if neighbours[n] else r[n], i, n)
                for i, n in enumerate(layers[k])
            ]
            layers[k] = [n for _, _, n in sorted(keyed)]
            place(layers[k])

    for _ in range(SWEEPS):
        sweep(range(1, depth), inputs)
        sweep(range(depth - 2, -1, -1), outputs)
    sweep(range(1, depth), inputs)
    return layers


def auto_layout_positions(doc: Document, x_gap: float = 200, y_gap: float = 110) -> dict[str, Pos]:
    """New positions, anchored at the current left edge and vertical centre so the graph
    stays where the person was looking."""
    if not len(doc):
        return {}
    layers = order_layers(doc, layer_of_each_node(doc))
    xs = [doc.pos(n)[0] for n in doc.nodes]
    ys = [doc.pos(n)[1] for n in doc.nodes]
    left, middle = min(xs), (min(ys) + max(ys)) / 2
    positions: dict[str, Pos] = {}
    for k, row in enumerate(layers):
        top = middle - (len(row) - 1) * y_gap / 2
        for i, node_id in enumerate(row):
            positions[node_id] = (left + k * x_gap, top + i * y_gap)
    return {n: positions[n] for n in doc.nodes}


def auto_layout_command(doc: Document, x_gap: float = 200, y_gap: float = 110) -> MoveNodes:
    return MoveNodes(auto_layout_positions(doc, x_gap, y_gap), text="Auto layout")
