"""Checking attribute values against their `AttrSpec`, shared by the graph, files and the UI."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from bpviz.engine.ops.base import AttrSpec, OpSpec
from bpviz.engine.ops.init import check_init


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _finite(v: Any) -> bool:
    """A number that fits a float and is not NaN/Inf (10**400 is an int but no float)."""
    try:
        return math.isfinite(v)
    except OverflowError:
        return False


def _tensor_problem(v: Any) -> str | None:
    if _is_number(v):
        return None if _finite(v) else "must be a finite number"
    if not isinstance(v, list):
        return f"expected a number or nested list of numbers, got {type(v).__name__}"
    try:
        arr = np.array(v, dtype=np.float64)
    except (ValueError, TypeError):
        return "expected a rectangular nested list of numbers"
    if arr.dtype == object or not np.all(np.isfinite(arr)):
        return "expected a rectangular nested list of finite numbers"
    return None


MAX_INT = 1_000_000  # units, axes: anything larger is a typo that would exhaust memory


def attr_problem(spec: AttrSpec, value: Any) -> str | None:
    """None if `value` suits `spec`, else a short description of what is wrong."""
    if value is None:
        return None if spec.optional else "is required"
    kind = spec.kind
    if kind == "float":
        if not _is_number(value) or not _finite(value):
            return f"expected a finite number, got {value!r}"
    elif kind == "int":
        if not isinstance(value, int) or isinstance(value, bool) or abs(value) > MAX_INT:
            return f"expected an integer, got {value!r}"
    elif kind == "bool":
        if not isinstance(value, bool):
            return f"expected true or false, got {value!r}"
    elif kind == "choice":
        if value not in spec.choices:
            return f"expected one of {', '.join(spec.choices)}, got {value!r}"
    elif kind == "tensor":
        return _tensor_problem(value)
    elif kind == "shape":
        if not isinstance(value, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= MAX_INT for n in value
        ):
            return f"expected a list of positive integers, got {value!r}"
    elif kind == "init":
        return check_init(value)
    elif kind == "axis":
        ok_int = isinstance(value, int) and not isinstance(value, bool) and abs(value) <= 64
        ok_list = isinstance(value, list) and all(
            isinstance(n, int) and not isinstance(n, bool) and abs(n) <= 64 for n in value
        )
        if not (ok_int or ok_list):
            return f"expected an axis (integer) or list of axes, got {value!r}"
    elif kind == "text" and not isinstance(value, str):
        return f"expected text, got {value!r}"
    if spec.minimum is not None and _is_number(value) and value < spec.minimum:
        return f"must be >= {spec.minimum:g}, got {value!r}"
    return None


def attrs_problems(op: OpSpec, attrs: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every (attr name, problem) for a node's attrs: unknown names, missing and bad values."""
    problems = [(k, f"unknown attribute for op '{op.name}'") for k in attrs if k not in op.attrs]
    for name, spec in op.attrs.items():
        problem = attr_problem(spec, attrs.get(name, spec.default))
        if problem:
            problems.append((name, problem))
    return problems


_CONTAINERS = (list, dict, tuple)
_CONTAINER_SET = frozenset(_CONTAINERS)


def copy_value(value: Any) -> Any:
    """A copy of a JSON-like value (lists, dicts, numbers, text) that shares no list or dict
    with the original. Numbers and text are immutable, so unlike `copy.deepcopy` nothing is
    looked up per element: a ten-million-number weight list copies in a fraction of the time."""
    kind = type(value)
    if kind is list or kind is tuple:
        if _CONTAINER_SET.isdisjoint(map(type, value)):  # a loop in C: flat lists are common
            return list(value)
        return [copy_value(v) for v in value]
    if kind is dict:
        return {k: copy_value(v) if type(v) in _CONTAINERS else v for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.copy()
    return value
