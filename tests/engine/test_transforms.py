"""data.transforms: precise messages, and the same features wherever they are used."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bpviz.engine.errors import DatasetError
from bpviz.engine.session import Session
from bpviz.engine.transforms import apply_features, parse_transforms
from tests.engine.helpers import mlp_graph

X = np.array([[0.5, -2.0], [3.0, 0.25]])


def test_every_form_computes_its_column() -> None:
    feats = parse_transforms(["x1", "x2^2", "x1*x2", "sin(x1)", "cos(x2)", "x2*x2"], 2)
    got = apply_features(feats, X)
    expected = [
        [0.5, 4.0, -1.0, math.sin(0.5), math.cos(-2.0), 4.0],
        [3.0, 0.0625, 0.75, math.sin(3.0), math.cos(0.25), 0.0625],
    ]
    np.testing.assert_array_equal(got, np.array(expected))
    assert [f.text for f in feats][:2] == ["x1", "x2^2"]


def test_absent_means_the_raw_features() -> None:
    assert parse_transforms(None, 2) == ()
    assert apply_features((), X) is X


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            ["x1", "x2", "x3^2"],
            "data.transforms[2]: unknown expression 'x3^2' (the data has 2 features)",
        ),
        (["x0"], "data.transforms[0]: unknown expression 'x0' (expected xi, xi^2, xi*xj, "),
        (["x1^3"], "data.transforms[0]: unknown expression 'x1^3' (expected "),
        (["X1"], "data.transforms[0]: unknown expression 'X1' (expected "),
        (["x1", " x2"], "data.transforms[1]: unknown expression ' x2' (expected "),
        (["tan(x1)"], "data.transforms[0]: unknown expression 'tan(x1)' (expected "),
        (["x1*x3"], "data.transforms[0]: unknown expression 'x1*x3' (the data has 2 features)"),
        ([1], "data.transforms[0]: expected an expression such as 'x1^2', got 1"),
        ("x1^2", "data.transforms: expected a list of expressions, got 'x1^2'"),
        ({"a": 1}, "data.transforms: expected a list of expressions, got {'a': 1}"),
        ([], "data.transforms: expected at least one expression (leave the key out"),
        (["x1*x2", "x2*x1"], "data.transforms[1]: 'x2*x1' repeats data.transforms[0]"),
        (["x1", "x1"], "data.transforms[1]: 'x1' repeats data.transforms[0]"),
    ],
)
def test_bad_transforms_name_the_entry(spec: object, message: str) -> None:
    with pytest.raises(DatasetError) as e:
        parse_transforms(spec, 2)
    assert str(e.value).startswith(message)


def test_one_feature_is_singular() -> None:
    with pytest.raises(DatasetError, match=r"'x2' \(the data has 1 feature\)$"):
        parse_transforms(["x2"], 1)


CIRCLES = {"kind": "circles", "n": 40, "seed": 3, "test_fraction": 0.25}


def _session(transforms: list[str] | None) -> Session:
    data = dict(CIRCLES, **({"transforms": transforms} if transforms else {}))
    return Session(mlp_graph(hidden=3, loss="bce", encoding="column"), data, {"seed": 1})


def test_session_feeds_transformed_features_and_keeps_the_raw_data() -> None:
    s = _session(["x1^2", "x2^2", "x1*x2"])
    raw = s.dataset
    x = raw.x_train
    expected = np.column_stack([x[:, 0] ** 2, x[:, 1] ** 2, x[:, 0] * x[:, 1]])
    np.testing.assert_array_equal(s.network_data.x_train, expected)
    xt = raw.x_test
    np.testing.assert_array_equal(s.network_data.x_test[:, 2], xt[:, 0] * xt[:, 1])
    assert raw.n_features == 2 and s.network_data.n_features == 3
    assert s.network_data.feature_names == ("x1^2", "x2^2", "x1*x2")
    np.testing.assert_array_equal(s.network_data.y_train, raw.y_train)
    s.forward()
    np.testing.assert_array_equal(s.value("x"), expected)
    assert s.param("h", "W").shape == (3, 3)  # the layer reads 3 features


def test_predict_takes_raw_points_and_transforms_them() -> None:
    s = _session(["x1^2", "sin(x2)"])
    s.train(5)
    s.forward()
    raw = s.dataset.x_train
    np.testing.assert_array_equal(s.predict(raw, "out"), s.value("out"))


def test_a_bad_transform_in_a_session_is_a_dataset_error() -> None:
    with pytest.raises(DatasetError, match=r"^data.transforms\[0\]: unknown expression 'x3'"):
        _session(["x3"])


def test_set_data_swaps_features_and_starts_afresh() -> None:
    s = _session(None)
    s.train(3)
    assert s.param("h", "W").shape == (2, 3)
    s.set_data(dict(CIRCLES, transforms=["x1", "x2", "x1^2", "x2^2"]))
    assert len(s.history) == 0 and s.trainer.step_count == 0
    s.train(1)
    assert s.param("h", "W").shape == (4, 3)
    with pytest.raises(DatasetError):
        s.set_data(dict(CIRCLES, transforms=["x9"]))
    assert s.network_data.n_features == 4  # a refused spec changed nothing
