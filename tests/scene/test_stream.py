"""The quick loading route (scene/stream.py) builds exactly what the full route builds, and
hands every file it is not sure of to the full route, whose messages are the ones to see."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bpviz.scene import SceneError, load_scene, parse_scene
from bpviz.scene import document as loader
from bpviz.scene.stream import read_scene
from tests.scene.helpers import scalar_scene

SCENES = Path(__file__).resolve().parents[2] / "scenes"
EXAMPLES = sorted(SCENES.glob("*.json"))


def _full_route(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "read_scene", lambda text, runnable: None)


def _snapshot(scene: Any) -> tuple[Any, ...]:
    ex = scene.session.executor
    values = {n: np.asarray(ex.raw_value(n)).tolist() for n in ex.plan.index}
    order = scene.graph.topological_order()
    return scene.to_dict(), scene.positions, values, order, scene.graph.output


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_load_the_same_by_both_routes(path: Path, monkeypatch) -> None:
    text = path.read_text()
    assert read_scene(text, runnable=True) is not None  # the quick route takes it
    quick = _snapshot(load_scene(path))
    _full_route(monkeypatch)
    assert _snapshot(load_scene(path)) == quick


def _text(nodes: list[dict[str, Any]], output: str | None = "L", **top: Any) -> str:
    return json.dumps(
        {"format": "bpviz-scene", "version": 1, "output": output, "nodes": nodes, **top}
    )


# sources listed after their consumers, ports in another order than the op's, a node
# without pos, attrs with null (the default) and nested values, blanks everywhere
ODD_BUT_VALID = [
    {"id": "L", "op": "pow", "inputs": {"x": "s"}, "attrs": {"exponent": 2}},
    {"op": "add", "id": "s", "pos": [1, 2.5], "inputs": {"b": "w", "a": "x"}},
    {"id": "w", "op": "param", "attrs": {"value": [[0.5]], "init": None}, "pos": [0, 0]},
    {"id": "x", "op": "const", "attrs": {"value": 1.5}, "inputs": {}, "pos": [0.0, -3e2]},
]


def test_an_unusual_but_valid_file_loads_the_same_by_both_routes(monkeypatch) -> None:
    text = json.dumps(
        {"format": "bpviz-scene", "version": 1, "output": "L", "nodes": ODD_BUT_VALID}, indent=3
    )
    quick = read_scene(text, runnable=True)
    assert quick is not None
    assert list(quick.graph.nodes["s"].inputs.items()) == [("a", "x"), ("b", "w")]
    assert quick.positions == {"s": (1.0, 2.5), "w": (0.0, 0.0), "x": (0.0, -300.0)}
    assert quick.graph.topological_order() == ["w", "x", "s", "L"]
    assert dict(quick.index) == {"L": 0, "s": 1, "w": 2, "x": 3}
    expected = _snapshot(parse_scene(text))
    _full_route(monkeypatch)
    assert _snapshot(parse_scene(text)) == expected


def _node_text(**node: Any) -> str:
    return _text([{"id": "x", "op": "const", "attrs": {"value": 1.0}}, node], output="L")


GIVE_UP = {
    "repeated node key": _text([]).replace(
        '"nodes": []', '"nodes": [{"id": "L", "id": "L", "op": "neg", "inputs": {}}]'
    ),
    "repeated port": _text([]).replace(
        '"nodes": []',
        '"nodes": [{"id": "x", "op": "const"},'
        ' {"id": "L", "op": "neg", "inputs": {"x": "x", "x": "x"}}]',
    ),
    "repeated attr deep inside": _text([]).replace(
        '"nodes": []', '"nodes": [{"id": "L", "op": "const", "attrs": {"value": {"a": 1, "a": 2}}}]'
    ),
    "repeated key in a list": _text([], output=None).replace(
        '"nodes": []', '"nodes": [], "data": {"kind": "moons", "x": [1, [{"a": 1, "a": 2}]]}'
    ),
    "unknown key": _node_text(id="L", op="neg", inputs={"x": "x"}, colour="red"),
    "unknown op": _node_text(id="L", op="nope", inputs={"x": "x"}),
    "unknown port": _node_text(id="L", op="neg", inputs={"y": "x"}),
    "unwired port": _node_text(id="L", op="add", inputs={"a": "x"}),
    "no inputs at all": _node_text(id="L", op="neg"),
    "null source": _node_text(id="L", op="neg", inputs={"x": None}),
    "missing source": _node_text(id="L", op="neg", inputs={"x": "q"}),
    "bad id": _node_text(id="L:1", op="neg", inputs={"x": "x"}),
    "repeated id": _node_text(id="x", op="neg", inputs={"x": "x"}),
    "null inputs": _node_text(id="L", op="const", inputs=None),
    "bad attr": _node_text(id="L", op="pow", inputs={"x": "x"}, attrs={"exponent": "two"}),
    "unknown attr": _node_text(id="L", op="neg", inputs={"x": "x"}, attrs={"k": 1}),
    "bool in pos": _node_text(id="L", op="neg", inputs={"x": "x"}, pos=[1, True]),
    "NaN in pos": _node_text(id="L", op="neg", inputs={"x": "x"}, pos=[1, float("nan")]),
    "three in pos": _node_text(id="L", op="neg", inputs={"x": "x"}, pos=[1, 2, 3]),
    "cycle": _text(
        [
            {"id": "L", "op": "neg", "inputs": {"x": "a"}},
            {"id": "a", "op": "neg", "inputs": {"x": "L"}},
        ]
    ),
    "no output": _node_text(id="L", op="neg", inputs={"x": "x"}).replace(
        '"output": "L"', '"output": null'
    ),
    "bad top level": _text([], output="L", colour=1),
    "older or newer version": _text([], output=None).replace('"version": 1', '"version": 2'),
    "trailing text": _text([], output=None) + " x",
    "node list twice": _node_text(id="L", op="neg", inputs={"x": "x"}).replace(
        '"nodes": [', '"nodes": [], "nodes": [', 1
    ),
}


@pytest.mark.parametrize("name", GIVE_UP)
def test_the_quick_route_leaves_what_it_is_not_sure_of_to_the_full_route(name, monkeypatch) -> None:
    text = GIVE_UP[name]
    assert read_scene(text, runnable=True) is None
    with pytest.raises(SceneError) as quick:
        parse_scene(text)
    _full_route(monkeypatch)
    with pytest.raises(SceneError) as full:
        parse_scene(text)
    assert str(quick.value) == str(full.value)


def test_a_draft_may_leave_ports_unwired_and_name_no_output() -> None:
    text = _node_text(id="L", op="add", inputs={"b": "x"}).replace(
        '"output": "L"', '"output": null'
    )
    quick = read_scene(text, runnable=False)
    assert quick is not None
    assert quick.graph.nodes["L"].inputs == {"b": "x"}
    assert quick.graph.output is None


def test_ids_and_ports_are_held_once() -> None:
    text = json.dumps(scalar_scene())
    graph = read_scene(text, runnable=True).graph
    m = graph.nodes["m"]
    assert m.inputs["a"] is graph.nodes["w"].id
    assert next(iter(m.inputs)) is m.spec.inputs[0]


def test_a_trained_scene_with_saved_weights_loads_the_same_by_both_routes(monkeypatch) -> None:
    scene = load_scene(SCENES / "xor.json")
    scene.train(5)
    text = json.dumps(scene.to_dict(include_state=True))
    assert '"state"' in text and "[[" in text  # weight matrices as nested lists
    quick = read_scene(text, runnable=True)
    assert quick is not None and quick.model.state is not None
    expected = _snapshot(parse_scene(text, SCENES))
    _full_route(monkeypatch)
    assert _snapshot(parse_scene(text, SCENES)) == expected
