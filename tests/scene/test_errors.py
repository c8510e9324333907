"""Every way a scene file can be wrong gives one SceneError naming the file and the place."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bpviz.engine.errors import BpvizError
from bpviz.scene import SceneError, load_scene, parse_scene, save_scene_dict, validate_scene_dict
from tests.scene.helpers import mlp_scene, node, scalar_scene, write

Scene = dict[str, Any]


def _set(path: str, value: Any) -> Callable[[Scene], None]:
    """A mutation setting d[k1][k2]... = value, with list indices written as integers."""
    *parents, last = [int(k) if k.isdigit() else k for k in path.split("/")]

    def mutate(d: Scene) -> None:
        for key in parents:
            d = d[key]
        d[last] = value

    return mutate


def _drop(path: str) -> Callable[[Scene], None]:
    *parents, last = [int(k) if k.isdigit() else k for k in path.split("/")]

    def mutate(d: Scene) -> None:
        for key in parents:
            d = d[key]
        del d[last]

    return mutate


def _add_nodes(*nodes: Scene) -> Callable[[Scene], None]:
    return lambda d: d["nodes"].extend(nodes)


TRAINED_W = {"W": [[0.0] * 4] * 2, "b": [0.0] * 4}

# (scene factory, mutation, expected message after "file: ")
CASES: list[tuple[str, Callable[[], Scene], Callable[[Scene], None], str]] = [
    # header and versions
    ("no format", scalar_scene, _drop("format"), "format: missing"),
    ("wrong format", scalar_scene, _set("format", "png"), 'format: expected "bpviz-scene"'),
    ("no version", scalar_scene, _drop("version"), "version: missing"),
    ("text version", scalar_scene, _set("version", "1"), "version: expected an integer, got '1'"),
    (
        "newer version",
        scalar_scene,
        _set("version", 3),
        "version: file is version 3 but this bpviz reads up to 1 — update bpviz",
    ),
    ("ancient version", scalar_scene, _set("version", 0), "version: file is version 0;"),
    # structure
    ("unknown top key", scalar_scene, _set("colour", "red"), "colour: unknown key (allowed:"),
    ("no nodes", scalar_scene, _drop("nodes"), "nodes: required"),
    ("no output key", scalar_scene, _drop("output"), "output: required"),
    ("nodes not a list", scalar_scene, _set("nodes", {}), "nodes: expected a list"),
    ("node not an object", scalar_scene, _set("nodes/2", 3), "nodes[2]: expected an object"),
    ("node without op", scalar_scene, _drop("nodes/1/op"), "nodes[1].op: required"),
    ("unknown node key", scalar_scene, _set("nodes/0/kind", "x"), "nodes[0].kind: unknown key"),
    ("numeric id", scalar_scene, _set("nodes/0/id", 7), "nodes[0].id: expected text, got 7"),
    (
        "input not text",
        scalar_scene,
        _set("nodes/3/inputs/a", 1),
        "nodes[3].inputs.a: expected text",
    ),
    ("pos of one", scalar_scene, _set("nodes/0/pos", [1]), "nodes[0].pos: expected [x, y]"),
    ("pos text", scalar_scene, _set("nodes/0/pos", [0, "a"]), "nodes[0].pos[1]: expected a number"),
    ("name not text", scalar_scene, _set("name", ["x"]), "name: expected text, got a list of 1"),
    ("data a list", scalar_scene, _set("data", [1]), "data: expected an object"),
    (
        "state step",
        scalar_scene,
        _set("state", {"optimizer": {"step": -2}}),
        "state.optimizer.step: expected an integer >= 0",
    ),
    # meaning: ids, ops, attrs, ports, references, cycles, output
    (
        "duplicate id",
        scalar_scene,
        _set("nodes/2/id", "w"),
        "nodes[2].id: duplicate id 'w' (already used by nodes[1])",
    ),
    ("bad id", scalar_scene, _set("nodes/0/id", "2x"), "nodes[0].id: invalid id '2x'"),
    ("id with newline", scalar_scene, _set("nodes/0/id", "x\n"), "nodes[0].id: invalid id"),
    (
        "unknown op",
        scalar_scene,
        _set("nodes/2/op", "foo"),
        "nodes[2].op: unknown op 'foo' (known: add,",
    ),
    (
        "attr wrong type",
        mlp_scene,
        _set("nodes/2/attrs/units", "x"),
        "nodes[2].attrs.units: expected an integer, got 'x'",
    ),
    (
        "attr unknown",
        mlp_scene,
        _set("nodes/2/attrs/size", 3),
        "nodes[2].attrs.size: op 'dense' has no attribute 'size'",
    ),
    (
        "attr required null",
        mlp_scene,
        _set("nodes/2/attrs/units", None),
        "nodes[2].attrs.units: is required",
    ),
    (
        "attr bad choice",
        mlp_scene,
        _set("nodes/2/attrs/activation", "elu"),
        "nodes[2].attrs.activation: expected one of",
    ),
    (
        "attr below minimum",
        mlp_scene,
        _set("nodes/2/attrs/units", 0),
        "nodes[2].attrs.units: must be >= 1",
    ),
    (
        "attr huge number",
        scalar_scene,
        _set("nodes/5/attrs/exponent", 10**400),
        "nodes[5].attrs.exponent: expected a finite number",
    ),
    (
        "const NaN",
        scalar_scene,
        _set("nodes/0/attrs/value", float("nan")),
        "nodes[0].attrs.value: must be a finite number",
    ),
    (
        "ragged const",
        scalar_scene,
        _set("nodes/0/attrs/value", [[1], [2, 3]]),
        "nodes[0].attrs.value: expected a rectangular",
    ),
    (
        "infinite init",
        mlp_scene,
        _set("nodes/2/attrs/init", {"uniform": 1e308}),
        "nodes[2].attrs.init: uniform range must be a number from 0 to 1e6",
    ),
    (
        "unknown port",
        scalar_scene,
        _set("nodes/4/inputs/c", "x"),
        "nodes[4].inputs.c: op 'add' has no input 'c' (inputs: a, b)",
    ),
    (
        "port on source op",
        scalar_scene,
        _set("nodes/0/inputs/a", "w"),
        "nodes[0].inputs.a: op 'const' has no input 'a' (it has no inputs)",
    ),
    (
        "missing port",
        scalar_scene,
        _drop("nodes/4/inputs/b"),
        "nodes[4].inputs: missing input 'b' of op 'add'",
    ),
    ("dangling", scalar_scene, _set("nodes/3/inputs/b", "w9"), "nodes[3].inputs.b: no node 'w9'"),
    (
        "odd port key",
        scalar_scene,
        _set("nodes/3/inputs/a b", "w"),
        "nodes[3].inputs[\"a b\"]: op 'mul' has no input",
    ),
    (
        "self loop",
        scalar_scene,
        _set("nodes/4/inputs/b", "s"),
        "nodes[4].inputs.b: cycle 's' -> 's'",
    ),
    (
        "cycle",
        scalar_scene,
        _add_nodes(node("p", "neg", {"x": "q"}), node("q", "neg", {"x": "p"})),
        "nodes[6].inputs.x: cycle 'p' -> 'q' -> 'p'",
    ),
    (
        "long cycle",
        scalar_scene,
        _set("nodes/3/inputs/a", "L"),
        "nodes[3].inputs.a: cycle 'm' -> 's' -> 'L' -> 'm'",
    ),
    ("output missing node", scalar_scene, _set("output", "zz"), "output: no node 'zz'"),
    ("output null", scalar_scene, _set("output", None), "output: required"),
    # data and training
    ("data kind", mlp_scene, _set("data/kind", "mnist"), "data.kind: unknown kind 'mnist'"),
    ("data n", mlp_scene, _set("data/n", "many"), "data.n: expected an integer"),
    ("data key", mlp_scene, _set("data/classes", 3), "data: unknown key 'classes'"),
    (
        "csv missing",
        mlp_scene,
        _set("data", {"kind": "csv", "path": "nope.csv", "target": "y"}),
        "data: ",
    ),
    ("training lr", mlp_scene, _set("training/lr", -1), "training.lr: -1 is out of range"),
    ("training key", mlp_scene, _set("training/rate", 1), "training.rate: unknown setting"),
    (
        "training optimizer",
        mlp_scene,
        _set("training/optimizer", "lbfgs"),
        "training.optimizer: expected one of sgd",
    ),
    ("training huge", mlp_scene, _set("training/lr", 10**400), "training.lr: number too large"),
    ("training not object", mlp_scene, _set("training", "fast"), "training: expected an object"),
    # state
    (
        "state unknown node",
        mlp_scene,
        _set("state", {"params": {"w9": {"W": [1.0]}}}),
        "state.params.w9: no node 'w9'",
    ),
    (
        "state node without params",
        mlp_scene,
        _set("state", {"params": {"x": {"value": 1.0}}}),
        "state.params.x: node 'x' (op 'input') has no parameters",
    ),
    (
        "state wrong shape",
        mlp_scene,
        _set("state", {"params": {"h": {"W": [[1.0]], "b": [0.0] * 4}}}),
        "state.params.h.W: saved shape (1, 1) does not fit node 'h', which needs (2, 4)",
    ),
    (
        "state missing param",
        mlp_scene,
        _set("state", {"params": {"h": {"W": TRAINED_W["W"]}}}),
        "state.params.h: missing parameter 'b'",
    ),
    (
        "state extra param",
        mlp_scene,
        _set("state", {"params": {"h": {**TRAINED_W, "c": 1.0}}}),
        "state.params.h.c: node 'h' has no parameter 'c'",
    ),
    (
        "state ragged",
        mlp_scene,
        _set("state", {"params": {"h": {"W": [[1.0], [1.0, 2.0]]}}}),
        "state.params.h.W: expected a rectangular",
    ),
    (
        "state text value",
        mlp_scene,
        _set("state", {"params": {"h": {"W": "zero"}}}),
        "state.params.h.W: expected a number",
    ),
    (
        "slot unknown node",
        mlp_scene,
        _set("state", {"optimizer": {"slots": {"w9": {}}}}),
        "state.optimizer.slots.w9: no node 'w9'",
    ),
    (
        "slot unknown key",
        mlp_scene,
        _set("state", {"optimizer": {"slots": {"h": {"W": {"q": 1.0}}}}}),
        "state.optimizer.slots.h.W.q: unknown slot",
    ),
    (
        "slot missing m",
        mlp_scene,
        _set("state", {"optimizer": {"step": 2, "slots": {"h": {"W": {}}}}}),
        "state.optimizer.slots.h.W: missing slot 'm', which the momentum optimizer keeps",
    ),
    (
        "slot wrong shape",
        mlp_scene,
        _set("state", {"optimizer": {"slots": {"h": {"b": {"m": [1.0]}}}}}),
        "state.optimizer.slots.h.b.m: saved shape (1,) does not fit",
    ),
    # shapes, found by one forward pass
    (
        "incompatible shapes",
        mlp_scene,
        _add_nodes(
            node("c3", "const", attrs={"value": [1.0, 2.0, 3.0]}),
            node("bad", "add", {"a": "h", "b": "c3"}),
        ),
        "nodes[6] (id 'bad'): incompatible shapes: operands could not be broadcast",
    ),
    (
        "huge units",
        mlp_scene,
        _set("nodes/2/attrs/units", 2**62),
        "nodes[2].attrs.units: expected an integer",
    ),
    (
        "huge axis",
        scalar_scene,
        _add_nodes(node("p", "sum", {"x": "x"}, {"axis": 10**30})),
        "nodes[6].attrs.axis: expected an axis",
    ),
    (
        "out of memory",
        scalar_scene,
        _add_nodes(node("p", "param", attrs={"shape": [2**12, 2**12, 2**12]})),
        "nodes[6] (id 'p'): not enough memory",
    ),
    (
        "dense on a scalar",
        scalar_scene,
        _add_nodes(node("d", "dense", {"x": "x"}, {"units": 2})),
        "nodes[6] (id 'd'): incompatible shapes: dense expects a vector",
    ),
]


@pytest.mark.parametrize(
    ("factory", "mutate", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_broken_file_names_the_place(
    tmp_path: Path, factory: Callable[[], Scene], mutate: Callable[[Scene], None], expected: str
) -> None:
    scene = factory()
    mutate(scene)
    path = write(tmp_path / "scene.json", scene)
    with pytest.raises(SceneError) as info:
        load_scene(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    assert message[len(f"{path}: ") :].startswith(expected), message
    assert "\n" not in message.rstrip("\n")
    assert info.value.source == str(path)


def test_json_errors_name_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "scene.json"
    path.write_text('{\n  "format": "bpviz-scene",\n  "version": 1\n  "nodes": []\n}')
    with pytest.raises(SceneError, match=r"scene\.json: line 4 column 3: not valid JSON \("):
        load_scene(path)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"\xff\xfe\x00", "not UTF-8 text"),
        (b"[1, 2]", "expected a JSON object {...} at the top level, got a list of 2"),
        (b'{"format": "bpviz-scene", "format": "x"}', "key 'format' appears twice"),
        (b"[" * 50_000 + b"]" * 50_000, "nested too deeply"),
        (b'\xef\xbb\xbf{"format": 1}', 'format: expected "bpviz-scene", got 1'),
    ],
)
def test_unreadable_content(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(content)
    with pytest.raises(SceneError) as info:
        load_scene(path)
    assert str(info.value).startswith(f"{path}: ") and expected in str(info.value)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(SceneError, match="nope.json: cannot read file .No such file"):
        load_scene(tmp_path / "nope.json")
    with pytest.raises(SceneError, match="cannot read file"):
        load_scene(tmp_path)


def test_parse_scene_labels_with_source_and_refuses_non_scenes() -> None:
    with pytest.raises(SceneError, match=r"^clip: nodes\[0\]\.op: required$"):
        parse_scene(
            {"format": "bpviz-scene", "version": 1, "output": None, "nodes": [{"id": "a"}]},
            source="clip",
        )
    for junk in (None, 3, [1], Path("scene.json"), object()):
        with pytest.raises(SceneError, match="^<scene>: "):
            parse_scene(junk)  # type: ignore[arg-type]
    with pytest.raises(SceneError, match="expected a scene dict"):
        validate_scene_dict([1])  # type: ignore[arg-type]


def test_scene_error_is_a_bpviz_error_with_parts() -> None:
    with pytest.raises(BpvizError) as info:
        parse_scene(json.dumps({**scalar_scene(), "output": "zz"}), source="s.json")
    err = info.value
    assert isinstance(err, SceneError)
    assert (err.source, err.place, err.problem) == ("s.json", "output", "no node 'zz'")


def test_nonfinite_forward_still_loads() -> None:
    """A NaN is the run's business, not the file's: it is reported when the person runs it."""
    scene = scalar_scene()
    scene["nodes"][0]["attrs"]["value"] = 0.0
    scene["nodes"].append(node("lg", "log", {"x": "x"}))
    loaded = parse_scene(scene)
    with pytest.raises(BpvizError, match="non-finite"):
        loaded.forward()


def test_save_scene_dict_refuses_non_scenes(tmp_path: Path) -> None:
    with pytest.raises(SceneError, match="format: missing"):
        save_scene_dict({"nodes": []}, tmp_path / "a.json")
    with pytest.raises(SceneError, match="version: file is version 9"):
        save_scene_dict({"format": "bpviz-scene", "version": 9}, tmp_path / "a.json")
    with pytest.raises(SceneError, match="cannot be written as JSON"):
        save_scene_dict({**scalar_scene(), "name": float("nan")}, tmp_path / "a.json")
    assert list(tmp_path.iterdir()) == []
