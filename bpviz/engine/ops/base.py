"""The op registry: one `OpSpec` per op type, read by the engine, the file format and the UI.

An op's forward and backward live side by side so the chain rule for it is read in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Array = np.ndarray
Params = dict[str, Array]
# forward(inputs, attrs, params) -> output
Forward = Callable[[Sequence[Array], Mapping[str, Any], Params], Array]
# backward(grad_out, inputs, output, attrs, params, wants=None) -> (grad per input, grad per
# param). `wants` (one bool per input, None for all) lets an op skip the gradient of an input
# nothing reads (the data fed to the first layer); it may return None there.
Backward = Callable[..., tuple[Sequence[Array | None], Params | None]]
Wants = Sequence[bool] | None
# param_shapes(input_shapes, attrs) -> {param name: shape}; only ops that own trainable params
ParamShapes = Callable[[Sequence[tuple[int, ...]], Mapping[str, Any]], dict[str, tuple[int, ...]]]
# initial(param name, shape, attrs, seeded generator) -> the parameter's first value
Initial = Callable[[str, tuple[int, ...], Mapping[str, Any], np.random.Generator], Array]
# from_data(features, targets, attrs) -> the value a data op produces, None without that data
FromData = Callable[[Array | None, Array | None, Mapping[str, Any]], Array | None]
# summary(attrs) -> a short line shown under a node's title, None for the plain title
Summary = Callable[[Mapping[str, Any]], str | None]


UNIT_GRAD = np.array(1.0)
"""dOutput/dOutput of a scalar output: the gradient every backward pass starts from, one
read-only array for all of them, so an op can tell it by identity (a loss skips g · ∂L/∂p,
a product by exactly 1)."""
UNIT_GRAD.flags.writeable = False


@dataclass(frozen=True)
class AttrSpec:
    """One attribute of an op: its kind decides how it is validated and edited.

    kinds: float, int, bool, choice, tensor (number or nested list), shape (list of ints),
    init ("zeros" | "normal" | "xavier" | "he" | {"uniform": R}), axis (null, int or list of ints),
    text.
    """

    kind: str
    default: Any = None
    choices: tuple[str, ...] = ()
    optional: bool = True
    doc: str = ""
    minimum: float | None = None


@dataclass(frozen=True)
class OpSpec:
    """Everything about one op type. `name` is the stable type name written in scene files."""

    name: str
    inputs: tuple[str, ...]
    forward: Forward
    backward: Backward
    category: str
    doc: str
    label: str = ""
    attrs: dict[str, AttrSpec] = field(default_factory=dict)
    param_shapes: ParamShapes | None = None
    initial: Initial | None = None  # with param_shapes: how each parameter starts
    from_data: FromData | None = None  # for input and target: what they read from the data
    draggable: bool = False  # its value attr can be dragged sideways on the canvas
    summary: Summary | None = None
    formula: str = ""
    derivative: str = ""

    @property
    def title(self) -> str:
        return self.label or self.name

    @property
    def is_data(self) -> bool:
        """A value given by the scene (constants, features, targets), never trained: its
        gradient is read only when shown."""
        return self.category == "data"

    @property
    def has_params(self) -> bool:
        """Owns trainable parameters (the optimizer updates them)."""
        return self.param_shapes is not None

    def summarize(self, attrs: Mapping[str, Any]) -> str:
        """The line under a node's title, e.g. 'dense 16 · relu', 'const 2.5' or the title."""
        line = self.summary(attrs) if self.summary is not None else None
        return line or self.title

    @property
    def colour(self) -> str:
        return CATEGORY_COLOURS[self.category]

    def default_attrs(self) -> dict[str, Any]:
        return {k: a.default for k, a in self.attrs.items() if a.default is not None}


CATEGORIES: tuple[str, ...] = ("data", "parameters", "math", "activations", "layers", "losses")
CATEGORY_COLOURS: dict[str, str] = {
    "data": "#4e79a7",
    "parameters": "#f28e2b",
    "math": "#76b7b2",
    "activations": "#59a14f",
    "layers": "#b07aa1",
    "losses": "#e15759",
}

REGISTRY: dict[str, OpSpec] = {}


def register(spec: OpSpec) -> OpSpec:
    if spec.name in REGISTRY:
        raise ValueError(f"op '{spec.name}' registered twice")
    if spec.category not in CATEGORY_COLOURS:
        raise ValueError(f"op '{spec.name}': unknown category '{spec.category}'")
    REGISTRY[spec.name] = spec
    return spec


def unbroadcast(grad: Array, shape: tuple[int, ...]) -> Array:
    """Sum a gradient back to `shape`, undoing numpy broadcasting (the rule every
    elementwise op needs: a broadcast input receives the sum over the copies it fed)."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def no_params_backward(
    fn: Callable[[Array, Sequence[Array], Array, Mapping[str, Any]], Sequence[Array | None]],
) -> Backward:
    """Adapt a backward that has no params to the registry's signature."""

    def backward(g, xs, out, attrs, params, wants=None):  # noqa: ANN001, ANN202
        return fn(g, xs, out, attrs), None

    return backward


def value_summary(op: str, value: Any, numbers: bool = True) -> str | None:
    """'const 2.5' or 'param [2×3]' for a node whose value attr is set. Without `numbers`
    a single number is left out: a trained param's value is no longer its file value, and
    the header must not contradict the number the node's body shows."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return f"{op} {value:g}" if numbers else None
    dims = []
    while isinstance(value, list):
        dims.append(len(value))
        value = value[0] if value else None
    return f"{op} [{'×'.join(map(str, dims))}]"


def simple_forward(fn: Callable[..., Array]) -> Forward:
    """Adapt `fn(*inputs)` to the registry's forward signature."""

    def forward(xs, attrs, params):  # noqa: ANN001, ANN202
        return fn(*xs)

    return forward
