"""to_scene and save: a Value's graph as a valid, laid-out scene that evaluates the same."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import bpviz
from bpviz import Value, save, to_scene
from bpviz.cli import main
from bpviz.scene import load_scene, validate_scene_dict
from tests.interop.test_value import neuron, readme_example


def eval_json(path: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(["eval", str(path), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_readme_example_saved_evaluates_to_the_same(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    a, b, g = readme_example()
    g.backward()
    path = tmp_path / "g.json"
    save(g, path)
    result = eval_json(path, capsys)
    assert result["output"] == g.data
    assert result["nodes"]["a"]["grad"] == pytest.approx(a.grad, rel=1e-12)
    assert result["nodes"]["b"]["grad"] == pytest.approx(b.grad, rel=1e-12)
    assert f"{result['output']:.4f}" == "24.7041"


def test_readme_example_nodes() -> None:
    _, _, g = readme_example()
    scene = to_scene(g)
    ops = [n["op"] for n in scene["nodes"]]
    # 2 params, 6 numbers, and one node per operation written in the example
    assert ops.count("param") == 2 and ops.count("const") == 6
    assert {op: ops.count(op) for op in ("add", "mul", "sub", "div", "pow", "neg", "relu")} == {
        "add": 13, "mul": 3, "sub": 2, "div": 2, "pow": 2, "neg": 1, "relu": 2
    }
    assert scene["output"] == "add13"
    by_id = {n["id"]: n for n in scene["nodes"]}
    assert by_id["a"] == {
        "id": "a", "op": "param", "inputs": {}, "attrs": {"value": -4.0},
        "pos": by_id["a"]["pos"],
    }
    assert by_id["pow1"]["attrs"] == {"exponent": 3.0}
    assert by_id["div2"]["inputs"] == {"a": "c6", "b": "pow2"}  # 10.0 / f
    assert by_id["c6"]["attrs"] == {"value": 10.0}


def test_every_node_value_and_grad_equal_the_values(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    w = [Value(0.5, label="w1"), Value(-0.25, label="w2")]
    b = Value(0.75, label="b")
    x = [Value(1.0, label="x1"), Value(-2.0, label="x2")]
    y = neuron(x, w, b)
    y.label = "out"
    y.backward()
    path = tmp_path / "n.json"
    save(y, path)
    nodes = eval_json(path, capsys)["nodes"]
    for v in [*w, b, *x, y]:
        assert (nodes[v.label]["value"], nodes[v.label]["grad"]) == (v.data, v.grad)
    assert sorted(nodes) == sorted(["w1", "w2", "b", "x1", "x2", "mul1", "mul2", "add1",
                                    "add2", "out"])


def test_labels_become_unique_valid_ids() -> None:
    p, q, r = Value(1.0, label="w"), Value(2.0, label="w"), Value(3.0, label="my weight")
    s, t = Value(4.0, label="1st"), Value(5.0, label="v1")
    u = Value(6.0)  # unlabelled: must not take 'v1'
    out = ((p + q) * r - s / t) + u
    ids = [n["id"] for n in to_scene(out)["nodes"] if n["op"] == "param"]
    assert ids == ["w", "w_2", "my_weight", "v_1st", "v1", "v2"]


def test_a_single_value_is_a_one_node_scene() -> None:
    scene = to_scene(Value(3.0, label="x"))
    assert scene["output"] == "x"
    assert [(n["id"], n["op"], n["attrs"]) for n in scene["nodes"]] == [
        ("x", "param", {"value": 3.0})
    ]


def test_positions_run_left_to_right() -> None:
    _, _, g = readme_example()
    scene = to_scene(g)
    x = {n["id"]: n["pos"][0] for n in scene["nodes"]}
    for n in scene["nodes"]:
        for src in n["inputs"].values():
            assert x[src] < x[n["id"]], (src, n["id"])
    # a number sits just left of the operation that uses it, not at the far left
    assert x["c6"] == x["div2"] - 200
    assert len({tuple(n["pos"]) for n in scene["nodes"]}) == len(scene["nodes"])


def test_scene_is_already_normalised() -> None:
    _, _, g = readme_example()
    scene = to_scene(g)
    assert validate_scene_dict(scene) == scene


def test_save_accepts_a_scene_dict(tmp_path: Path) -> None:
    y = Value(2.0, label="x").tanh()
    save(to_scene(y), tmp_path / "t.json")
    loaded = load_scene(tmp_path / "t.json")
    assert float(loaded.forward()) == y.data


def test_to_scene_names_wrong_argument() -> None:
    with pytest.raises(TypeError, match="bpviz.Value, got float"):
        to_scene(1.0)  # type: ignore[arg-type]


def test_functions_and_attrs_survive() -> None:
    x = Value(0.3, label="x")
    y = (x.exp() + x.log().sigmoid() + (-x).relu()) ** -1.5
    y.backward()
    scene = to_scene(y)
    loaded = load_scene_from(scene)
    assert float(loaded.forward()) == pytest.approx(y.data, rel=1e-15)
    loaded.backward()
    assert float(loaded.grad("x")) == pytest.approx(x.grad, rel=1e-12)


def load_scene_from(scene: dict):  # noqa: ANN201
    from bpviz.scene import parse_scene

    return parse_scene(scene)


def test_import_bpviz_stays_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, bpviz; bpviz.Value(1.0); bpviz.to_scene;"
        "print(sorted(m for m in ('torch', 'onnx', 'PySide6', 'onnxruntime') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(bpviz.__file__).parents[1], check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        bpviz.nothing  # noqa: B018


def test_a_wide_traced_graph_wraps_into_columns() -> None:
    """512 products summed pairwise: 1024 inputs in one layer would make a column 110,000
    pixels tall. Columns hold at most ceil(1.5·√2047) = 68 nodes, so the 2047 nodes take
    16 + 8 + 4 + 2 + 1 columns for the layers of 1024, 512, 256, 128 and 64 nodes, then one
    each for 32 ... 1: 37 columns, the drawing about as wide as it is high."""
    xs = [Value(float(i)) for i in range(512)]
    ws = [Value(1.0) for _ in range(512)]
    level = [w * x for w, x in zip(ws, xs, strict=True)]
    while len(level) > 1:
        level = [level[i] + level[i + 1] for i in range(0, len(level), 2)]
    scene = to_scene(level[0])
    assert len(scene["nodes"]) == 2047
    pos = {n["id"]: n["pos"] for n in scene["nodes"]}
    columns = sorted({p[0] for p in pos.values()})
    assert columns == [k * 200.0 for k in range(37)]
    ys = [p[1] for p in pos.values()]
    assert (min(ys), max(ys)) == (-67 * 110 / 2, 67 * 110 / 2)
    for n in scene["nodes"]:
        for src in n["inputs"].values():
            assert pos[src][0] < pos[n["id"]][0]
    assert len({tuple(p) for p in pos.values()}) == len(pos)
