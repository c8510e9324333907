"""Whatever the bytes, loading either works or raises one SceneError, never anything else.

Random JSON and text probe the parser and the structure checks; mutated valid scenes (keys
deleted, types changed, ids swapped, cycles inserted, random strings) probe the meaning checks
and the engine behind them.
"""

from __future__ import annotations

import copy
import json
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpviz.engine.ops import REGISTRY
from bpviz.scene import SceneError, parse_scene
from bpviz.scene.files import encode
from tests.scene.helpers import mlp_scene, node, scalar_scene

# BPVIZ_FUZZ_EXAMPLES=5000 for a long hunt; 200 keeps the suite fast.
FUZZ = settings(
    max_examples=int(os.environ.get("BPVIZ_FUZZ_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

odd_numbers = st.sampled_from([0, -1, 1, 2, 3, 0.5, -0.0, 1e308, 10**30, 10**400, 2**63, 1e-320])
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-50, 50)
    | odd_numbers
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(sorted(REGISTRY) + ["x", "w", "L", "loss", "h", "value", "W", "b", "m"])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def _base_scenes() -> list[dict[str, Any]]:
    trained = scalar_scene()
    trained["state"] = {
        "params": {"w": {"value": 0.5}, "b": {"value": -1.0}},
        "optimizer": {"step": 4, "slots": {"w": {"value": {"m": 0.1}}}},
    }
    trained["training"] = {"optimizer": "momentum", "lr": 0.1}
    net = mlp_scene("adam", batch_size=5, n=12)
    net["nodes"].append(node("extra", "sum", {"x": "h"}, {"axis": 0}))
    return [scalar_scene(), net, trained]


BASES = _base_scenes()


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value, containers and leaves alike."""
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _parent(doc: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        doc = doc[key]
    return doc


def _mutate(doc: dict[str, Any], data: st.DataObject) -> None:
    kind = data.draw(
        st.sampled_from(["delete", "replace", "retype", "swap_ids", "cycle", "rename", "dup"])
    )
    nodes = doc.get("nodes")
    if kind in ("swap_ids", "cycle", "rename", "dup") and isinstance(nodes, list) and nodes:
        a = data.draw(st.sampled_from([n for n in nodes if isinstance(n, dict)] or [{}]))
        b = data.draw(st.sampled_from([n for n in nodes if isinstance(n, dict)] or [{}]))
        if kind == "swap_ids":
            a["id"], b["id"] = b.get("id"), a.get("id")
        elif kind == "cycle" and isinstance(a.get("inputs"), dict) and a["inputs"]:
            port = data.draw(st.sampled_from(sorted(a["inputs"])))
            a["inputs"][port] = b.get("id")  # often a node downstream of `a`
        elif kind == "rename":
            a["id" if data.draw(st.booleans()) else "op"] = data.draw(st.text(max_size=6))
        else:
            nodes.append(copy.deepcopy(a))
        return
    paths = [p for p in _paths(doc) if p]
    path = data.draw(st.sampled_from(paths))
    parent, key = _parent(doc, path), path[-1]
    if kind == "delete":
        del parent[key]
    elif kind == "replace":
        parent[key] = data.draw(json_values)
    else:  # same content, another type: "1" for 1, [x] for x, {"0": x} for a list
        value = parent[key]
        if isinstance(value, list):
            parent[key] = {str(i): v for i, v in enumerate(value)}
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            parent[key] = str(value)
        else:
            parent[key] = [value]


def _only_scene_errors(raw: Any) -> None:
    try:
        scene = parse_scene(raw)
    except SceneError as e:
        assert "unexpected problem" not in str(e), str(e)
        assert str(e).startswith("<scene>: ")
        return
    # whatever loads must save (strict JSON: no NaN) and load back to the same scene
    again = parse_scene(encode(scene.to_dict()))
    assert again.to_dict() == scene.to_dict()


@FUZZ
@given(json_values)
def test_random_json_values(value: Any) -> None:
    _only_scene_errors(value)


@FUZZ
@given(
    st.fixed_dictionaries(
        {"format": st.just("bpviz-scene"), "version": st.just(1)},
        optional={k: json_values for k in ("output", "nodes", "data", "training", "state", "name")},
    )
)
def test_random_bodies_with_a_valid_header(value: dict[str, Any]) -> None:
    _only_scene_errors(value)


@FUZZ
@given(st.text(max_size=60) | st.binary(max_size=60))
def test_random_text(text: str | bytes) -> None:
    _only_scene_errors(text)


@FUZZ
@given(st.sampled_from(range(len(BASES))), st.integers(1, 3), st.data())
def test_mutated_valid_scenes(base: int, count: int, data: st.DataObject) -> None:
    doc = copy.deepcopy(BASES[base])
    for _ in range(count):
        _mutate(doc, data)
    _only_scene_errors(doc)
    _only_scene_errors(json.dumps(doc))  # the same through the text path (NaN allowed by json)


@pytest.mark.parametrize("base", range(len(BASES)))
def test_bases_load(base: int) -> None:
    parse_scene(BASES[base])


@FUZZ
@given(st.sampled_from(sorted(REGISTRY)), st.data())
def test_every_op_with_random_attrs_and_inputs(op: str, data: st.DataObject) -> None:
    spec = REGISTRY[op]
    attrs = data.draw(st.dictionaries(st.sampled_from([*spec.attrs, "bogus"]), json_values))
    values = st.sampled_from([1.5, [1.0, -2.0], [[1.0, 2.0], [3.0, 4.0]], [[0.0, 1.0, 0.0]], 0])
    nodes = [node(f"in_{p}", "const", attrs={"value": data.draw(values)}) for p in spec.inputs]
    nodes.append(node("y", op, {p: f"in_{p}" for p in spec.inputs}, attrs))
    scene = {"format": "bpviz-scene", "version": 1, "output": "y", "nodes": nodes}
    _only_scene_errors(scene)
