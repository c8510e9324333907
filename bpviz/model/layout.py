"""Automatic left-to-right layout, so that every wire runs forward the way values flow.

A Sugiyama layout cut down to what small teaching graphs need: layers by longest path from a
source, a few barycentre sweeps to untangle wires, each layer centred vertically. Layers and
the nodes in a layer are spaced by the nodes' sizes, so no two boxes touch. It reads only the
engine graph, the current positions and a size per node, so the document (laying out a file
without positions) and the undoable command (`commands.auto_layout_command`) both build on it.

The window passes the sizes its canvas draws; without a window, `estimated_size` stands in:
a Qt-free upper bound of the box the canvas will draw (`ui/canvas/items.py`), so a layout made
before any canvas exists does not overlap once drawn either.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from statistics import fmean

from bpviz.engine.graph import Graph, Node

SWEEPS = 4
X_GAP = 60.0  # free space between two layers' boxes: room for the wires to bend
Y_GAP = 30.0  # free space between two boxes in one layer
Pos = tuple[float, float]
Size = tuple[float, float]
SizeOf = Callable[[str], Size]

# What the canvas draws (ui/canvas/items.py, header_controls.py), in pixels at zoom 1.
_MIN_WIDTH, _MAX_WIDTH = 160.0, 320.0
_HEADER, _ROW, _NUMBERS, _FOOTER, _SCALE = 26.0, 22.0, 30.0, 6.0, 12.0
_PORT_OVERHANG = 7.5  # ports and the selection outline reach this far beyond the box
_TITLE_CHAR, _SMALL_CHAR = 14.5, 11.0  # the widest glyph of the title / summary font
_CONTROLS = 130.0  # a dense layer's − units + activation▾ on its header
HEADER_CONTROL_OPS = ("dense",)  # the ops whose header carries those controls


def layer_of_each_node(graph: Graph) -> dict[str, int]:
    """Longest path from any source, so every edge goes at least one layer to the right; then
    each node without inputs (a constant, a target) moves right to just before its first
    consumer, so its wire does not run behind the nodes in between."""
    layer: dict[str, int] = {}
    first_consumer: dict[str, int] = {}
    for node_id in graph.topological_order():
        sources = graph.node(node_id).inputs.values()
        layer[node_id] = k = max((layer[s] + 1 for s in sources), default=0)
        for s in sources:
            first_consumer[s] = min(first_consumer.get(s, k), k)
    for node_id, node in graph.nodes.items():
        if not node.inputs and node_id in first_consumer:
            layer[node_id] = first_consumer[node_id] - 1
    return layer


def order_layers(graph: Graph, layer: dict[str, int]) -> list[list[str]]:
    """Nodes per layer, ordered by barycentre sweeps (down by inputs, up by consumers)."""
    depth = max(layer.values(), default=-1) + 1
    layers: list[list[str]] = [[] for _ in range(depth)]
    for node_id in graph.nodes:  # document order is the starting guess (and tie breaker)
        layers[layer[node_id]].append(node_id)
    inputs = {n: list(graph.node(n).inputs.values()) for n in graph.nodes}
    outputs: dict[str, list[str]] = {n: [] for n in graph.nodes}
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


def estimated_size(node: Node) -> Size:
    """The box the canvas draws for `node`, ports included, never smaller than drawn: text is
    measured at the widest glyph, and a heatmap's scale line is always counted."""
    title = _TITLE_CHAR * len(node.id)
    if node.op in HEADER_CONTROL_OPS:
        need = 18 + title + _CONTROLS
    else:
        need = 8 + title + 12 + _SMALL_CHAR * len(node.spec.summarize(node.attrs)) + 8
    width = min(_MAX_WIDTH, max(_MIN_WIDTH, 10 * math.ceil(need / 10)))
    rows = max(1, len(node.spec.inputs))
    height = _HEADER + rows * _ROW + _NUMBERS + _FOOTER + _SCALE
    return width + 2 * _PORT_OVERHANG, height + 2 * _PORT_OVERHANG


def auto_layout_positions(
    graph: Graph,
    current: Mapping[str, Pos],
    size_of: SizeOf | None = None,
    x_gap: float = X_GAP,
    y_gap: float = Y_GAP,
) -> dict[str, Pos]:
    """New top-left positions: each layer as wide as its widest node plus `x_gap`, its nodes
    stacked `y_gap` apart. Anchored at the `current` positions' left edge and vertical centre
    so the graph stays where the person was looking. `size_of(node_id)` is the drawn size
    (default `estimated_size`)."""
    if not graph.nodes:
        return {}
    if size_of is None:

        def size_of(node_id: str) -> Size:
            return estimated_size(graph.node(node_id))

    size = {n: size_of(n) for n in graph.nodes}
    layers = order_layers(graph, layer_of_each_node(graph))
    left = min(current[n][0] for n in graph.nodes)
    top = min(current[n][1] for n in graph.nodes)
    bottom = max(current[n][1] + size[n][1] for n in graph.nodes)
    middle = (top + bottom) / 2
    positions: dict[str, Pos] = {}
    x = left
    for row in layers:
        height = sum(size[n][1] for n in row) + (len(row) - 1) * y_gap
        y = middle - height / 2
        for node_id in row:
            positions[node_id] = (x, y)
            y += size[node_id][1] + y_gap
        x += max(size[n][0] for n in row) + x_gap
    return {n: positions[n] for n in graph.nodes}
