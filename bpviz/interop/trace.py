"""`to_scene` and `save`: the graph a `Value` was computed by, as a scene.

Values the user created become `param` nodes named by their labels, numbers mixed into the
expression become `const` nodes, each operation one node of its op; a label on an
intermediate Value names that operation's node.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from bpviz.interop.common import Ids, SceneBuilder
from bpviz.interop.value import Value, topological_order
from bpviz.scene import save_scene_dict

PORTS = {1: ("x",), 2: ("a", "b")}


def _ids(order: list[Value]) -> dict[int, str]:
    """Labels first (so a generated id never takes a label's name), then readable numbers:
    v1, v2 for unlabelled inputs, c1 for constants, add1, mul1 for operations."""
    ids = Ids()
    out: dict[int, str] = {}
    for v in order:
        if v.label:
            out[id(v)] = ids.take(str(v.label), "v")
    for v in order:
        if id(v) not in out:
            prefix = v._op or ("c" if v._const else "v")
            out[id(v)] = ids.numbered(prefix)
    return out


def build(value: Value) -> tuple[SceneBuilder, str]:
    """The nodes of the graph that produced `value`, and the id of `value`'s node."""
    if not isinstance(value, Value):
        raise TypeError(f"to_scene wants a bpviz.Value, got {type(value).__name__}")
    order = topological_order(value)
    ids = _ids(order)
    b = SceneBuilder()
    for v in order:
        nid = ids[id(v)]
        if not v._op:
            b.add(nid, "const" if v._const else "param", attrs={"value": float(v.data)})
            continue
        inputs = {port: ids[id(p)] for port, p in zip(PORTS[len(v._prev)], v._prev, strict=True)}
        attrs = {k: float(a) for k, a in v._attrs.items()}
        b.add(nid, v._op, inputs, attrs)
    return b, ids[id(value)]


def to_scene(value: Value, name: str | None = None) -> dict[str, Any]:
    """A valid scene dict of the graph that produced `value`, with `value` as its output."""
    b, output = build(value)
    return b.scene(output, name)


def save(value: Value | Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Write the scene of `value` (or a scene dict) to `path`, atomically."""
    scene = to_scene(value) if isinstance(value, Value) else value
    save_scene_dict(scene, path)
