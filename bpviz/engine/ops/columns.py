"""Taking a matrix apart into columns and putting columns side by side again: what a dense
layer written out as scalar ops needs to read one feature and to hand on all its units."""

from __future__ import annotations

import numpy as np

from bpviz.engine.ops.base import AttrSpec, OpSpec, no_params_backward, register


def _column_forward(xs, attrs, params):  # noqa: ANN001, ANN202
    x = xs[0]
    i = int(attrs.get("index", 0))
    if x.ndim == 0:
        raise ValueError("column needs a vector or a (batch, features) matrix, got a number")
    if i >= x.shape[-1]:
        raise ValueError(f"column {i} does not exist: the input has {x.shape[-1]} column(s)")
    return x[..., i : i + 1]


def _column_backward(g, xs, out, attrs):  # noqa: ANN001, ANN202
    x = xs[0]
    i = int(attrs.get("index", 0))
    gx = np.zeros(x.shape)
    gx[..., i : i + 1] = g
    return (gx,)


register(
    OpSpec(
        name="column",
        inputs=("x",),
        forward=_column_forward,
        backward=no_params_backward(_column_backward),
        category="math",
        doc="One column of x (one feature, one unit), kept as a column: x[..., index].",
        attrs={
            "index": AttrSpec("int", 0, optional=False, doc="which column, from 0", minimum=0),
        },
        formula="y = x[:, {index}]",
        derivative="∂y/∂x = 1 in column {index}, 0 elsewhere",
    )
)


def _concat_forward(xs, attrs, params):  # noqa: ANN001, ANN202
    a, b = xs
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("concat joins vectors or matrices side by side, got a number")
    if a.shape[:-1] != b.shape[:-1]:
        raise ValueError(f"concat needs as many rows on both sides, got {a.shape} and {b.shape}")
    return np.concatenate([a, b], axis=-1)


def _concat_backward(g, xs, out, attrs):  # noqa: ANN001, ANN202
    n = xs[0].shape[-1]
    return g[..., :n], g[..., n:]


register(
    OpSpec(
        name="concat",
        inputs=("a", "b"),
        forward=_concat_forward,
        backward=no_params_backward(_concat_backward),
        category="math",
        doc="The columns of a, then the columns of b, side by side (along the last axis).",
        formula="y = [a | b]",
        derivative="∂y/∂a = 1 for a's columns; ∂y/∂b = 1 for b's columns",
    )
)
