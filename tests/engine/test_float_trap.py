"""trap_float_errors, entered by every pass and update, turns float errors into exceptions
at the op, ignores underflow, nests with np.errstate both ways and restores what was before."""

from __future__ import annotations

import numpy as np
import pytest

from bpviz.engine.errors import run_trapped, trap_float_errors

BIG, TINY = np.float64(1e308), np.float64(1e-300)


@pytest.mark.parametrize(
    "op",
    [lambda: BIG * 10.0, lambda: np.log(np.float64(0.0)), lambda: np.float64(0.0) / 0.0],
    ids=["overflow", "divide", "invalid"],
)
def test_float_errors_raise_inside_and_warn_outside(op) -> None:  # noqa: ANN001
    with trap_float_errors(), pytest.raises(FloatingPointError):
        op()
    with np.errstate(all="ignore"):
        op()  # the state before is back


def test_underflow_is_ignored() -> None:
    with trap_float_errors():
        assert TINY * TINY == 0.0


def test_nesting_both_ways_restores_each_state() -> None:
    with np.errstate(all="ignore"):
        with trap_float_errors():
            with np.errstate(over="ignore"):
                overflowed = BIG * 10.0
                assert overflowed == np.inf
            with trap_float_errors():
                pass
            with pytest.raises(FloatingPointError):
                BIG * 10.0
        assert np.geterr() == {
            "divide": "ignore",
            "over": "ignore",
            "under": "ignore",
            "invalid": "ignore",
        }


def test_run_trapped_traps_inside_only_and_passes_results_through() -> None:
    with np.errstate(all="ignore"):
        assert run_trapped(lambda a, b: a * b, TINY, TINY) == 0.0  # underflow: fine
        with pytest.raises(FloatingPointError):
            run_trapped(lambda a: a * 10.0, BIG)
        assert np.geterr()["over"] == "ignore"  # restored after the raise
        overflowed = BIG * 10.0
        assert overflowed == np.inf
        with trap_float_errors():
            assert run_trapped(np.geterr) == {
                "divide": "raise",
                "over": "raise",
                "under": "ignore",
                "invalid": "raise",
            }
            with pytest.raises(FloatingPointError):
                BIG * 10.0  # the outer trap is back
