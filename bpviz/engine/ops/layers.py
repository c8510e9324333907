"""A whole fully-connected layer as one node: y = act(x @ W + b), owning W and b."""

from __future__ import annotations

import numpy as np

from bpviz.engine.ops.activations import ACTIVATIONS
from bpviz.engine.ops.base import AttrSpec, OpSpec, register
from bpviz.engine.ops.init import initialise


def _dense_forward(xs, attrs, params):  # noqa: ANN001, ANN202
    x = xs[0]
    if x.ndim not in (1, 2):
        raise ValueError(
            f"dense expects a vector or a (batch, features) matrix, got shape {x.shape}"
        )
    z = x.dot(params["W"])  # .dot skips matmul's dispatch overhead; same result for ≤ 2-D
    z += params["b"]
    act = attrs.get("activation", "none")
    if act == "relu":  # in place: z is this call's own array (the same numbers, no copy)
        return np.maximum(z, 0.0, out=z)
    return z if act == "none" else ACTIVATIONS[act][0](z)


def _dense_backward(g, xs, out, attrs, params, wants=None):  # noqa: ANN001, ANN202
    x = xs[0]
    act = attrs.get("activation", "none")
    if act == "none":
        gz = g
    elif act == "relu":  # written out: relu's derivative without a call (as in ACTIVATIONS)
        gz = g * (out > 0.0)
    else:
        gz = g * ACTIVATIONS[act][1](out)
    # the data fed to a first layer needs no gradient: skip the largest product of the step
    gx = gz.dot(params["W"].T) if wants is None or wants[0] else None
    if x.ndim == 1:
        return (gx,), {"W": np.outer(x, gz), "b": gz}
    return (gx,), {"W": x.T.dot(gz), "b": np.add.reduce(gz, 0)}


def _dense_initial(name, shape, attrs, rng):  # noqa: ANN001, ANN202
    if name == "b":
        return np.zeros(shape)
    return initialise(attrs.get("init") or default_init(attrs), shape, rng)


def _dense_summary(attrs) -> str:  # noqa: ANN001
    act = attrs.get("activation", "none")
    return f"dense {attrs.get('units', 1)}" + ("" if act == "none" else f" · {act}")


def _dense_shapes(input_shapes, attrs):  # noqa: ANN001, ANN202
    (x_shape,) = input_shapes
    if len(x_shape) not in (1, 2):
        raise ValueError(
            f"dense expects a vector or a (batch, features) matrix, got shape {x_shape}"
        )
    units = int(attrs.get("units", 1))
    return {"W": (x_shape[-1], units), "b": (units,)}


register(
    OpSpec(
        name="dense",
        inputs=("x",),
        forward=_dense_forward,
        backward=_dense_backward,
        category="layers",
        doc="A fully-connected layer: act(x @ W + b); owns its weight W and bias b.",
        attrs={
            "units": AttrSpec("int", 1, optional=False, doc="number of outputs", minimum=1),
            "activation": AttrSpec("choice", "none", tuple(ACTIVATIONS), doc="applied after x@W+b"),
            "init": AttrSpec("init", None, doc="weight init; default he for relu, else xavier"),
        },
        param_shapes=_dense_shapes,
        initial=_dense_initial,
        summary=_dense_summary,
        formula="y = {activation}(x @ W + b)",
        derivative="∂L/∂W = xᵀ·δ, ∂L/∂b = Σ δ, ∂L/∂x = δ·Wᵀ with δ = g·act′",
    )
)


def default_init(attrs) -> str:  # noqa: ANN001
    """He init keeps relu layers' variance steady; Xavier suits the symmetric activations."""
    return "he" if attrs.get("activation") == "relu" else "xavier"
