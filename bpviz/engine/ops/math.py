"""Arithmetic, matrix product and reductions. Elementwise ops broadcast like numpy and sum
each gradient back to its input's shape."""

from __future__ import annotations

import numpy as np

from bpviz.engine.ops.base import (
    AttrSpec,
    OpSpec,
    no_params_backward,
    register,
    simple_forward,
    unbroadcast,
)

AB = ("a", "b")


def _binary(name: str, fn, grads, doc: str, formula: str, derivative: str) -> None:  # noqa: ANN001
    def backward(g, xs, out, attrs):  # noqa: ANN001, ANN202
        a, b = xs
        ga, gb = grads(g, a, b, out)
        return unbroadcast(ga, a.shape), unbroadcast(gb, b.shape)

    register(
        OpSpec(
            name=name,
            inputs=AB,
            forward=simple_forward(fn),
            backward=no_params_backward(backward),
            category="math",
            doc=doc,
            formula=formula,
            derivative=derivative,
        )
    )


_binary(
    "add",
    np.add,
    lambda g, a, b, out: (g, g),
    "a + b, broadcasting like numpy.",
    "y = a + b",
    "∂y/∂a = 1, ∂y/∂b = 1",
)
_binary(
    "sub",
    np.subtract,
    lambda g, a, b, out: (g, -g),
    "a − b, broadcasting like numpy.",
    "y = a − b",
    "∂y/∂a = 1, ∂y/∂b = −1",
)
_binary(
    "mul",
    np.multiply,
    lambda g, a, b, out: (g * b, g * a),
    "a × b elementwise, broadcasting like numpy.",
    "y = a · b",
    "∂y/∂a = b, ∂y/∂b = a",
)
_binary(
    "div",
    np.divide,
    lambda g, a, b, out: (g / b, -g * out / b),
    "a ÷ b elementwise, broadcasting like numpy.",
    "y = a / b",
    "∂y/∂a = 1/b, ∂y/∂b = −a/b²",
)


def _unary(
    name: str,
    fn,
    dfn,
    doc: str,
    formula: str,
    derivative: str,
    category: str = "math",
    attrs: dict[str, AttrSpec] | None = None,
    summary=None,  # noqa: ANN001
) -> None:  # noqa: ANN001
    """dfn(x, out, attrs) is the local derivative dy/dx, multiplied by the upstream gradient."""
    register(
        OpSpec(
            name=name,
            inputs=("x",),
            forward=lambda xs, a, p: fn(xs[0], a),
            backward=no_params_backward(lambda g, xs, out, a: (g * dfn(xs[0], out, a),)),
            category=category,
            doc=doc,
            attrs=attrs or {},
            summary=summary,
            formula=formula,
            derivative=derivative,
        )
    )


_unary("neg", lambda x, a: -x, lambda x, y, a: -1.0, "−x.", "y = −x", "dy/dx = −1")
_unary(
    "exp",
    lambda x, a: np.exp(x),
    lambda x, y, a: y,
    "eˣ elementwise.",
    "y = exp(x)",
    "dy/dx = exp(x) = y",
)
_unary(
    "log",
    lambda x, a: np.log(x),
    lambda x, y, a: 1.0 / x,
    "Natural logarithm.",
    "y = ln(x)",
    "dy/dx = 1/x",
)
def _pow_derivative(x: np.ndarray, exponent: float) -> np.ndarray:
    """exponent·x^(exponent−1); x^0 is constant, so its slope is 0 even at x = 0 (where the
    formula would give 0·inf), as PyTorch computes it."""
    if exponent == 0:
        return np.zeros_like(x)
    return exponent * np.power(x, exponent - 1.0)


_unary(
    "pow",
    lambda x, a: np.power(x, a["exponent"]),
    lambda x, y, a: _pow_derivative(x, a["exponent"]),
    "x raised to a fixed exponent.",
    "y = x^{exponent}",
    "dy/dx = {exponent}·x^({exponent}−1)",
    attrs={"exponent": AttrSpec("float", 2.0, doc="the power")},
    summary=lambda a: f"pow ^{a.get('exponent', 2.0):g}",
)


