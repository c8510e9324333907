"""What the rest of the program asks of an op is read from its OpSpec, never from op-name
lists: data or not, parameters, a draggable value, the line under its title."""

from __future__ import annotations

import numpy as np
import pytest

from bpviz.engine.attrs import attr_problem
from bpviz.engine.ops import REGISTRY


def test_op_facts() -> None:
    assert sorted(n for n, s in REGISTRY.items() if s.is_data) == ["const", "input", "target"]
    assert sorted(n for n, s in REGISTRY.items() if s.has_params) == ["dense", "param"]
    assert sorted(n for n, s in REGISTRY.items() if s.draggable) == ["const", "param"]
    assert sorted(n for n, s in REGISTRY.items() if s.from_data) == ["input", "target"]
    assert all(s.initial is not None for s in REGISTRY.values() if s.has_params)


@pytest.mark.parametrize(
    ("op", "attrs", "line"),
    [
        ("dense", {"units": 16, "activation": "relu"}, "dense 16 · relu"),
        ("dense", {"units": 3}, "dense 3"),
        ("const", {"value": 2.5}, "const 2.5"),
        ("param", {"value": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]}, "param [2×3]"),
        ("param", {"shape": [2]}, "param"),
        # a scalar param's file value is stale once trained: the body shows the live one
        ("param", {"value": 0.0}, "param"),
        ("param", {"value": -3.5}, "param"),
        ("pow", {"exponent": 3.0}, "pow ^3"),
        ("pow", {}, "pow ^2"),
        ("mean", {"axis": 0}, "mean axis 0"),
        ("sum", {}, "sum"),
        ("tanh", {}, "tanh"),
    ],
)
def test_summary_line(op: str, attrs: dict, line: str) -> None:
    assert REGISTRY[op].summarize(attrs) == line


def test_every_default_attr_is_valid() -> None:
    """The file checks skip attrs a node leaves unset, trusting these."""
    for spec in REGISTRY.values():
        for name, attr in spec.attrs.items():
            assert attr_problem(attr, attr.default) is None, (spec.name, name)


def test_initial_parameters() -> None:
    rng = np.random.default_rng(0)
    dense = REGISTRY["dense"]
    np.testing.assert_array_equal(dense.initial("b", (3,), {"units": 3}, rng), np.zeros(3))
    param = REGISTRY["param"]
    np.testing.assert_array_equal(param.initial("value", (2,), {"value": [1.0, 2.0]}, rng), [1, 2])
