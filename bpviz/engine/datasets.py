"""Training data: seeded toy problems, small regressions and CSV files.

A dataset is fully determined by its spec (a plain mapping stored in the scene file), so a saved
scene replays exactly the same training run. Every failure is one DatasetError that names the spec
key (``data.n: ...``) or the file, line and column, so a person can fix it without a debugger.
"""

from __future__ import annotations

import csv
import errno
import io
import math
import numbers
import os
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.random import Generator

from bpviz.engine.errors import DatasetError, plural
from bpviz.engine.files import FileProblem, open_regular

# kind -> (its own spec keys, default noise). Noise is the std of Gaussian noise added to each
# input coordinate (classification) or to the target (regression); for gauss it is the blob spread.
_KINDS: dict[str, tuple[tuple[str, ...], float]] = {
    "xor": (("n", "noise"), 0.2),
    "circles": (("n", "noise", "factor"), 0.05),
    "moons": (("n", "noise"), 0.1),
    "spiral": (("n", "noise", "classes"), 0.05),
    "gauss": (("n", "noise"), 0.5),
    "linear": (("n", "noise", "features"), 0.1),
    "sine": (("n", "noise"), 0.1),
    "csv": (("path", "target", "features", "task"), 0.0),
}
DATASET_KINDS: tuple[str, ...] = tuple(_KINDS)
KIND_KEYS: dict[str, tuple[str, ...]] = {k: keys for k, (keys, _) in _KINDS.items()}
DEFAULT_NOISE: dict[str, float] = {k: noise for k, (_, noise) in _KINDS.items() if k != "csv"}
TASKS: tuple[str, ...] = ("binary", "multiclass", "regression")
MAX_POINTS = 1_000_000  # a typo like n=10**9 should be an error, not a frozen window
MAX_AUTO_CLASSES = 10
_COMMON_KEYS = ("kind", "seed", "test_fraction", "transforms")  # transforms: engine/transforms

Spec = Mapping[str, Any]
PathArg = str | os.PathLike[str]
Check = Callable[[Any], bool]


@dataclass(frozen=True, eq=False)
class Dataset:
    """Train/test arrays plus what a trainer needs to pick a loss and output size.

    Arrays are read-only so that no consumer can silently change a reproducible dataset.
    ``eq=False``: comparing numpy arrays with ``==`` has no single truth value.
    """

    task: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    feature_names: tuple[str, ...]

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])


def _number(spec: Spec, key: str, default: float, ok: Check, want: str, whole: bool = False) -> Any:
    """Read a numeric spec key (``whole``: an integer); bools are refused: True == 1 hides typos."""
    value = spec.get(key, default)
    kind_ok = isinstance(value, numbers.Integral if whole else numbers.Real)
    try:
        kind_ok = kind_ok and math.isfinite(value)
    except OverflowError:  # an int too large for a float
        kind_ok = False
    if isinstance(value, bool) or not kind_ok or not ok(value):
        raise DatasetError(f"data.{key}: expected {want}, got {value!r}")
    return int(value) if whole else float(value)


def _check_keys(spec: Spec, kind: str) -> None:
    allowed = _COMMON_KEYS + _KINDS[kind][0]
    for key in spec:
        if key not in allowed:
            raise DatasetError(
                f"data: unknown key {key!r} for kind {kind!r} (allowed: {', '.join(allowed)})"
            )


def _text(spec: Spec, key: str, expected: str) -> str:
    value = spec.get(key)
    if value is None:
        raise DatasetError(f"data.{key}: missing; expected {expected}")
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value.strip():
        raise DatasetError(f"data.{key}: expected {expected}, got {value!r}")
    return value


_Generated = tuple[np.ndarray, np.ndarray, str, int]  # x, y, task, n_classes


