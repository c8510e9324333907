"""Formulas with numbers: the local derivatives shown agree with finite differences."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from bpviz.engine.formulas import explain, fill_attrs, fmt_number
from bpviz.engine.ops import REGISTRY

A = np.asarray

# op -> (attrs, inputs by port, params); every input a single number (or a size-1 array where
# the op wants at least one dimension), so the output is one number too.
SCALAR_CASES: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = {
    "add": ({}, {"a": 0.7, "b": -1.3}, {}),
    "sub": ({}, {"a": 0.7, "b": -1.3}, {}),
    "mul": ({}, {"a": 0.7, "b": -1.3}, {}),
    "div": ({}, {"a": 0.7, "b": -1.3}, {}),
    "neg": ({}, {"x": 0.4}, {}),
    "exp": ({}, {"x": 0.4}, {}),
    "log": ({}, {"x": 1.7}, {}),
    "pow": ({"exponent": 3.0}, {"x": 1.5}, {}),
    "tanh": ({}, {"x": 0.5493}, {}),
    "sigmoid": ({}, {"x": -0.8}, {}),
    "relu": ({}, {"x": 0.8}, {}),
    "leaky_relu": ({"alpha": 0.1}, {"x": -0.6}, {}),
    "softmax": ({}, {"x": [0.3]}, {}),
    "matmul": ({}, {"a": [0.4], "b": [-2.0]}, {}),
    "sum": ({}, {"x": 0.9}, {}),
    "mean": ({}, {"x": [[0.9]]}, {}),
    "dense": (
        {"units": 1, "activation": "tanh"},
        {"x": [0.5]},
        {"W": [[0.8]], "b": [0.1]},
    ),
    "column": ({"index": 1}, {"x": [[0.4, -0.9]]}, {}),
    "concat": ({}, {"a": [0.4], "b": np.zeros(0)}, {}),
    "mse": ({}, {"pred": 0.3, "target": 1.0}, {}),
    "bce": ({}, {"pred": 0.3, "target": 1.0}, {}),
    "hinge": ({}, {"pred": 0.3, "target": 1.0}, {}),
    "cross_entropy": ({}, {"pred": [[0.2]], "target": [0]}, {}),
    "const": ({"value": 2.5}, {}, {}),
    "input": ({"value": 0.5}, {}, {}),
    "target": ({"value": 1.0}, {}, {}),
    "param": ({}, {}, {"value": 0.3}),
}

# a scalar output over array inputs: the local derivative is the whole gradient
ARRAY_SCALAR_OUT = {
    "sum": ({"axis": None}, {"x": [1.0, -2.0, 0.5]}, {}),
    "mean": ({}, {"x": [[1.0, -2.0], [0.5, 3.0]]}, {}),
    "mse": ({}, {"pred": [0.3, -0.2, 1.1], "target": [1.0, 0.0, 1.0]}, {}),
    "bce": ({}, {"pred": [0.3, -0.2], "target": [1.0, 0.0]}, {}),
    "hinge": ({}, {"pred": [0.3, -0.2], "target": [1.0, -1.0]}, {}),
    "cross_entropy": ({}, {"pred": [[0.2, -0.4, 1.0], [0.5, 0.1, -0.3]]}, {}),
    "matmul": ({}, {"a": [0.4, 1.2], "b": [-2.0, 0.3]}, {}),
}
ARRAY_SCALAR_OUT["cross_entropy"][1]["target"] = [2, 0]

NO_GRADIENT = {("cross_entropy", "target")}  # integer labels: no derivative to check


def _run(op: str, case: tuple[dict, dict, dict]):  # noqa: ANN202
    spec = REGISTRY[op]
    attrs, raw_inputs, raw_params = case
    full = {**spec.default_attrs(), **attrs}
    inputs = {p: A(v, dtype=np.float64) for p, v in raw_inputs.items()}
    params = {k: A(v, dtype=np.float64) for k, v in raw_params.items()}
    output = spec.forward([inputs[p] for p in spec.inputs], full, params)
    return spec, full, inputs, params, output


def _finite_difference(spec, attrs, inputs, params, port, h=1e-6) -> np.ndarray:  # noqa: ANN001
    x = inputs[port]
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        values = []
        for step in (h, -h):
            moved = x.copy()
            moved[i] += step
            xs = [moved if p == port else inputs[p] for p in spec.inputs]
            values.append(np.asarray(spec.forward(xs, attrs, params)).item())
        grad[i] = (values[0] - values[1]) / (2 * h)
    return grad


def test_every_registered_op_has_a_scalar_case() -> None:
    assert set(SCALAR_CASES) == set(REGISTRY)


@pytest.mark.parametrize("op", sorted(SCALAR_CASES))
def test_scalar_local_derivatives_agree_with_finite_differences(op: str) -> None:
    spec, attrs, inputs, params, output = _run(op, SCALAR_CASES[op])
    explanation = explain(spec, attrs, inputs, output, params)
    assert output.size == 1
    for port in spec.inputs:
        if (op, port) in NO_GRADIENT:
            continue
        assert port in explanation.local, f"{op}: no local derivative for {port}"
        fd = _finite_difference(spec, attrs, inputs, params, port)
        np.testing.assert_allclose(explanation.local[port], fd, atol=1e-5, rtol=1e-5)
        assert explanation.local[port].shape == inputs[port].shape


@pytest.mark.parametrize("op", sorted(ARRAY_SCALAR_OUT))
def test_array_inputs_with_scalar_output_give_the_whole_gradient(op: str) -> None:
    spec, attrs, inputs, params, output = _run(op, ARRAY_SCALAR_OUT[op])
    explanation = explain(spec, attrs, inputs, output, params)
    for port in spec.inputs:
        if (op, port) in NO_GRADIENT:
            continue
        fd = _finite_difference(spec, attrs, inputs, params, port)
        np.testing.assert_allclose(explanation.local[port], fd, atol=1e-5, rtol=1e-5)


def test_param_local_derivatives_agree_with_finite_differences() -> None:
    spec, attrs, inputs, params, output = _run("dense", SCALAR_CASES["dense"])
    explanation = explain(spec, attrs, inputs, output, params)
    for name, value in params.items():
        fd = np.zeros_like(value)
        for i in np.ndindex(value.shape):
            ys = []
            for step in (1e-6, -1e-6):
                moved = {**params, name: value.copy()}
                moved[name][i] += step
                ys.append(float(spec.forward([inputs["x"]], attrs, moved)[0]))
            fd[i] = (ys[0] - ys[1]) / 2e-6
        np.testing.assert_allclose(explanation.local_params[name], fd, atol=1e-5)


def test_tanh_reads_like_the_issue() -> None:
    spec = REGISTRY["tanh"]
    x = A(0.5493)
    explanation = explain(spec, {}, {"x": x}, np.tanh(x))
    assert explanation.formula == "y = tanh(x) = tanh(0.5493) = 0.5"
    assert explanation.derivative == ("dy/dx = 1 − y² = 0.75",)
    assert explanation.text.splitlines() == [explanation.formula, *explanation.derivative]


def test_binary_op_has_one_line_per_input_with_its_number() -> None:
    spec, attrs, inputs, params, output = _run("mul", SCALAR_CASES["mul"])
    explanation = explain(spec, attrs, inputs, output)
    assert explanation.formula == "y = a · b = 0.7 · (−1.3) = −0.91"
    assert explanation.derivative == ("∂y/∂a = b = −1.3", "∂y/∂b = a = 0.7")


def test_attr_placeholders_are_filled() -> None:
    spec, attrs, inputs, params, output = _run("pow", SCALAR_CASES["pow"])
    explanation = explain(spec, attrs, inputs, output)
    assert explanation.formula == "y = x^3 = 1.5^3 = 3.375"
    assert explanation.derivative == ("dy/dx = 3·x^(3−1) = 6.75",)
    assert fill_attrs("{unknown} {exponent}", {"exponent": 2.0}) == "{unknown} 2"


def test_loss_ports_map_to_their_symbols() -> None:
    spec, attrs, inputs, params, output = _run("mse", SCALAR_CASES["mse"])
    explanation = explain(spec, attrs, inputs, output)
    assert explanation.formula.endswith("= mean((0.3 − 1)²) = 0.49")
    assert explanation.derivative[0].startswith("∂L/∂p = 2(p − t)/n = ")
    assert explanation.derivative[1].startswith("∂L/∂t = ")


ARRAY_CASES: dict[str, tuple[dict, dict, dict]] = {
    "add": ({}, {"a": np.ones((2, 3)), "b": [1.0, 2.0, 3.0]}, {}),
    "tanh": ({}, {"x": [[0.1, -0.4], [2.0, 0.0]]}, {}),
    "softmax": ({}, {"x": [[0.1, -0.4, 1.0]]}, {}),
    "matmul": ({}, {"a": np.ones((2, 3)), "b": np.ones((3, 4))}, {}),
    "dense": ({"units": 2}, {"x": np.ones((5, 3))}, {"W": np.ones((3, 2)), "b": np.zeros(2)}),
    "sum": ({"axis": 0}, {"x": np.ones((2, 3))}, {}),
    "const": ({"value": [[1.0, 2.0]]}, {}, {}),
    "param": ({}, {}, {"value": np.ones((2, 2))}),
}


@pytest.mark.parametrize("op", sorted(REGISTRY))
def test_every_op_renders_for_scalars_arrays_and_unknowns(op: str) -> None:
    spec = REGISTRY[op]
    for case in filter(None, (SCALAR_CASES.get(op), ARRAY_CASES.get(op), ARRAY_SCALAR_OUT.get(op))):
        _, attrs, inputs, params, output = _run(op, case)
        explanation = explain(spec, attrs, inputs, output, params)
        assert explanation.formula.startswith(spec.formula.split(" = ")[0])
        assert "{" not in explanation.text
        assert len(explanation.derivative) >= len(spec.inputs)
        if output.size > 1:
            assert "array" in explanation.formula
    unknown = explain(spec, {}, None, None)
    assert unknown.formula == fill_attrs(spec.formula, spec.default_attrs())
    assert unknown.local == {}
    missing_params = explain(spec, {}, {p: A(1.0) for p in spec.inputs}, A(1.0), None)
    assert isinstance(missing_params.text, str)


def test_array_output_is_summarised_not_listed() -> None:
    spec, attrs, inputs, params, output = _run("tanh", ARRAY_CASES["tanh"])
    explanation = explain(spec, attrs, inputs, output)
    assert "(2, 2) array" in explanation.formula
    assert explanation.local == {}  # no single number for ∂y/∂x of an array output
    assert "(2, 2) array" in explanation.derivative[0]


def test_numbers_use_four_significant_digits_and_a_real_minus() -> None:
    assert fmt_number(0.549306) == "0.5493"
    assert fmt_number(-0.75) == "−0.75"
    assert fmt_number(-0.0) == "0"
    assert fmt_number(A([3.0])) == "3"
