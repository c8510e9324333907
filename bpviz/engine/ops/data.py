"""Sources: constants, trainable parameters, and the scene's data (input and target)."""

from __future__ import annotations

from typing import Any

import numpy as np

from bpviz.engine.ops.base import AttrSpec, OpSpec, register, value_summary
from bpviz.engine.ops.init import initialise

TARGET_ENCODINGS: tuple[str, ...] = ("column", "signs", "labels")


def as_tensor(value: Any) -> np.ndarray:
    """A number or nested list as a float64 array (scalars become 0-d)."""
    return np.array(value, dtype=np.float64)


def encode_target(y: np.ndarray, encoding: str) -> np.ndarray:
    """Shape a dataset's targets for the loss that reads them.

    column: (N, 1) floats, for mse and bce; signs: (N, 1) of -1/+1, for hinge on 0/1 labels;
    labels: (N,) integers, for cross_entropy.
    """
    if encoding == "labels":
        return y.astype(np.int64)
    col = y.astype(np.float64).reshape(-1, 1)
    return 2.0 * col - 1.0 if encoding == "signs" else col


def _no_grads(g, xs, out, attrs, params, wants=None):  # noqa: ANN001, ANN202
    return (), None


def _features(x, y, attrs):  # noqa: ANN001, ANN202
    return None if x is None else np.asarray(x, dtype=np.float64)


def _targets(x, y, attrs):  # noqa: ANN001, ANN202
    return None if y is None else encode_target(np.asarray(y), attrs.get("encoding", "column"))


register(
    OpSpec(
        name="const",
        inputs=(),
        forward=lambda xs, attrs, params: as_tensor(attrs["value"]),
        backward=_no_grads,
        category="data",
        label="const",
        doc="A fixed number or array.",
        attrs={"value": AttrSpec("tensor", 1.0, optional=False, doc="number or nested list")},
        draggable=True,
        summary=lambda attrs: value_summary("const", attrs.get("value")),
        formula="y = {value}",
    )
)

register(
    OpSpec(
        name="input",
        inputs=(),
        forward=lambda xs, attrs, params: as_tensor(attrs.get("value", 0.0)),
        backward=_no_grads,
        category="data",
        label="input",
        doc="The scene's input features, one row per example (attrs.value when there is no data).",
        attrs={"value": AttrSpec("tensor", None, doc="value used when the scene has no data")},
        from_data=_features,
        formula="y = x (the data)",
    )
)

register(
    OpSpec(
        name="target",
        inputs=(),
        forward=lambda xs, attrs, params: as_tensor(attrs.get("value", 0.0)),
        backward=_no_grads,
        category="data",
        label="target",
        doc="The scene's targets: what the loss compares the prediction with.",
        attrs={
            "encoding": AttrSpec(
                "choice", "column", TARGET_ENCODINGS, doc="column (N,1), signs ±1, or labels (N,)"
            ),
            "value": AttrSpec("tensor", None, doc="value used when the scene has no data"),
        },
        from_data=_targets,
        formula="y = t (the data)",
    )
)


def _param_shapes(input_shapes, attrs):  # noqa: ANN001, ANN202
    if attrs.get("value") is not None:
        return {"value": np.shape(attrs["value"])}
    return {"value": tuple(attrs.get("shape", ()))}


def _param_initial(name, shape, attrs, rng):  # noqa: ANN001, ANN202
    if attrs.get("value") is not None:
        return np.array(attrs["value"], dtype=np.float64)
    return initialise(attrs.get("init") or "normal", shape, rng)


register(
    OpSpec(
        name="param",
        inputs=(),
        forward=lambda xs, attrs, params: params["value"],
        backward=lambda g, xs, out, attrs, params, wants=None: ((), {"value": g}),
        category="parameters",
        label="param",
        doc="A trainable number or array; the optimizer moves it against its gradient.",
        attrs={
            "value": AttrSpec("tensor", None, doc="initial value; overrides shape and init"),
            "shape": AttrSpec("shape", None, doc="shape when drawn by init, e.g. [2, 3]"),
            "init": AttrSpec("init", "normal", doc="zeros, normal, xavier, he or {uniform: R}"),
        },
        param_shapes=_param_shapes,
        initial=_param_initial,
        draggable=True,
        summary=lambda attrs: value_summary("param", attrs.get("value"), numbers=False),
        formula="y = θ",
        derivative="dy/dθ = 1 (∂L/∂θ sums the gradients of every use)",
    )
)
