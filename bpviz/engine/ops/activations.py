"""Nonlinearities. Each derivative is written in terms of the output where that is cheaper."""

from __future__ import annotations

import numpy as np

from bpviz.engine.ops.base import AttrSpec, OpSpec, no_params_backward, register
from bpviz.engine.ops.math import _unary


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function (no overflow warning for large |x|)."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softmax(x: np.ndarray) -> np.ndarray:
    z = x - x.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


ACTIVATIONS = {
    "none": (lambda x: x, lambda y: 1.0),
    "relu": (lambda x: np.maximum(x, 0.0), lambda y: y > 0.0),  # 0.0: no int to convert
    "tanh": (np.tanh, lambda y: 1.0 - y * y),
    "sigmoid": (sigmoid, lambda y: y * (1.0 - y)),
}
"""name -> (function, derivative written in terms of the function's output)."""

_unary(
    "tanh",
    lambda x, a: np.tanh(x),
    lambda x, y, a: 1.0 - y * y,
    "Hyperbolic tangent, squashes to (−1, 1).",
    "y = tanh(x)",
    "dy/dx = 1 − y²",
    category="activations",
)
_unary(
    "sigmoid",
    lambda x, a: sigmoid(x),
    lambda x, y, a: y * (1.0 - y),
    "Logistic sigmoid, squashes to (0, 1).",
    "y = 1 / (1 + e^−x)",
    "dy/dx = y·(1 − y)",
    category="activations",
)
_unary(
    "relu",
    lambda x, a: np.maximum(x, 0.0),
    lambda x, y, a: (x > 0).astype(np.float64),
    "Rectified linear unit: max(x, 0).",
    "y = max(x, 0)",
    "dy/dx = 1 if x > 0 else 0",
    category="activations",
)
_unary(
    "leaky_relu",
    lambda x, a: np.where(x > 0, x, a.get("alpha", 0.01) * x),
    lambda x, y, a: np.where(x > 0, 1.0, a.get("alpha", 0.01)),
    "Like relu but lets a small slope through for x < 0.",
    "y = x if x > 0 else {alpha}·x",
    "dy/dx = 1 if x > 0 else {alpha}",
    category="activations",
    attrs={"alpha": AttrSpec("float", 0.01, doc="slope for x < 0", minimum=0.0)},
)


def _softmax_backward(g, xs, out, attrs):  # noqa: ANN001, ANN202
    return (out * (g - (g * out).sum(axis=-1, keepdims=True)),)


register(
    OpSpec(
        name="softmax",
        inputs=("x",),
        forward=lambda xs, a, p: softmax(xs[0]),
        backward=no_params_backward(_softmax_backward),
        category="activations",
        doc="Turns scores into probabilities along the last axis.",
        formula="yᵢ = e^xᵢ / Σⱼ e^xⱼ",
        derivative="∂L/∂xᵢ = yᵢ·(gᵢ − Σⱼ gⱼ yⱼ)",
    )
)
