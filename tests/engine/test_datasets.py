"""Datasets: generator shapes, reproducibility, the split, and CSV loading with precise errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bpviz.engine.datasets import (
    DATASET_KINDS,
    Dataset,
    load_csv,
    make_dataset,
    split,
)
from bpviz.engine.errors import BpvizError, DatasetError

GENERATED = [k for k in DATASET_KINDS if k != "csv"]
EXPECTED = {  # kind -> (task, n_features, n_classes)
    "xor": ("binary", 2, 2),
    "circles": ("binary", 2, 2),
    "moons": ("binary", 2, 2),
    "spiral": ("multiclass", 2, 3),
    "gauss": ("binary", 2, 2),
    "linear": ("regression", 1, 0),
    "sine": ("regression", 1, 0),
}


def write(tmp_path: Path, text: str, name: str = "points.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def all_arrays(d: Dataset) -> list[np.ndarray]:
    return [d.x_train, d.y_train, d.x_test, d.y_test]


# --------------------------------------------------------------------------- generators


def test_kinds_listed() -> None:
    assert DATASET_KINDS == ("xor", "circles", "moons", "spiral", "gauss", "linear", "sine", "csv")
    assert set(GENERATED) == set(EXPECTED)


@pytest.mark.parametrize("kind", GENERATED)
def test_generator_shapes_dtypes_task(kind: str) -> None:
    task, n_features, n_classes = EXPECTED[kind]
    d = make_dataset({"kind": kind})
    assert (d.task, d.n_features, d.n_classes) == (task, n_features, n_classes)
    assert d.x_train.shape == (160, n_features) and d.x_test.shape == (40, n_features)
    assert d.y_train.shape == (160,) and d.y_test.shape == (40,)
    assert d.x_train.dtype == d.x_test.dtype == np.float64
    assert d.feature_names == tuple(f"x{i + 1}" for i in range(n_features))
    if task == "regression":
        assert d.y_train.dtype == d.y_test.dtype == np.float64
    else:
        assert d.y_train.dtype == d.y_test.dtype == np.int64
        labels = np.concatenate([d.y_train, d.y_test])
        assert set(np.unique(labels)) == set(range(n_classes))
    assert all(np.all(np.isfinite(a)) for a in all_arrays(d))


@pytest.mark.parametrize("kind", GENERATED)
def test_same_seed_same_data_other_seed_other_data(kind: str) -> None:
    a = make_dataset({"kind": kind, "seed": 3})
    b = make_dataset({"kind": kind, "seed": 3})
    c = make_dataset({"kind": kind, "seed": 4})
    for x, y in zip(all_arrays(a), all_arrays(b), strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a.x_train, c.x_train)


@pytest.mark.parametrize("kind", ["xor", "circles", "moons", "spiral", "gauss"])
def test_classes_balanced(kind: str) -> None:
    d = make_dataset({"kind": kind, "n": 300, "test_fraction": 0.0})
    counts = np.bincount(d.y_train)
    assert counts.sum() == 300
    assert counts.max() - counts.min() <= 1


def test_arrays_are_read_only() -> None:
    d = make_dataset({"kind": "moons"})
    with pytest.raises(ValueError):
        d.x_train[0, 0] = 1.0


def test_xor_four_points_is_the_truth_table() -> None:
    d = make_dataset({"kind": "xor", "n": 4, "test_fraction": 0.5})
    np.testing.assert_array_equal(d.x_train, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(d.y_train, [0, 1, 1, 0])
    assert d.x_test.shape == (0, 2) and d.y_test.shape == (0,)


def test_xor_noisy_labels_follow_corner_quadrant() -> None:
    d = make_dataset({"kind": "xor", "n": 200, "noise": 0.1, "test_fraction": 0.0})
    quadrant_xor = (d.x_train[:, 0] > 0) != (d.x_train[:, 1] > 0)
    np.testing.assert_array_equal(quadrant_xor.astype(np.int64), d.y_train)
    assert np.allclose(np.abs(d.x_train).mean(), 1.0, atol=0.1)


def test_circles_inner_is_class_one() -> None:
    d = make_dataset({"kind": "circles", "noise": 0.0, "factor": 0.3, "test_fraction": 0.0})
    radius = np.linalg.norm(d.x_train, axis=1)
    np.testing.assert_allclose(radius[d.y_train == 1], 0.3)
    np.testing.assert_allclose(radius[d.y_train == 0], 1.0)


def test_moons_without_noise_lie_on_half_circles() -> None:
    d = make_dataset({"kind": "moons", "noise": 0.0, "test_fraction": 0.0})
    top, bottom = d.x_train[d.y_train == 0], d.x_train[d.y_train == 1]
    np.testing.assert_allclose(np.linalg.norm(top, axis=1), 1.0)
    assert np.all(top[:, 1] >= -1e-12)
    np.testing.assert_allclose(np.linalg.norm(bottom - [1.0, 0.5], axis=1), 1.0)
    assert np.all(bottom[:, 1] <= 0.5 + 1e-12)


def test_spiral_two_classes_is_binary() -> None:
    d = make_dataset({"kind": "spiral", "classes": 2})
    assert (d.task, d.n_classes) == ("binary", 2)
    d5 = make_dataset({"kind": "spiral", "classes": 5, "n": 100})
    assert (d5.task, d5.n_classes) == ("multiclass", 5)


def test_linear_features_and_fit() -> None:
    d = make_dataset({"kind": "linear", "features": 3, "noise": 0.0, "test_fraction": 0.0})
    assert d.x_train.shape == (200, 3) and d.feature_names == ("x1", "x2", "x3")
    design = np.column_stack([d.x_train, np.ones(200)])
    _, residual, *_ = np.linalg.lstsq(design, d.y_train, rcond=None)
    assert residual[0] < 1e-20  # exactly linear without noise


def test_sine_range_and_values() -> None:
    d = make_dataset({"kind": "sine", "noise": 0.0})
    assert np.all(np.abs(d.x_train) <= np.pi)
    np.testing.assert_allclose(d.y_train, np.sin(d.x_train[:, 0]))


# --------------------------------------------------------------------------- split


@pytest.mark.parametrize(("n", "fraction", "n_test"), [(200, 0.2, 40), (10, 0.25, 2), (7, 0.0, 0)])
def test_split_sizes(n: int, fraction: float, n_test: int) -> None:
    x = np.arange(n * 2, dtype=float).reshape(n, 2)
    y = np.arange(n)
    x_tr, y_tr, x_te, y_te = split(x, y, fraction, np.random.default_rng(0))
    assert len(x_te) == len(y_te) == n_test and len(x_tr) == len(y_tr) == n - n_test
    assert sorted(np.concatenate([y_tr, y_te])) == list(range(n))  # a permutation
    np.testing.assert_array_equal(x_tr[:, 0], 2 * y_tr)  # rows stay paired


def test_split_keeps_one_training_point_and_rejects_bad_input() -> None:
    x_tr, _, x_te, _ = split(np.zeros((4, 1)), np.zeros(4), 0.9, np.random.default_rng(0))
    assert (len(x_tr), len(x_te)) == (1, 3)
    with pytest.raises(DatasetError, match="test_fraction"):
        split(np.zeros((4, 1)), np.zeros(4), 1.0, np.random.default_rng(0))
    with pytest.raises(DatasetError, match="rows"):
        split(np.zeros((4, 1)), np.zeros(3), 0.5, np.random.default_rng(0))


def test_make_dataset_split_size_follows_test_fraction() -> None:
    d = make_dataset({"kind": "gauss", "n": 50, "test_fraction": 0.3})
    assert (len(d.y_train), len(d.y_test)) == (35, 15)


# --------------------------------------------------------------------------- bad specs


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"kind": "moons", "n": "abc"}, "data.n: expected an integer"),
        ({"kind": "moons", "n": 3}, "data.n"),
        ({"kind": "moons", "n": 10.0}, "data.n"),
        ({"kind": "moons", "n": True}, "data.n"),
        ({"kind": "moons", "noise": -0.1}, "data.noise"),
        ({"kind": "moons", "noise": float("nan")}, "data.noise"),
        ({"kind": "moons", "seed": -1}, "data.seed"),
        ({"kind": "moons", "seed": 1.5}, "data.seed"),
        ({"kind": "moons", "test_fraction": 1.0}, "data.test_fraction"),
        ({"kind": "moons", "test_fraction": "0.2"}, "data.test_fraction"),
        ({"kind": "circles", "factor": 1.5}, "data.factor"),
        ({"kind": "spiral", "classes": 1}, "data.classes"),
        ({"kind": "linear", "features": 0}, "data.features"),
        ({"kind": "moons", "factor": 0.5}, "unknown key 'factor' for kind 'moons'"),
        ({"kind": "csv", "path": "a.csv", "target": "y", "n": 5}, "unknown key 'n'"),
        ({"kind": "banana"}, "unknown kind 'banana' (known: xor, circles, moons"),
        ({"n": 5}, "data.kind: missing"),
        ({"kind": "csv", "target": "y"}, "data.path: missing"),
        ({"kind": "csv", "path": "a.csv"}, "data.target: missing"),
        ({"kind": "csv", "path": "a.csv", "target": "y", "features": "x"}, "data.features"),
        ({"kind": "csv", "path": "a.csv", "target": "y", "features": []}, "data.features"),
        ({"kind": "csv", "path": "a.csv", "target": "y", "task": "cluster"}, "data.task"),
    ],
)
def test_bad_spec(spec: dict[str, Any], fragment: str) -> None:
    with pytest.raises(DatasetError) as info:
        make_dataset(spec)
    assert fragment in str(info.value)
    assert isinstance(info.value, BpvizError)


def test_spec_must_be_a_mapping() -> None:
    with pytest.raises(DatasetError, match="mapping"):
        make_dataset(["moons"])  # type: ignore[arg-type]


# --------------------------------------------------------------------------- CSV


def test_csv_classification_auto(tmp_path: Path) -> None:
    rows = "\n".join(f"{i},{i * 0.5},{[3, 7][i % 2]}" for i in range(10))
    path = write(tmp_path, f"x1,x2,label\n{rows}\n\n\n")
    d = make_dataset({"kind": "csv", "path": str(path), "target": "label", "test_fraction": 0.0})
    assert (d.task, d.n_classes, d.feature_names) == ("binary", 2, ("x1", "x2"))
    assert d.x_train.shape == (10, 2) and d.y_train.dtype == np.int64
    order = np.argsort(d.x_train[:, 0])
    np.testing.assert_array_equal(d.y_train[order], [0, 1] * 5)  # 3 -> 0, 7 -> 1
    np.testing.assert_array_equal(d.x_train[order, 1], np.arange(10) * 0.5)


def test_csv_relative_path_resolves_against_base_dir(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    write(tmp_path / "data", "a,b,y\n1,2,0\n3,4,1\n5,6,2\n7,8,1\n")
    spec = {"kind": "csv", "path": "data/points.csv", "target": "y", "features": ["b"]}
    d = make_dataset(spec, base_dir=tmp_path)
    assert (d.task, d.n_classes, d.feature_names) == ("multiclass", 3, ("b",))
    assert len(d.y_train) + len(d.y_test) == 4 and len(d.y_test) == 1
    same = make_dataset(spec, base_dir=str(tmp_path))
    np.testing.assert_array_equal(d.x_train, same.x_train)


def test_csv_auto_regression_and_explicit_task(tmp_path: Path) -> None:
    path = write(tmp_path, "x,y\n1,0.5\n2,1.5\n3,2.5\n4,3.5\n")
    d = make_dataset({"kind": "csv", "path": str(path), "target": "y"})
    assert (d.task, d.n_classes) == ("regression", 0) and d.y_train.dtype == np.float64
    many = "\n".join(f"{i},{i}" for i in range(12))
    path = write(tmp_path, f"x,y\n{many}\n", "many.csv")
    assert make_dataset({"kind": "csv", "path": str(path), "target": "y"}).task == "regression"
    spec = {"kind": "csv", "path": str(path), "target": "y", "task": "multiclass"}
    assert make_dataset(spec).n_classes == 12
    with pytest.raises(DatasetError, match="'binary' needs 2"):
        make_dataset({**spec, "task": "binary"})


def test_csv_text_columns_outside_features_are_ignored(tmp_path: Path) -> None:
    path = write(tmp_path, "name,x,y\nann,1,0\nbob,2,1\n")
    x, y, names = load_csv(path, "y", ["x"])
    np.testing.assert_array_equal(x, [[1.0], [2.0]])
    np.testing.assert_array_equal(y, [0.0, 1.0])
    assert names == ("x",) and x.dtype == y.dtype == np.float64


def test_csv_header_whitespace_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffx1, x2 ,y\r\n1, 2 ,3\r\n".encode())
    x, y, names = load_csv(path, "y")
    assert names == ("x1", "x2")
    np.testing.assert_array_equal(x, [[1.0, 2.0]])


@pytest.mark.parametrize(
    ("text", "target", "features", "fragments"),
    [
        ("", "y", None, ["points.csv", "empty"]),
        ("\n\n", "y", None, ["points.csv", "empty"]),
        ("x1,x2,y\n", "y", None, ["points.csv", "no data rows"]),
        ("1,2,3\n4,5,6\n", "y", None, ["points.csv", "line 1", "header"]),
        ("x1,x2,y\n1,2,3\n", "label", None, ["points.csv: no column 'label' (columns: x1, x2, y)"]),
        ("x1,x2,y\n1,2,3\n", "y", ["x3"], ["points.csv", "no feature column 'x3'"]),
        ("x1,x2,y\n1,2,3\n", "y", ["y"], ["points.csv", "'y' is the target"]),
        ("y\n1\n", "y", None, ["points.csv", "no feature columns"]),
        ("x1,x1,y\n1,2,3\n", "y", None, ["points.csv", "line 1", "duplicate column name 'x1'"]),
        ("x1,,y\n1,2,3\n", "y", None, ["points.csv", "line 1", "column 2 has no name"]),
        (
            "a,b,c,y\n1,2,3,4\n1,2,3,4\n1,2,3,4\n1,2,3\n",
            "y",
            None,
            ["points.csv, line 5: 3 fields, expected 4"],
        ),
        ("x1,x2,y\n1,2,3\n\n4,5,6\n", "y", None, ["points.csv, line 3", "blank line"]),
        (
            "x1,x2,y\n" + "1,2,0\n" * 5 + "1,abc,0\n",
            "y",
            None,
            ["points.csv, line 7, column 'x2': 'abc' is not a number"],
        ),
        ("x1,x2,y\n1,2,\n", "y", None, ["points.csv, line 2, column 'y': '' is not a number"]),
        ("x1,x2,y\n1,nan,0\n", "y", None, ["points.csv, line 2, column 'x2'", "not a finite"]),
        ("x1,x2,y\n1,2,0\n1,2,inf\n", "y", None, ["points.csv, line 3, column 'y'", "finite"]),
    ],
)
def test_bad_csv(
    tmp_path: Path, text: str, target: str, features: list[str] | None, fragments: list[str]
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(DatasetError) as info:
        load_csv(path, target, features)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_bad_csv_through_make_dataset_names_the_file(tmp_path: Path) -> None:
    write(tmp_path, "x,y\n1,0\n2,oops\n")
    with pytest.raises(DatasetError, match=r"points\.csv, line 3, column 'y': 'oops'"):
        make_dataset({"kind": "csv", "path": "points.csv", "target": "y"}, base_dir=tmp_path)


def test_missing_and_unreadable_csv(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"nothere\.csv: file not found"):
        load_csv(tmp_path / "nothere.csv", "y")
    with pytest.raises(DatasetError, match=r"missing\.csv: file not found"):
        make_dataset({"kind": "csv", "path": "missing.csv", "target": "y"}, base_dir=tmp_path)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"x,y\n\xff\xfe,1\n")
    with pytest.raises(DatasetError, match=r"binary\.csv: not a UTF-8"):
        load_csv(binary, "y")


def test_csv_single_class_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "x,y\n1,4\n2,4\n")
    with pytest.raises(DatasetError, match=r"points\.csv: column 'y' holds one value"):
        make_dataset({"kind": "csv", "path": str(path), "target": "y"})


def test_csv_reading_stops_at_the_row_and_number_caps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Memory grows with the numbers kept, never past the caps, whatever the file's size."""
    import bpviz.engine.datasets as datasets

    path = write(tmp_path, "a,b,y\n" + "1,2,0\n" * 20)
    monkeypatch.setattr(datasets, "MAX_POINTS", 12)
    with pytest.raises(DatasetError, match=r"points\.csv, line 14: too many rows \(at most 12 "):
        load_csv(path, "y")
    monkeypatch.setattr(datasets, "MAX_POINTS", 100)
    monkeypatch.setattr(datasets, "MAX_CSV_VALUES", 30)
    with pytest.raises(DatasetError, match=r"points\.csv, line 12: too many rows .* 30 numbers"):
        load_csv(path, "y")
    monkeypatch.setattr(datasets, "MAX_CSV_LINE", 5)
    with pytest.raises(DatasetError, match=r"points\.csv, line 3: longer than 5 characters"):
        load_csv(write(tmp_path, "a,y\n1,2\n12345,6\n"), "y")


def test_csv_must_be_a_regular_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"cannot read file \(a folder, not a regular file\)"):
        load_csv(tmp_path, "y")