def _xor(rng: Generator, n: int, noise: float, spec: Spec) -> _Generated:
    """Blobs at the (±1, ±1) corners; the label is the XOR of the corner's signs.

    Labels come from the corner, not from the noisy point, so large noise makes classes overlap
    just as it does for the other generators. Corners are used in turn, so classes are balanced.
    """
    corners = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    centre = corners[np.arange(n) % 4]
    x = centre + rng.normal(0.0, noise, size=(n, 2))
    y = ((centre[:, 0] > 0) != (centre[:, 1] > 0)).astype(np.int64)
    return x, y, "binary", 2


def _arc(t: np.ndarray) -> np.ndarray:
    return np.column_stack([np.cos(t), np.sin(t)])


def _two_classes(rng: Generator, noise: float, a: np.ndarray, b: np.ndarray) -> _Generated:
    """Points ``a`` are class 0 and ``b`` class 1, each coordinate blurred by ``noise``."""
    x = np.vstack([a, b]) + rng.normal(0.0, noise, size=(len(a) + len(b), 2))
    y = np.concatenate([np.zeros(len(a), np.int64), np.ones(len(b), np.int64)])
    return x, y, "binary", 2


def _circles(rng: Generator, n: int, noise: float, spec: Spec) -> _Generated:
    """Outer unit ring (class 0) around an inner circle of radius ``factor`` (class 1)."""
    factor = _number(spec, "factor", 0.5, lambda v: 0 < v < 1, "a number in (0, 1)")
    t0 = np.linspace(0.0, 2 * np.pi, n // 2, endpoint=False)
    t1 = np.linspace(0.0, 2 * np.pi, n - n // 2, endpoint=False)
    return _two_classes(rng, noise, _arc(t0), factor * _arc(t1))


def _moons(rng: Generator, n: int, noise: float, spec: Spec) -> _Generated:
    """Upper half circle centred at (0, 0) (class 0) hooked into a lower one at (1, 0.5)."""
    top = _arc(np.linspace(0.0, np.pi, n // 2))
    bottom = np.array([1.0, 0.5]) - _arc(np.linspace(0.0, np.pi, n - n // 2))
    return _two_classes(rng, noise, top, bottom)


def _spiral(rng: Generator, n: int, noise: float, spec: Spec) -> _Generated:
    """``classes`` arms, each one full turn, rotated 2π/classes apart (radius 0 → 1)."""
    k = _number(spec, "classes", 3, lambda v: 2 <= v <= n, f"an integer from 2 to n ({n})", True)
    y = np.arange(n, dtype=np.int64) % k
    per_arm = math.ceil(n / k)
    r = (np.arange(n) // k + 1) / per_arm
    theta = 2 * np.pi * (y / k + r)
    x = r[:, None] * np.column_stack([np.cos(theta), np.sin(theta)])
    x = x + rng.normal(0.0, noise, size=(n, 2))
    return x, y, ("binary" if k == 2 else "multiclass"), k


def _gauss(rng: Generator, n: int, noise: float, spec: Spec) -> _Generated:
    """Two isotropic blobs at (-1, -1) (class 0) and (1, 1) (class 1) with std ``noise``."""
    y = np.arange(n, dtype=np.int64) % 2
    centre = np.where(y[:, None] == 1, 1.0, -1.0) * np.ones((n, 2))
    x = centre + rng.normal(0.0, noise, size=(n, 2))
    return x, y, "binary", 2


def _linear(rng: Generator, n: int, noise: float, spec: Spec) -> _Generated:
    """y = w·x + b + noise; w and b are drawn from the seeded rng so the seed fixes them too."""
    d = _number(spec, "features", 1, lambda v: 1 <= v <= 1000, "an integer from 1 to 1000", True)
    w = rng.uniform(-2.0, 2.0, size=d)
    b = rng.uniform(-1.0, 1.0)
    x = rng.uniform(-1.0, 1.0, size=(n, d))
    y = x @ w + b + rng.normal(0.0, noise, size=n)
    return x, y, "regression", 0


def _sine(rng: Generator, n: int, noise: float, spec: Spec) -> _Generated:
    """One period of sin: the smallest problem that needs a hidden layer to fit."""
    x = rng.uniform(-np.pi, np.pi, size=(n, 1))
    y = np.sin(x[:, 0]) + rng.normal(0.0, noise, size=n)
    return x, y, "regression", 0


_GENERATORS: dict[str, Callable[..., _Generated]] = {
    "xor": _xor,
    "circles": _circles,
    "moons": _moons,
    "spiral": _spiral,
    "gauss": _gauss,
    "linear": _linear,
    "sine": _sine,
}


def make_dataset(spec: Spec, base_dir: PathArg | None = None) -> Dataset:
    """Build the dataset a scene's ``data`` spec describes; same spec → identical arrays.

    xor special case: ``n == 4`` with noise 0 (the default for n == 4) gives exactly the truth
    table (0,0)->0, (0,1)->1, (1,0)->1, (1,1)->0 in that order, all of it training data
    (``test_fraction`` is ignored: there is nothing to spare). Any other xor spec gives noisy
    blobs at the (±1, ±1) corners (default noise 0.2).
    """
    if not isinstance(spec, Mapping):
        raise DatasetError(f"data: expected a mapping of settings, got {type(spec).__name__}")
    kind = spec.get("kind")
    if not isinstance(kind, str) or kind not in DATASET_KINDS:
        what = "missing" if kind is None else f"unknown kind {kind!r}"
        raise DatasetError(f"data.kind: {what} (known: {', '.join(DATASET_KINDS)})")
    _check_keys(spec, kind)
    seed = _number(spec, "seed", 0, lambda v: v >= 0, "an integer >= 0", whole=True)
    test_fraction = _number(spec, "test_fraction", 0.2, lambda v: 0 <= v < 1, "a number in [0, 1)")
    rng = np.random.default_rng(seed)
    if kind == "csv":
        return _csv_dataset(spec, base_dir, test_fraction, rng)

    n = _number(
        spec, "n", 200, lambda v: 4 <= v <= MAX_POINTS, f"an integer from 4 to {MAX_POINTS}", True
    )
    default_noise = 0.0 if kind == "xor" and n == 4 else _KINDS[kind][1]
    noise = _number(spec, "noise", default_noise, lambda v: 0 <= v < math.inf, "a number >= 0")
    if kind == "xor" and n == 4 and noise == 0:
        x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
        y = np.array([0, 1, 1, 0], dtype=np.int64)
        return _freeze("binary", (x, y, x[:0], y[:0]), 2, ("x1", "x2"))
    x, y, task, n_classes = _GENERATORS[kind](rng, n, noise, spec)
    names = tuple(f"x{i + 1}" for i in range(x.shape[1]))
    return _freeze(task, split(x, y, test_fraction, rng), n_classes, names)


def split(
    x: np.ndarray, y: np.ndarray, test_fraction: float, rng: Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle, then hold out round(test_fraction * N) points (at least one point stays in train).

    Generators emit points grouped by class, so the shuffle also mixes classes for training.
    """
    x = np.asarray(x)
    y = np.asarray(y)
    if len(x) != len(y):
        raise DatasetError(f"split: x has {len(x)} rows but y has {len(y)}")
    if isinstance(test_fraction, bool) or not 0 <= test_fraction < 1:
        raise DatasetError(f"test_fraction: expected a number in [0, 1), got {test_fraction!r}")
    n = len(x)
    n_test = min(int(round(test_fraction * n)), max(n - 1, 0))
    order = rng.permutation(n)
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test]


MAX_CSV_LINE = 1 << 20  # characters in one line: a file without line breaks is not a table
MAX_CSV_VALUES = 20_000_000  # numbers kept (160 MB as float64)


def load_csv(
    path: PathArg, target: str, features: Sequence[str] | None = None
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Read numeric columns from a CSV with a header row: (X (N, d), raw y (N,), feature names).

    Only the target and feature columns must be numeric, so a CSV may carry e.g. a text id column
    as long as ``features`` leaves it out. The file is streamed: memory grows with the numbers
    kept (at most MAX_POINTS rows, MAX_CSV_VALUES numbers), not with the file's size.
    """
    name = os.fspath(path)
    try:
        with _open_text(path, name) as fh:
            return _parse_csv(csv.reader(_lines(fh, name)), name, target, features)
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{name}: not a UTF-8 text file ({exc.reason})") from None
    except OSError as exc:
        raise DatasetError(f"{name}: cannot read file ({exc.strerror or exc})") from None


def _open_text(path: PathArg, name: str) -> io.TextIOWrapper:
    """Only a regular file (a FIFO would block, /dev/zero never ends), as UTF-8 text."""
    try:
        raw = open_regular(path)
    except FileProblem as exc:
        if exc.errno == errno.ENOENT:
            raise DatasetError(f"{name}: file not found") from None
        raise DatasetError(f"{name}: cannot read file ({exc.reason})") from None
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


def _lines(fh: io.TextIOWrapper, name: str) -> Iterator[str]:
    """The file's lines, each at most MAX_CSV_LINE characters."""
    n = 0
    while line := fh.readline(MAX_CSV_LINE + 1):
        n += 1
        if len(line) > MAX_CSV_LINE:
            raise DatasetError(f"{name}, line {n}: longer than {MAX_CSV_LINE} characters")
        yield line


def _rows(reader: Any, name: str) -> Iterator[tuple[int, list[str]]]:
    """(1-based line number, fields) for every row."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DatasetError(f"{name}, line {reader.line_num}: {exc}") from None
        yield reader.line_num, row


def _parse_csv(
    reader: Any, name: str, target: str, features: Sequence[str] | None
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    rows = _rows(reader, name)
    first = next(rows, None)
    if first is not None and _blank(first[1]) and all(_blank(row) for _, row in rows):
        first = None  # only blank lines
    if first is None:
        raise DatasetError(f"{name}: file is empty")
    columns = _header(first[1], name)
    listing = ", ".join(columns)
    if target not in columns:
        raise DatasetError(f"{name}: no column {target!r} (columns: {listing})")
    if features is None:
        features = [c for c in columns if c != target]
        if not features:
            raise DatasetError(f"{name}: no feature columns besides the target {target!r}")
    for f in features:
        if f not in columns:
            raise DatasetError(f"{name}: no feature column {f!r} (columns: {listing})")
        if f == target:
            raise DatasetError(f"{name}: column {target!r} is the target, not a feature")
    wanted = [*features, target]
    index = [columns.index(c) for c in wanted]
    values = array("d")
    count, blank_at = 0, None
    for line, row in rows:
        if _blank(row):
            blank_at = blank_at or line  # an error only if data follows
            continue
        if blank_at is not None:
            raise DatasetError(f"{name}, line {blank_at}: blank line inside the data")
        if len(row) != len(columns):
            got = plural(len(row), "field")
            raise DatasetError(f"{name}, line {line}: {got}, expected {len(columns)}")
        count += 1
        if count > MAX_POINTS or count * len(wanted) > MAX_CSV_VALUES:
            raise DatasetError(
                f"{name}, line {line}: too many rows (at most {MAX_POINTS} rows and"
                f" {MAX_CSV_VALUES} numbers)"
            )
        values.extend(_parse(row[i], name, line, col) for col, i in zip(wanted, index, strict=True))
    if not count:
        raise DatasetError(f"{name}: no data rows after the header")
    table = np.frombuffer(values, dtype=np.float64).reshape(count, len(wanted))
    return table[:, :-1].copy(), table[:, -1].copy(), tuple(features)


def _blank(row: Sequence[str]) -> bool:
    return all(not field.strip() for field in row)


def _header(fields: list[str], name: str) -> list[str]:
    """Column names from line 1; a first line of numbers means the header was forgotten."""
    columns = [f.strip() for f in fields]
    if not any(columns):
        raise DatasetError(f"{name}, line 1: expected a header row, got a blank line")
    if all(_is_number(c) for c in columns):
        raise DatasetError(f"{name}, line 1: expected a header row of names, got numbers")
    for i, col in enumerate(columns):
        if not col:
            raise DatasetError(f"{name}, line 1: column {i + 1} has no name")
        if col in columns[:i]:
            raise DatasetError(f"{name}, line 1: duplicate column name {col!r}")
    return columns


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _parse(text: str, name: str, line: int, column: str) -> float:
    where = f"{name}, line {line}, column {column!r}"
    try:
        value = float(text)
    except ValueError:
        raise DatasetError(f"{where}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise DatasetError(f"{where}: {text!r} is not a finite number")
    return value


def _csv_dataset(spec: Spec, base_dir: PathArg | None, frac: float, rng: Generator) -> Dataset:
    path = Path(_text(spec, "path", "a CSV file path"))
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    target = _text(spec, "target", "a column name")
    features = spec.get("features")
    if features is not None and (
        isinstance(features, str)
        or not isinstance(features, Sequence)
        or not features
        or not all(isinstance(f, str) for f in features)
        or len(set(features)) != len(features)
    ):
        raise DatasetError(
            f"data.features: expected a non-empty list of distinct column names, got {features!r}"
        )
    task = spec.get("task", "auto")
    if task not in ("auto", *TASKS):
        raise DatasetError(f"data.task: expected one of auto, {', '.join(TASKS)}, got {task!r}")
    x, raw_y, names = load_csv(path, target, features)
    task, y, n_classes = _resolve_task(raw_y, task, os.fspath(path), target)
    return _freeze(task, split(x, y, frac, rng), n_classes, names)


def _resolve_task(y: np.ndarray, task: str, name: str, target: str) -> tuple[str, np.ndarray, int]:
    """Auto: a few integer values means class labels; remap them to 0..K-1 in sorted order."""
    classes, labels = np.unique(y, return_inverse=True)
    if task == "auto":
        few_ints = bool(np.all(y == np.round(y))) and len(classes) <= MAX_AUTO_CLASSES
        task = ("binary" if len(classes) == 2 else "multiclass") if few_ints else "regression"
    if task == "regression":
        return task, y, 0
    if len(classes) < 2:
        raise DatasetError(
            f"{name}: column {target!r} holds one value ({classes[0]:g}); a classifier needs two"
        )
    if task == "binary" and len(classes) != 2:
        k = len(classes)
        raise DatasetError(f"{name}: task 'binary' needs 2 values in column {target!r}, found {k}")
    return task, labels.reshape(-1).astype(np.int64), len(classes)


def _freeze(
    task: str, parts: Sequence[np.ndarray], n_classes: int, names: tuple[str, ...]
) -> Dataset:
    """Fix dtypes (float64 inputs; int64 labels or float64 targets) and make arrays read-only."""
    y_type = np.float64 if task == "regression" else np.int64
    arrays = []
    for a, dtype in zip(parts, (np.float64, y_type, np.float64, y_type), strict=True):
        a = np.array(a, dtype=dtype, order="C")  # always a fresh copy we own
        a.setflags(write=False)
        arrays.append(a)
    return Dataset(task, *arrays, n_classes=n_classes, feature_names=names)


def preview_csv(path: PathArg, rows: int = 5) -> tuple[list[str], list[list[str]]]:
    """The header and the first `rows` data rows as text, for a file picker's preview;
    reads no further than that. DatasetError names the file (and line) when it cannot."""
    name = os.fspath(path)
    try:
        with _open_text(path, name) as fh:
            found = _rows(csv.reader(_lines(fh, name)), name)
            first = next(found, None)
            if first is None:
                raise DatasetError(f"{name}: file is empty")
            columns = _header(first[1], name)
            data: list[list[str]] = []
            for _, row in found:
                if len(data) >= rows:
                    break
                if not _blank(row):
                    data.append(row)
            return columns, data
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{name}: not a UTF-8 text file ({exc.reason})") from None
    except OSError as exc:
        raise DatasetError(f"{name}: cannot read file ({exc.strerror or exc})") from None
