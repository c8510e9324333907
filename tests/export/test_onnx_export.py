"""The ONNX export computes what bpviz computes, in onnxruntime, for every op and odd shape."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bpviz.engine.errors import BpvizError
from bpviz.engine.ops import REGISTRY
from bpviz.export.common import ExportError, snapshot
from bpviz.scene import load_scene, parse_scene
from tests.export.graphs import EXAMPLES, SEEDS, random_scene

ONNX_NEEDED = "needs onnx and onnxruntime: pip install 'bpviz[onnx]'"
onnx = pytest.importorskip("onnx", reason=ONNX_NEEDED)
ort = pytest.importorskip("onnxruntime", reason=ONNX_NEEDED)

from bpviz.export import onnx_target  # noqa: E402  (after the skips: needs nothing, reads clearly)
from bpviz.export.onnx_target import ONNX_OPS, exported_output, write_onnx  # noqa: E402

SCENES = Path(__file__).resolve().parents[2] / "scenes"
ort.set_default_logger_severity(3)  # constant folding warns that LeakyRelu has no double kernel


def _export(scene: Any, path: Path) -> tuple[Any, str]:
    """Write the scene, check the file with onnx.checker and open it in onnxruntime."""
    snap = snapshot(scene)
    assert write_onnx(snap, path) == [path]
    onnx.checker.check_model(onnx.load(path), full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session, exported_output(snap)


def _run(session: Any, x: np.ndarray | None, y: np.ndarray | None) -> np.ndarray:
    names = {i.name for i in session.get_inputs()}
    feeds = {"inputs": x, "targets": None if y is None else np.asarray(y, np.float64)}
    (out,) = session.run(None, {k: v for k, v in feeds.items() if k in names})
    return out


def _check_matches(scene: Any, path: Path, rtol: float = 0.0) -> tuple[Any, str]:
    session, node = _export(scene, path)
    scene.session.forward()
    expected = scene.session.value(node)
    ds = scene.session.dataset
    got = _run(session, None if ds is None else ds.x_train, None if ds is None else ds.y_train)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-6)
    return session, node


# ---- example scenes -------------------------------------------------------------------------
@pytest.mark.parametrize("name", EXAMPLES)
def test_example_scenes_match_bpviz(tmp_path: Path, name: str) -> None:
    scene = load_scene(SCENES / f"{name}.json")
    session, node = _check_matches(scene, tmp_path / f"{name}.onnx")
    ds = scene.session.dataset
    if ds is None:
        assert not session.get_inputs()  # every source is frozen into the file
        return
    x = ds.x_test if len(ds.x_test) else ds.x_train[:5]
    for batch in (x, ds.x_train[:5], ds.x_train[:1]):
        np.testing.assert_allclose(
            _run(session, batch, np.zeros(len(batch))),
            scene.session.predict(batch, node),
            rtol=0,
            atol=1e-6,
        )


def test_loss_is_left_out_and_names_follow_the_scene(tmp_path: Path) -> None:
    scene = load_scene(SCENES / "xor.json")
    path = tmp_path / "xor.onnx"
    _export(scene, path)
    model = onnx.load(path)
    assert model.producer_name == "bpviz"
    assert model.graph.name == scene.name
    assert "left out" in model.doc_string
    assert [i.name for i in model.graph.input] == ["inputs"]
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["N", 2]
    assert [o.name for o in model.graph.output] == ["logit"]
    names = {n.name for n in model.graph.node}
    assert {"x", "hidden", "logit"} <= names and "loss" not in names and "t" not in names
    assert {t.name for t in model.graph.initializer} == {
        "hidden.W",
        "hidden.b",
        "logit.W",
        "logit.b",
    }
    docs = {n.name: n.doc_string for n in model.graph.node}
    assert docs["hidden"] == "bpviz dense 'hidden': y = sigmoid(x @ W + b)"
    assert docs["logit"] == "bpviz dense 'logit': y = (x @ W + b)"  # as the inspector says


# ---- seeded random graphs -------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_random_graphs_match_bpviz(tmp_path: Path, seed: int) -> None:
    scene = parse_scene(random_scene(seed))
    session, _ = _check_matches(scene, tmp_path / f"random{seed}.onnx", rtol=1e-9)
    assert not session.get_inputs()  # every source, input nodes with a value too, is frozen


def test_every_op_has_an_onnx_mapping() -> None:
    assert set(ONNX_OPS) == set(REGISTRY)


DATA = [
    ({"kind": "gauss", "n": 12, "seed": 1}, "bce", "column", 1),
    ({"kind": "xor", "n": 16, "seed": 2}, "hinge", "signs", 1),
    ({"kind": "linear", "n": 10, "features": 3, "seed": 3}, "mse", "column", 1),
    ({"kind": "spiral", "n": 12, "classes": 3, "seed": 4}, "cross_entropy", "labels", 3),
]


def _data_scene(seed: int, with_loss_output: bool) -> dict:
    """input -> dense -> activation -> loss with a target node fed from the data set."""
    data, loss, encoding, units = DATA[seed % len(DATA)]
    rng = np.random.default_rng(seed)
    act = str(rng.choice(["none", "tanh", "sigmoid", "relu"]))
    nodes = [
        {"id": "x", "op": "input", "inputs": {}, "attrs": {}},
        {"id": "h", "op": "dense", "inputs": {"x": "x"}, "attrs": {"units": 4, "activation": act}},
        {"id": "a", "op": "leaky_relu", "inputs": {"x": "h"}, "attrs": {"alpha": 0.2}},
        {"id": "p", "op": "dense", "inputs": {"x": "a"}, "attrs": {"units": units}},
        {"id": "t", "op": "target", "inputs": {}, "attrs": {"encoding": encoding}},
        {"id": "loss", "op": loss, "inputs": {"pred": "p", "target": "t"}, "attrs": {}},
        {"id": "k", "op": "const", "inputs": {}, "attrs": {"value": 0.5}},
        {"id": "scaled", "op": "mul", "inputs": {"a": "loss", "b": "k"}, "attrs": {}},
    ]
    out = "loss" if with_loss_output else "scaled"
    return {
        "format": "bpviz-scene",
        "version": 1,
        "name": f"data{seed}",
        "output": out,
        "nodes": nodes,
        "data": data,
    }


@pytest.mark.parametrize("seed", range(8))
def test_random_data_graphs_match_bpviz(tmp_path: Path, seed: int) -> None:
    """Losses inside the graph read `targets`, encoded in the graph; any batch size works."""
    scene = parse_scene(_data_scene(seed, with_loss_output=False))
    session, node = _check_matches(scene, tmp_path / f"data{seed}.onnx", rtol=1e-9)
    assert node == "scaled"
    assert {i.name for i in session.get_inputs()} == {"inputs", "targets"}
    x = scene.session.dataset.x_train[:5]
    np.testing.assert_allclose(
        _run(session, x, np.zeros(5)), scene.session.predict(x, node), rtol=1e-9, atol=1e-6
    )


@pytest.mark.parametrize("seed", range(4))
def test_data_graph_with_loss_output_exports_the_prediction(tmp_path: Path, seed: int) -> None:
    scene = parse_scene(_data_scene(seed, with_loss_output=True))
    session, node = _check_matches(scene, tmp_path / f"pred{seed}.onnx")
    assert node == "p"
    assert [i.name for i in session.get_inputs()] == ["inputs"]


def test_loss_whose_prediction_reads_targets_is_exported_whole(tmp_path: Path) -> None:
    raw = _data_scene(0, with_loss_output=True)
    raw["nodes"].insert(5, {"id": "tm", "op": "mean", "inputs": {"x": "t"}, "attrs": {}})
    raw["nodes"].insert(6, {"id": "q", "op": "sub", "inputs": {"a": "p", "b": "tm"}, "attrs": {}})
    raw["nodes"][7]["inputs"]["pred"] = "q"
    session, node = _check_matches(parse_scene(raw), tmp_path / "whole.onnx")
    assert node == "loss"
    assert session.get_outputs()[0].shape == []


# ---- odd shapes -----------------------------------------------------------------------------
def _scene(output: str, *nodes: tuple[str, str, dict, dict]) -> dict:
    return {
        "format": "bpviz-scene",
        "version": 1,
        "name": "edge",
        "output": output,
        "nodes": [{"id": i, "op": op, "inputs": ins, "attrs": at} for i, op, ins, at in nodes],
    }


V = ("v", "const", {}, {"value": [0.5, -1.0, 2.0]})
M = ("m", "const", {}, {"value": [[1.0, 2.0], [0.5, -1.0], [-2.0, 0.25]]})
S = ("s", "param", {}, {"value": 1.5})
T3 = ("t", "const", {}, {"value": [[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]]})
EDGE_CASES = {
    "vector@matrix": _scene("y", V, M, ("y", "matmul", {"a": "v", "b": "m"}, {})),
    "matrix.T@vector": _scene(
        "y",
        V,
        ("mt", "const", {}, {"value": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]}),
        ("y", "matmul", {"a": "mt", "b": "v"}, {}),
    ),
    "vector@vector": _scene("y", V, ("y", "matmul", {"a": "v", "b": "v"}, {})),
    "dense on a vector": _scene(
        "y", V, ("y", "dense", {"x": "v"}, {"units": 2, "activation": "tanh"})
    ),
    "scalars": _scene(
        "y", S, ("e", "exp", {"x": "s"}, {}), ("y", "pow", {"x": "e"}, {"exponent": 1.5})
    ),
    "scalar sum and mean": _scene(
        "y", S, ("a", "sum", {"x": "s"}, {}), ("y", "mean", {"x": "a"}, {"axis": []})
    ),
    "unbatched cross_entropy": _scene(
        "y",
        V,
        ("l", "const", {}, {"value": 2.0}),
        ("y", "cross_entropy", {"pred": "v", "target": "l"}, {}),
    ),
    "source as output": _scene("v", V),
    "softmax of a vector": _scene("y", V, ("y", "softmax", {"x": "v"}, {})),
    **{
        f"{op} axis={axis}": _scene("y", T3, ("y", op, {"x": "t"}, {"axis": axis}))
        for op in ("sum", "mean")
        for axis in (None, 0, 2, -1, -3, [0, 2], [-1, 1], [], [0, 1, 2])
    },
    **{
        f"{op} axis={axis} keepdims": _scene(
            "y", T3, ("y", op, {"x": "t"}, {"axis": axis, "keepdims": True})
        )
        for op in ("sum", "mean")
        for axis in (None, 0, [-1, 1], [])
    },
}


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
def test_edge_cases_match_bpviz(tmp_path: Path, case: str) -> None:
    _check_matches(parse_scene(EDGE_CASES[case]), tmp_path / "edge.onnx")


def test_a_node_id_that_clashes_with_graph_input_names(tmp_path: Path) -> None:
    raw = _data_scene(0, with_loss_output=False)
    for n in raw["nodes"]:  # rename x -> inputs and t -> targets everywhere
        n["id"] = {"x": "inputs", "t": "targets"}.get(n["id"], n["id"])
        n["inputs"] = {p: {"x": "inputs", "t": "targets"}.get(s, s) for p, s in n["inputs"].items()}
    _check_matches(parse_scene(raw), tmp_path / "clash.onnx")


# ---- failures -------------------------------------------------------------------------------
def test_unsupported_op_names_node_and_op(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scene = load_scene(SCENES / "xor.json")
    monkeypatch.delitem(onnx_target.ONNX_OPS, "dense")
    out = tmp_path / "xor.onnx"
    with pytest.raises(ExportError, match="node 'hidden': op 'dense' cannot be exported to onnx"):
        write_onnx(snapshot(scene), out)
    assert not out.exists()


def test_missing_onnx_package_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scene = load_scene(SCENES / "chain_rule.json")
    monkeypatch.setitem(sys.modules, "onnx", None)
    out = tmp_path / "chain.onnx"
    with pytest.raises(BpvizError, match=r"bpviz\[onnx\]"):
        write_onnx(snapshot(scene), out)
    assert not out.exists()
