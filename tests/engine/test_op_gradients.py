"""Every registered op's backward against central finite differences, broadcasting included."""

from __future__ import annotations

import numpy as np
import pytest

from bpviz.engine.ops import REGISTRY, unbroadcast

SOURCE_OPS = {"const", "input", "target", "param"}

rng = np.random.default_rng(0)


def pos(*shape: int) -> np.ndarray:
    return rng.uniform(0.5, 2.0, size=shape)


def anyv(*shape: int) -> np.ndarray:
    return rng.normal(size=shape)


def away_from_zero(*shape: int) -> np.ndarray:
    """Kinks (relu at 0, hinge at margin 1) have no derivative: keep samples off them."""
    x = rng.uniform(0.2, 1.5, size=shape)
    return x * rng.choice([-1.0, 1.0], size=shape)


# op -> list of (attrs, inputs, params)
CASES: dict[str, list[tuple[dict, list[np.ndarray], dict]]] = {
    "add": [
        ({}, [anyv(3, 4), anyv(3, 4)], {}),
        ({}, [anyv(3, 4), anyv(4)], {}),
        ({}, [anyv(), anyv(2, 3)], {}),
    ],
    "sub": [({}, [anyv(3, 1), anyv(1, 4)], {}), ({}, [anyv(2), anyv()], {})],
    "mul": [
        ({}, [anyv(3, 4), anyv(4)], {}),
        ({}, [anyv(), anyv()], {}),
        ({}, [anyv(2, 1, 3), anyv(4, 1)], {}),
    ],
    "div": [({}, [anyv(3, 4), pos(1, 4)], {}), ({}, [anyv(), pos(3)], {})],
    "pow": [
        ({"exponent": 3.0}, [anyv(3)], {}),
        ({"exponent": 0.5}, [pos(2, 2)], {}),
        ({}, [anyv()], {}),
    ],
    "neg": [({}, [anyv(2, 3)], {})],
    "exp": [({}, [anyv(4)], {})],
    "log": [({}, [pos(3, 2)], {})],
    "tanh": [({}, [anyv(5)], {}), ({}, [anyv()], {})],
    "sigmoid": [({}, [anyv(2, 3) * 3], {})],
    "relu": [({}, [away_from_zero(4, 3)], {})],
    "leaky_relu": [({"alpha": 0.1}, [away_from_zero(6)], {})],
    "softmax": [({}, [anyv(3, 4)], {}), ({}, [anyv(5)], {})],
    "matmul": [
        ({}, [anyv(3, 4), anyv(4, 2)], {}),
        ({}, [anyv(4), anyv(4, 2)], {}),
        ({}, [anyv(3, 4), anyv(4)], {}),
        ({}, [anyv(4), anyv(4)], {}),
        ({}, [anyv(2, 3, 4), anyv(4, 5)], {}),
    ],
    "sum": [
        ({}, [anyv(3, 4)], {}),
        ({"axis": 0}, [anyv(3, 4)], {}),
        ({"axis": [0, 2]}, [anyv(2, 3, 4)], {}),
        ({"axis": 1, "keepdims": True}, [anyv(3, 4)], {}),
        ({"keepdims": True}, [anyv(2, 3)], {}),
    ],
    "mean": [
        ({}, [anyv(3, 4)], {}),
        ({"axis": -1}, [anyv(3, 4)], {}),
        ({"axis": [1]}, [anyv(2, 3)], {}),
        ({"axis": [0, 2], "keepdims": True}, [anyv(2, 3, 4)], {}),
    ],
    "dense": [
        ({"units": 3, "activation": "tanh"}, [anyv(5, 4)], {"W": anyv(4, 3), "b": anyv(3)}),
        ({"units": 2, "activation": "sigmoid"}, [anyv(4)], {"W": anyv(4, 2), "b": anyv(2)}),
        ({"units": 3, "activation": "none"}, [anyv(2, 4)], {"W": anyv(4, 3), "b": anyv(3)}),
        (
            {"units": 2, "activation": "relu"},
            [away_from_zero(3, 1)],
            {"W": np.array([[1.0, -1.0]]), "b": np.zeros(2)},
        ),
    ],
    "column": [({"index": 1}, [anyv(4, 3)], {}), ({"index": 0}, [anyv(2)], {})],
    "concat": [({}, [anyv(3, 1), anyv(3, 2)], {}), ({}, [anyv(2), anyv(1)], {})],
    "mse": [
        ({}, [anyv(5, 1), anyv(5, 1)], {}),
        ({}, [anyv(5, 1), anyv(5)], {}),
        ({}, [anyv(), anyv()], {}),
        ({}, [anyv(3, 2), anyv()], {}),
    ],
    "bce": [({}, [anyv(6, 1) * 3, rng.integers(0, 2, (6, 1)).astype(float)], {})],
    "hinge": [
        ({}, [np.array([[0.5], [-0.2], [2.0], [-3.0]]), np.array([1.0, 1.0, -1.0, 1.0])], {}),
    ],
    "cross_entropy": [
        ({}, [anyv(5, 3), np.array([0, 2, 1, 1, 0])], {}),
        ({}, [anyv(4), np.array(2)], {}),
    ],
}


