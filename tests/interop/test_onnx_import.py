"""ONNX import: every supported op against onnxruntime, the unsupported ones by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bpviz.cli import main
from bpviz.engine.errors import BpvizError
from bpviz.interop.files import load_any
from bpviz.interop.onnx_import import ONNX_IMPORTS, import_onnx, onnx_to_scene
from bpviz.scene import load_scene, parse_scene
from tests.interop.onnx_models import constant, mlp, model, node, onnx, run_ort

RNG = np.random.default_rng(7)
X = RNG.standard_normal((5, 3))
SUPPORTED = [
    *("Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Neg", "Exp", "Log", "Pow", "Relu"),
    *("LeakyRelu", "Tanh", "Sigmoid", "Softmax", "ReduceSum", "ReduceMean", "Identity"),
    "Flatten", "Concat", "Slice",
]


def evaluate(scene: dict[str, Any], x: np.ndarray) -> np.ndarray:
    """The scene's output with its input node set to `x`."""
    for n in scene["nodes"]:
        if n["op"] == "input":
            n["attrs"]["value"] = x.tolist()
    return np.asarray(parse_scene(scene).forward())


def ops(scene: dict[str, Any]) -> list[str]:
    return [n["op"] for n in scene["nodes"]]


def test_every_op_the_issue_lists_has_an_entry() -> None:
    assert [op for op in SUPPORTED if op not in ONNX_IMPORTS] == []


W = RNG.standard_normal((3, 4))
C4 = RNG.standard_normal(4)
POS = np.abs(RNG.standard_normal((1, 3))) + 0.5

# (name, nodes, initializers, opset, bpviz ops expected, input shape or None)
CASES = [
    ("gemm-dense", [node("Gemm", ["x", "W", "c"], transB=1, alpha=0.5, beta=2.0)],
     {"W": W.T.copy(), "c": C4}, 18, ["input", "dense"], None),
    ("gemm-no-bias", [node("Gemm", ["x", "W"])], {"W": W}, 18, ["input", "dense"], None),
    ("gemm-transA-matrix-bias",
     [node("Gemm", ["A", "x", "C"], transA=1, alpha=1.5, beta=0.5)],
     {"A": RNG.standard_normal((4, 2)), "C": RNG.standard_normal((2, 3))}, 18,
     ["input", "param", "matmul", "const", "mul", "param", "const", "mul", "add"], [4, 3]),
    ("gemm-computed-bias", [node("Neg", ["x"], "n"), node("Gemm", ["x", "W", "n"])],
     {"W": RNG.standard_normal((3, 3))}, 18,
     ["input", "neg", "param", "matmul", "add"], None),
    ("matmul", [node("MatMul", ["x", "W"])], {"W": W}, 18, ["input", "param", "matmul"], None),
    ("matmul-add-dense", [node("MatMul", ["x", "W"], "m"), node("Add", ["c", "m"])],
     {"W": W, "c": C4}, 18, ["input", "dense"], None),
    ("add", [node("Add", ["x", "c"])], {"c": POS}, 18, ["input", "param", "add"], None),
    ("sub", [node("Sub", ["c", "x"])], {"c": POS}, 18, ["input", "param", "sub"], None),
    ("mul", [node("Mul", ["x", "x"])], {}, 18, ["input", "mul"], None),
    ("div", [node("Div", ["x", "c"])], {"c": POS}, 18, ["input", "param", "div"], None),
    ("neg", [node("Neg", ["x"])], {}, 18, ["input", "neg"], None),
    ("exp", [node("Exp", ["x"])], {}, 18, ["input", "exp"], None),
    ("log", [node("Mul", ["x", "x"], "s"), node("Add", ["s", "c"], "p"), node("Log", ["p"])],
     {"c": POS}, 18, ["input", "mul", "param", "add", "log"], None),
    ("pow", [node("Pow", ["x", "e"])], {"e": np.array(3.0)}, 18, ["input", "pow"], None),
    ("relu", [node("Relu", ["x"])], {}, 18, ["input", "relu"], None),
    ("leaky-relu", [node("LeakyRelu", ["x"], alpha=0.2)], {}, 18, ["input", "leaky_relu"], None),
    ("tanh", [node("Tanh", ["x"])], {}, 18, ["input", "tanh"], None),
    ("sigmoid", [node("Sigmoid", ["x"])], {}, 18, ["input", "sigmoid"], None),
    ("softmax", [node("Softmax", ["x"])], {}, 18, ["input", "softmax"], None),
    ("softmax-opset11", [node("Softmax", ["x"], axis=1)], {}, 11, ["input", "softmax"], None),
    ("reducesum-axes-input", [node("ReduceSum", ["x", "ax"], keepdims=0)],
     {"ax": np.array([1])}, 18, ["input", "sum"], None),
    ("reducesum-all", [node("ReduceSum", ["x"], keepdims=0)], {}, 18, ["input", "sum"], None),
    ("reducemean-axes-attr", [node("ReduceMean", ["x"], axes=[0], keepdims=0)], {}, 13,
     ["input", "mean"], None),
    ("reducemean-axes-input", [node("ReduceMean", ["x", "ax"], keepdims=0)],
     {"ax": np.array([-1, 0])}, 18, ["input", "mean"], None),
    ("reducesum-keepdims-default", [node("ReduceSum", ["x", "ax"])], {"ax": np.array([1])}, 18,
     ["input", "sum"], None),
    ("reducemean-keepdims-all", [node("ReduceMean", ["x"], keepdims=1)], {}, 18,
     ["input", "mean"], None),
    ("reduce-noop",
     [node("ReduceSum", ["x", "ax"], "r", keepdims=0, noop_with_empty_axes=1), node("Neg", ["r"])],
     {"ax": np.zeros(0, np.int64)}, 18, ["input", "neg"], None),
    ("identity", [node("Identity", ["x"], "i"), node("Tanh", ["i"])], {}, 18,
     ["input", "tanh"], None),
    ("flatten", [node("Flatten", ["x"], "f"), node("Exp", ["f"])], {}, 18, ["input", "exp"], None),
    ("constant", [constant("k", np.array([[2.0, -1.0, 0.5]])), node("Mul", ["x", "k"])],
     {}, 18, ["input", "const", "mul"], None),
    ("concat", [node("Neg", ["x"], "n"), node("Concat", ["x", "c", "n"], axis=-1)],
     {"c": RNG.standard_normal((5, 2))}, 18, ["input", "neg", "param", "concat", "concat"], [5, 3]),
    ("slice-column",
     [node("Slice", ["x", "s", "e", "a"])],
     {"s": np.array([1]), "e": np.array([2]), "a": np.array([-1])}, 18, ["input", "column"], None),
    ("slice-column-opset9", [node("Slice", ["x"], starts=[2], ends=[3], axes=[1])], {}, 9,
     ["input", "column"], None),
]


