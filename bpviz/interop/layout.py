"""Left-to-right positions for a graph that arrives without any (a traced expression, an
imported model), so it opens readable instead of stacked at the origin.

Layers by longest path from the sources, then each source moved next to its first consumer
(a constant used at the end does not sit at the far left with a long wire), then one
barycentre sweep down and one up to untangle wires; a layer taller than about 1.5·√n nodes
wraps into several columns. Linear in nodes and edges apart from sorting each layer; no
recursion.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from statistics import fmean

X_GAP, Y_GAP = 200.0, 110.0
MIN_COLUMN = 16  # small graphs never wrap


def layers_of(order: Sequence[str], inputs: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """`order` lists every node after its inputs."""
    layer: dict[str, int] = {}
    for n in order:
        layer[n] = max((layer[s] + 1 for s in inputs[n]), default=0)
    consumers: dict[str, list[str]] = {n: [] for n in order}
    for n in order:
        for s in inputs[n]:
            consumers[s].append(n)
    for n in order:
        if not inputs[n] and consumers[n]:
            layer[n] = min(layer[c] for c in consumers[n]) - 1
    return layer


def positions(
    order: Sequence[str], inputs: Mapping[str, Sequence[str]]
) -> dict[str, tuple[float, float]]:
    """(x, y) for each node in `order`: x by layer, each layer centred on y = 0."""
    if not order:
        return {}
    layer = layers_of(order, inputs)
    depth = max(layer.values()) + 1
    rows: list[list[str]] = [[] for _ in range(depth)]
    for n in order:
        rows[layer[n]].append(n)
    consumers: dict[str, list[str]] = {n: [] for n in order}
    for n in order:
        for s in inputs[n]:
            consumers[s].append(n)
    rank = {n: i / max(len(row) - 1, 1) for row in rows for i, n in enumerate(row)}

    def sweep(ks: range, neighbours: Mapping[str, Sequence[str]]) -> None:
        for k in ks:
            keyed = [
                (fmean(rank[m] for m in neighbours[n]) if neighbours[n] else rank[n], i, n)
                for i, n in enumerate(rows[k])
            ]
            rows[k] = [n for _, _, n in sorted(keyed)]
            for i, n in enumerate(rows[k]):
                rank[n] = i / max(len(rows[k]) - 1, 1)

    sweep(range(1, depth), inputs)
    sweep(range(depth - 2, -1, -1), consumers)
    height = column_height(len(order))
    out: dict[str, tuple[float, float]] = {}
    column = 0
    for row in rows:  # a tall layer wraps into several columns side by side
        for start in range(0, len(row), height):
            part = row[start : start + height]
            top = -(len(part) - 1) * Y_GAP / 2
            for i, n in enumerate(part):
                out[n] = (column * X_GAP, top + i * Y_GAP)
            column += 1
    return {n: out[n] for n in order}


def column_height(n: int) -> int:
    """Most nodes stacked in one column: a traced batch puts thousands of nodes in a layer,
    which as one column would be a thin line hundreds of screens tall. Wrapping at about
    1.5·√n keeps the drawing roughly as wide as it is high (columns are 200 apart, rows 110)."""
    return max(MIN_COLUMN, math.ceil(1.5 * math.sqrt(n)))