def numeric_grad(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:  # noqa: ANN001
    """Perturbs `x` in place: it must be the very array `f` reads."""
    g = np.zeros_like(x, dtype=np.float64)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        orig = flat[i]
        flat[i] = orig + eps
        plus = f()
        flat[i] = orig - eps
        minus = f()
        flat[i] = orig
        gflat[i] = (plus - minus) / (2 * eps)
    return g


def test_every_op_has_a_gradient_case() -> None:
    assert set(REGISTRY) - SOURCE_OPS == set(CASES)


@pytest.mark.parametrize(
    ("op", "case"), [(op, i) for op, cases in CASES.items() for i in range(len(cases))]
)
def test_backward_matches_finite_differences(op: str, case: int) -> None:
    spec = REGISTRY[op]
    attrs, inputs, params = CASES[op][case]
    attrs = {**spec.default_attrs(), **attrs}
    inputs = [np.array(x) for x in inputs]
    params = {k: np.array(v) for k, v in params.items()}
    out = np.asarray(spec.forward(inputs, attrs, params))
    upstream = np.asarray(rng.normal(size=out.shape))

    def objective() -> float:
        return float(np.sum(np.asarray(spec.forward(inputs, attrs, params)) * upstream))

    in_grads, p_grads = spec.backward(upstream, inputs, out, attrs, params)
    for port, x, g in zip(spec.inputs, inputs, in_grads, strict=True):
        g = np.asarray(g)
        assert g.shape == x.shape, f"{op}.{port}: grad shape {g.shape} != input shape {x.shape}"
        if np.issubdtype(x.dtype, np.integer):
            assert np.all(g == 0), "integer labels carry no gradient"
            continue
        np.testing.assert_allclose(
            g, numeric_grad(objective, x), rtol=1e-5, atol=1e-7, err_msg=f"{op}.{port}"
        )
    for name, p in params.items():
        g = np.asarray(p_grads[name])
        assert g.shape == p.shape
        np.testing.assert_allclose(
            g, numeric_grad(objective, p), rtol=1e-5, atol=1e-7, err_msg=f"{op}.{name}"
        )


@pytest.mark.parametrize(
    ("grad_shape", "shape"),
    [((3, 4), (4,)), ((3, 4), (1, 4)), ((3, 4), ()), ((2, 3, 4), (3, 1)), ((5,), (5,))],
)
def test_unbroadcast_sums_over_copies(grad_shape: tuple, shape: tuple) -> None:
    g = np.ones(grad_shape)
    r = unbroadcast(g, shape)
    assert r.shape == shape
    assert r.sum() == g.sum()


def test_stable_functions_do_not_overflow() -> None:
    big = np.array([-1000.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert np.allclose(REGISTRY["sigmoid"].forward([big], {}, {}), [0.0, 1.0])
        assert np.all(np.isfinite(REGISTRY["softmax"].forward([big], {}, {})))
        assert np.isfinite(REGISTRY["bce"].forward([big, np.array([0.0, 1.0])], {}, {}))


def test_loss_refuses_mismatched_target_instead_of_broadcasting() -> None:
    with pytest.raises(ValueError, match="do not match"):
        REGISTRY["mse"].forward([np.zeros((4, 1)), np.zeros(3)], {}, {})


@pytest.mark.parametrize(("exponent", "slope"), [(0.0, 0.0), (1.0, 1.0), (2.0, 0.0), (3.0, 0.0)])
def test_pow_slope_at_zero_is_finite_where_the_function_is_smooth(
    exponent: float, slope: float
) -> None:
    """x^0 is constant and x^1 is x: their slopes at x = 0 are 0 and 1 (as PyTorch gives),
    not the 0·inf the formula would make and the pass would refuse as non-finite."""
    x = np.array([0.0, 0.0])
    g = np.ones(2)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = REGISTRY["pow"].forward([x], {"exponent": exponent}, {})
        (grad,), _ = REGISTRY["pow"].backward(g, [x], out, {"exponent": exponent}, {})
    np.testing.assert_array_equal(grad, [slope, slope])
