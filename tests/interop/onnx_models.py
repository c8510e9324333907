"""Small ONNX models written with onnx.helper, the way other tools write them (not by bpviz)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="ONNX import needs the onnx package")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime is the reference")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

FLOAT, DOUBLE = TensorProto.FLOAT, TensorProto.DOUBLE


def model(
    nodes: list[Any],
    inits: dict[str, np.ndarray] | None = None,
    x_shape: list[Any] | None = None,
    elem: int = DOUBLE,
    opset: int = 18,
    out: str = "y",
) -> Any:
    """A checked model with one input `x` (default shape [N, 3], batch dynamic)."""
    inputs = [helper.make_tensor_value_info("x", elem, x_shape or ["N", 3])]
    graph = helper.make_graph(
        nodes,
        "test",
        inputs,
        [helper.make_tensor_value_info(out, elem, None)],
        initializer=[numpy_helper.from_array(v, k) for k, v in (inits or {}).items()],
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    m = onnx.shape_inference.infer_shapes(m)  # fills in the output's shape, as exporters do
    onnx.checker.check_model(m, full_check=True)
    return m


def node(op: str, inputs: list[str], output: str = "y", name: str | None = None, **attrs: Any):  # noqa: ANN201
    return helper.make_node(op, inputs, [output], name=name or output, **attrs)


def run_ort(m: Any, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def mlp(rng: np.random.Generator) -> Any:
    """An MLP as exporters write one: Gemm with transB, MatMul + Add, Relu, Tanh, Sigmoid;
    float32; the batch dimension dynamic."""
    f32 = np.float32
    inits = {
        "fc1.weight": rng.standard_normal((5, 2)).astype(f32),  # (out, in): transB=1
        "fc1.bias": rng.standard_normal(5).astype(f32),
        "fc2.weight": rng.standard_normal((5, 4)).astype(f32),
        "fc2.bias": rng.standard_normal(4).astype(f32),
        "fc3.weight": rng.standard_normal((4, 1)).astype(f32),
        "fc3.bias": rng.standard_normal(1).astype(f32),
    }
    nodes = [
        node("Gemm", ["x", "fc1.weight", "fc1.bias"], "h1", "/fc1/Gemm", transB=1),
        node("Relu", ["h1"], "r1", "/act1/Relu"),
        node("MatMul", ["r1", "fc2.weight"], "m2", "/fc2/MatMul"),
        node("Add", ["m2", "fc2.bias"], "h2", "/fc2/Add"),
        node("Tanh", ["h2"], "t2", "/act2/Tanh"),
        node("Gemm", ["t2", "fc3.weight", "fc3.bias"], "h3", "/fc3/Gemm"),
        node("Sigmoid", ["h3"], "y", "/out/Sigmoid"),
    ]
    return model(nodes, inits, ["batch", 2], FLOAT, opset=17)


def constant(output: str, value: np.ndarray):  # noqa: ANN201
    """A Constant node, as some exporters write fixed numbers instead of initializers."""
    return helper.make_node(
        "Constant", [], [output], name=output, value=numpy_helper.from_array(value, output)
    )