def _matmul_backward(g, xs, out, attrs, params, wants=None):  # noqa: ANN001, ANN202
    """Promote vectors to matrices as numpy does, apply g·Bᵀ and Aᵀ·g, then undo it; a
    product no one reads (`wants`) is skipped."""
    a, b = xs
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    g2 = np.expand_dims(g, -1) if b.ndim == 1 else g
    if a.ndim == 1:
        g2 = np.expand_dims(g2, -2)
    ga = gb = None
    if wants is None or wants[0]:
        ga = unbroadcast(g2 @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
    if wants is None or wants[1]:
        gb = unbroadcast(np.swapaxes(a2, -1, -2) @ g2, b2.shape).reshape(b.shape)
    return (ga, gb), None


def _matmul_forward(xs, attrs, params):  # noqa: ANN001, ANN202
    a, b = xs
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul needs arrays with at least one dimension; use mul for scalars")
    return a @ b


register(
    OpSpec(
        name="matmul",
        inputs=AB,
        forward=_matmul_forward,
        backward=_matmul_backward,
        category="math",
        doc="Matrix product a @ b (vectors are promoted like numpy).",
        formula="y = a @ b",
        derivative="∂L/∂a = g @ bᵀ, ∂L/∂b = aᵀ @ g",
    )
)


def _axis(attrs) -> int | tuple[int, ...] | None:  # noqa: ANN001
    axis = attrs.get("axis")
    return tuple(axis) if isinstance(axis, list) else axis


def _expand(g: np.ndarray, x: np.ndarray, axis, keepdims: bool = False) -> np.ndarray:  # noqa: ANN001
    """Put reduced axes back (unless kept) so g broadcasts over the input it came from."""
    if axis is not None and not keepdims:
        axes = (axis,) if isinstance(axis, int) else axis
        g = np.expand_dims(g, tuple(ax % x.ndim for ax in axes))
    return np.broadcast_to(g, x.shape)


def _reduction(name: str, fn, scale, doc: str, formula: str, derivative: str) -> None:  # noqa: ANN001
    def backward(g, xs, out, attrs):  # noqa: ANN001, ANN202
        x = xs[0]
        axis = _axis(attrs)
        return (_expand(g, x, axis, bool(attrs.get("keepdims"))) * scale(x, axis),)

    register(
        OpSpec(
            name=name,
            inputs=("x",),
            forward=lambda xs, a, p: np.asarray(
                fn(xs[0], axis=_axis(a), keepdims=bool(a.get("keepdims")))
            ),
            backward=no_params_backward(backward),
            category="math",
            doc=doc,
            attrs={
                "axis": AttrSpec("axis", None, doc="axis or list of axes; unset: all"),
                "keepdims": AttrSpec(
                    "bool", False, doc="keep each reduced axis with length 1 (numpy keepdims)"
                ),
            },
            summary=lambda a: None if a.get("axis") is None else f"{name} axis {a['axis']}",
            formula=formula,
            derivative=derivative,
        )
    )


def _count(x: np.ndarray, axis) -> float:  # noqa: ANN001
    if axis is None:
        return float(x.size) or 1.0
    axes = (axis,) if isinstance(axis, int) else axis
    return float(np.prod([x.shape[ax] for ax in axes])) or 1.0


_reduction(
    "sum",
    np.sum,
    lambda x, axis: 1.0,
    "Sum of the elements (over attrs.axis).",
    "y = Σ xᵢ",
    "∂y/∂xᵢ = 1",
)
_reduction(
    "mean",
    np.mean,
    lambda x, axis: 1.0 / _count(x, axis),
    "Mean of the elements (over attrs.axis).",
    "y = (1/n) Σ xᵢ",
    "∂y/∂xᵢ = 1/n",
)
