"""export → import → export: bpviz's own ONNX files come back as the scene they were."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("onnx", reason="ONNX export and import need the onnx package")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime runs both files")

from bpviz.export.common import snapshot  # noqa: E402
from bpviz.export.onnx_target import onnx_model  # noqa: E402
from bpviz.interop.onnx_import import onnx_to_scene  # noqa: E402
from bpviz.scene import Scene, load_scene, parse_scene  # noqa: E402

SCENES = Path(__file__).resolve().parents[2] / "scenes"
EXAMPLES = sorted(p.name for p in SCENES.glob("*.json"))


def outputs(m: Any, snap_x: np.ndarray | None) -> np.ndarray:
    session = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = {i.name: snap_x for i in session.get_inputs()}
    return session.run(None, feeds)[0]


def round_trip(scene: Scene) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    snap = snapshot(scene)
    first = onnx_model(snap)
    imported = onnx_to_scene(first)
    if snap.x is not None:  # the imported scene has no data: give its input the features
        for n in imported["nodes"]:
            if n["op"] == "input":
                n["attrs"]["value"] = snap.x.tolist()
    second = onnx_model(snapshot(parse_scene(imported)))
    return outputs(first, snap.x), outputs(second, None), imported


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_scenes_round_trip(name: str) -> None:
    scene = load_scene(SCENES / name)
    before, after, imported = round_trip(scene)
    np.testing.assert_allclose(after, before, rtol=1e-12, atol=1e-12)
    # the ids come back: the exporter names each bpviz node's last ONNX node after it
    ids = {n["id"] for n in imported["nodes"]}
    if scene.session.features:  # data.transforms come back as nodes computing them from
        inputs = [n.id for n in scene.graph if n.op == "input"]  # the raw features
        ids = {i for i in ids if i != "inputs" and not i.startswith(tuple(f"{x}_" for x in inputs))}
    assert ids <= set(scene.graph.nodes)


def test_every_importable_op_round_trips() -> None:
    """One scene using each bpviz op the ONNX import can produce."""
    nodes = [
        ("x", "input", {}, {"value": [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]}),
        ("W", "param", {}, {"value": [[0.5, -0.2], [0.1, 0.3], [-0.4, 0.6]]}),
        ("mm", "matmul", {"a": "x", "b": "W"}, {}),
        ("d", "dense", {"x": "x"}, {"units": 2, "activation": "tanh", "init": "xavier"}),
        ("s", "sub", {"a": "mm", "b": "d"}, {}),
        ("m", "mul", {"a": "s", "b": "d"}, {}),
        ("n", "neg", {"x": "m"}, {}),
        ("e", "exp", {"x": "n"}, {}),
        ("sq", "pow", {"x": "e"}, {"exponent": 2.0}),
        ("l", "log", {"x": "sq"}, {}),
        ("q", "div", {"a": "l", "b": "e"}, {}),
        ("lr", "leaky_relu", {"x": "q"}, {"alpha": 0.1}),
        ("r", "relu", {"x": "lr"}, {}),
        ("sg", "sigmoid", {"x": "q"}, {}),
        ("a", "add", {"a": "r", "b": "sg"}, {}),
        ("sm", "softmax", {"x": "a"}, {}),
        ("c1", "column", {"x": "sm"}, {"index": 1}),
        ("cc", "concat", {"a": "sm", "b": "c1"}, {}),
        ("su", "sum", {"x": "cc"}, {"axis": 0}),
        ("me", "mean", {"x": "su"}, {}),
    ]
    d = {
        "format": "bpviz-scene",
        "version": 1,
        "output": "me",
        "nodes": [
            {"id": i, "op": op, "inputs": ins, "attrs": attrs} for i, op, ins, attrs in nodes
        ],
    }
    scene = parse_scene(d)
    before, after, imported = round_trip(scene)
    np.testing.assert_allclose(after, before, rtol=1e-12, atol=1e-12)
    # without data the input is frozen into the file, so it comes back as a param
    computed = [(n["id"], n["op"]) for n in imported["nodes"] if n["op"] != "param"]
    assert computed == [(i, op) for i, op, _, _ in nodes if op not in ("param", "input")]
