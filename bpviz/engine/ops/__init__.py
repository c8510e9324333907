"""Importing this package registers every op; `REGISTRY` maps type name to `OpSpec`."""

from bpviz.engine.ops import (  # noqa: F401  (registers)
    activations,
    columns,
    data,
    layers,
    losses,
    math,
)
from bpviz.engine.ops.base import (
    CATEGORIES,
    CATEGORY_COLOURS,
    REGISTRY,
    AttrSpec,
    OpSpec,
    unbroadcast,
)

__all__ = [
    "CATEGORIES",
    "CATEGORY_COLOURS",
    "REGISTRY",
    "AttrSpec",
    "OpSpec",
    "unbroadcast",
    "get_op",
]


def get_op(name: str) -> OpSpec:
    """The spec for `name`; KeyError lists the known ops."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown op '{name}' (known: {', '.join(sorted(REGISTRY))})") from None