@pytest.mark.parametrize(
    ("nodes", "inits", "opset", "expected", "shape"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_op_matches_onnxruntime(nodes, inits, opset, expected, shape) -> None:  # noqa: ANN001
    m = model(nodes, inits, x_shape=shape, opset=opset)
    x = X if shape is None else RNG.standard_normal(shape)
    scene = onnx_to_scene(m)
    assert ops(scene) == expected
    np.testing.assert_allclose(evaluate(scene, x), run_ort(m, x), rtol=1e-12, atol=1e-13)


def test_every_supported_op_has_a_case() -> None:
    used = {n.op_type for c in CASES for n in c[1]}
    assert [op for op in SUPPORTED if op not in used] == []


def test_mlp_written_elsewhere_imports_and_evaluates_like_onnxruntime(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    m = mlp(np.random.default_rng(1))
    path = tmp_path / "mlp.onnx"
    onnx.save(m, path)
    out = tmp_path / "scene.json"
    assert main(["import", str(path), "--out", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    scene = load_scene(out).to_dict()
    dense = [(n["id"], n["attrs"]) for n in scene["nodes"] if n["op"] == "dense"]
    assert dense == [
        ("fc1_Gemm", {"units": 5, "activation": "relu"}),
        ("fc2_MatMul", {"units": 4, "activation": "tanh"}),
        ("fc3_Gemm", {"units": 1, "activation": "sigmoid"}),
    ]
    weights = {t.name: onnx.numpy_helper.to_array(t) for t in m.graph.initializer}
    params = scene["state"]["params"]
    assert params["fc1_Gemm"]["W"] == weights["fc1.weight"].T.astype(np.float64).tolist()
    assert params["fc2_MatMul"]["b"] == weights["fc2.bias"].astype(np.float64).tolist()
    for batch in (1, 7):  # the batch dimension is dynamic
        x = np.random.default_rng(batch).standard_normal((batch, 2)).astype(np.float32)
        expected = run_ort(m, x)
        np.testing.assert_allclose(evaluate(scene, x.astype(np.float64)), expected, atol=1e-5)


def test_input_value_is_zeros_with_dynamic_dims_set_to_one() -> None:
    scene = onnx_to_scene(mlp(np.random.default_rng(1)))
    first = scene["nodes"][0]
    assert (first["id"], first["op"], first["attrs"]) == ("x", "input", {"value": [[0.0, 0.0]]})
    assert scene["data"] is None


def test_unsupported_ops_are_named_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    m = model(
        [
            node("Relu", ["x"], "r"),
            node("Reshape", ["r", "shape"], "s", "reshape1"),
            node("Abs", ["s"]),
        ],
        {"shape": np.array([-1], np.int64)},
    )
    path = tmp_path / "m.onnx"
    onnx.save(m, path)
    out = tmp_path / "m.json"
    assert main(["import", str(path), "--out", str(out)]) == 2
    assert capsys.readouterr().err == (
        f"bpviz: error: {path}: cannot import the model: unsupported 'reshape1' (Reshape),"
        " 'y' (Abs)\n"
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("nodes", "inits", "opset", "message"),
    [
        ([node("Softmax", ["x"], "y", "sm", axis=0)], {}, 18,
         "node 'sm' (Softmax): unsupported: only the last axis (axis 0 of a rank-2 input)"),
        ([node("Pow", ["x", "x"], "y", "p")], {}, 18,
         "node 'p' (Pow): unsupported: the exponent must be one number fixed in the model"),
        ([node("Gemm", ["x", "x"], "y", "g", transB=1)], {}, 18,
         "node 'g' (Gemm): unsupported: a transposed input must be fixed in the model"
         " ('x' is not)"),
        ([node("Flatten", ["x"], "y", "f", axis=0)], {}, 18,
         "node 'f' (Flatten): unsupported: only Flatten(axis=1) of a 2-D input"
         " (got rank 2, axis 0)"),
        ([node("Concat", ["x", "x"], "y", "cat", axis=0)], {}, 18,
         "node 'cat' (Concat): unsupported: only the last axis (axis 0 of a rank-2 input)"),
        ([node("Slice", ["x", "s", "e"], "y", "sl")], {"s": np.array([0]), "e": np.array([2])},
         18, "node 'sl' (Slice): unsupported: only the last axis (axis 0 of a rank-2 input)"),
    ],
    ids=[
        "softmax-axis", "pow-computed", "gemm-transposed-computed", "flatten-axis",
        "concat-axis", "slice-two-columns",
    ],
)
def test_unsupported_uses_name_node_and_op(nodes, inits, opset, message) -> None:  # noqa: ANN001
    with pytest.raises(BpvizError) as e:
        onnx_to_scene(model(nodes, inits, opset=opset))
    assert str(e.value).startswith(message)


def test_two_inputs_are_refused() -> None:
    from onnx import TensorProto, helper

    g = helper.make_graph(
        [node("Add", ["x", "z"])],
        "two",
        [helper.make_tensor_value_info(n, TensorProto.DOUBLE, [2]) for n in ("x", "z")],
        [helper.make_tensor_value_info("y", TensorProto.DOUBLE, [2])],
    )
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    with pytest.raises(BpvizError, match=r"the model has 2 inputs \('x', 'z'\); bpviz takes one"):
        onnx_to_scene(m)


def test_files_that_are_not_models(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\xff\x00 not protobuf")
    with pytest.raises(BpvizError, match=rf"^{bad}: not a valid ONNX model"):
        import_onnx(bad)
    with pytest.raises(BpvizError, match=rf"^{tmp_path / 'none.onnx'}: no such file$"):
        import_onnx(tmp_path / "none.onnx")
    with pytest.raises(BpvizError, match=rf"^{tmp_path}: not a file$"):
        import_onnx(tmp_path)


def test_load_any_picks_the_reader_by_suffix(tmp_path: Path) -> None:
    m = mlp(np.random.default_rng(1))
    onnx.save(m, tmp_path / "mlp.onnx")
    from_onnx = load_any(tmp_path / "mlp.onnx")
    assert ops(from_onnx) == ["input", "dense", "dense", "dense"]
    assert from_onnx["name"] == "mlp"
    from bpviz.scene import save_scene_dict

    save_scene_dict(from_onnx, tmp_path / "mlp.json")
    assert load_any(tmp_path / "mlp.json") == load_scene(tmp_path / "mlp.json").to_dict()
    with pytest.raises(BpvizError, match="not valid JSON"):
        (tmp_path / "x.json").write_text("{")
        load_any(tmp_path / "x.json")
