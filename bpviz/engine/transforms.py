"""Feature transforms (`data.transforms`): new input features made from the raw ones.

A learner adds x1², x1·x2 or sin x1 as inputs the way TensorFlow Playground offers them, so a
single linear unit can draw a circle. The vocabulary is deliberately tiny and fixed — `xi`,
`xi^2`, `xi*xj`, `sin(xi)`, `cos(xi)` over the raw features x1…xF — so every consumer
(training, predictions, the decision-boundary grid, every export target) computes the same
numbers from one parsed description instead of evaluating free text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from bpviz.engine.datasets import Dataset
from bpviz.engine.errors import DatasetError

KINDS: tuple[str, ...] = ("x", "square", "product", "sin", "cos")
VOCABULARY = "xi, xi^2, xi*xj, sin(xi) or cos(xi)"
_INDEX = r"x([1-9][0-9]{0,5})"
_FORMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("x", re.compile(rf"{_INDEX}\Z")),
    ("square", re.compile(rf"{_INDEX}\^2\Z")),
    ("product", re.compile(rf"{_INDEX}\*{_INDEX}\Z")),
    ("sin", re.compile(rf"sin\({_INDEX}\)\Z")),
    ("cos", re.compile(rf"cos\({_INDEX}\)\Z")),
)


@dataclass(frozen=True)
class Feature:
    """One transformed feature: its expression as written and the 0-based columns it reads."""

    text: str
    kind: str  # one of KINDS
    i: int
    j: int = -1  # the second column of a product

    def numpy(self, x: np.ndarray) -> np.ndarray:
        """This feature's column (N,) from raw features (N, F)."""
        a = x[:, self.i]
        if self.kind == "x":
            return a
        if self.kind == "square":
            return a * a  # a product, not a power: every target rounds it the same way
        if self.kind == "product":
            return a * x[:, self.j]
        return np.sin(a) if self.kind == "sin" else np.cos(a)

    def code(self, lib: str, x: str = "x") -> str:
        """Source of this column for generated code; `lib` is "np" or "torch"."""
        a = f"{x}[:, {self.i}]"
        if self.kind == "x":
            return a
        if self.kind == "square":
            return f"{a} * {a}"
        if self.kind == "product":
            return f"{a} * {x}[:, {self.j}]"
        return f"{lib}.{self.kind}({a})"


Features = tuple[Feature, ...]


def parse_feature(text: Any, n_features: int, where: str) -> Feature:
    """One expression, or DatasetError naming `where` (e.g. `data.transforms[2]`)."""
    if not isinstance(text, str):
        raise DatasetError(f"{where}: expected an expression such as 'x1^2', got {text!r}")
    for kind, pattern in _FORMS:
        m = pattern.match(text)
        if m is None:
            continue
        cols = [int(g) - 1 for g in m.groups()]
        if any(c >= n_features for c in cols):
            s = "" if n_features == 1 else "s"
            raise DatasetError(
                f"{where}: unknown expression {text!r} (the data has {n_features} feature{s})"
            )
        return Feature(text, kind, *cols)
    raise DatasetError(
        f"{where}: unknown expression {text!r} (expected {VOCABULARY}, "
        f"with i and j from 1 to {n_features})"
    )


def parse_transforms(spec: Any, n_features: int, where: str = "data.transforms") -> Features:
    """The features `spec` (a scene's `data.transforms`) describes for data with
    `n_features` raw columns. Absent (None) means the raw features unchanged: ()."""
    if spec is None:
        return ()
    if isinstance(spec, (str, bytes)) or not isinstance(spec, Sequence):
        raise DatasetError(f"{where}: expected a list of expressions, got {spec!r}")
    if not spec:
        raise DatasetError(
            f"{where}: expected at least one expression (leave the key out for the raw features)"
        )
    features: list[Feature] = []
    seen: dict[tuple[str, int, int], int] = {}
    for k, text in enumerate(spec):
        f = parse_feature(text, n_features, f"{where}[{k}]")
        key = (f.kind, min(f.i, f.j), max(f.i, f.j)) if f.kind == "product" else (f.kind, f.i, -1)
        if key in seen:
            raise DatasetError(f"{where}[{k}]: {text!r} repeats {where}[{seen[key]}]")
        seen[key] = k
        features.append(f)
    return tuple(features)


def apply_features(features: Features, x: np.ndarray) -> np.ndarray:
    """Raw features (N, F) → transformed (N, len(features)); () leaves `x` as it is."""
    if not features:
        return x
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise DatasetError(f"feature transforms need a (rows, features) matrix, got {x.shape}")
    out = np.empty((x.shape[0], len(features)), dtype=np.float64)
    for k, f in enumerate(features):
        out[:, k] = f.numpy(x)
    return out


def transform_dataset(ds: Dataset, features: Features) -> Dataset:
    """The dataset as the network sees it: same targets, transformed inputs (read-only)."""
    if not features:
        return ds
    parts = []
    for x in (ds.x_train, ds.x_test):
        a = apply_features(features, x) if len(x) else np.empty((0, len(features)))
        a.setflags(write=False)
        parts.append(a)
    names = tuple(f.text for f in features)
    return replace(ds, x_train=parts[0], x_test=parts[1], feature_names=names)


def source(features: Features, lib: str, indent: int = 4, x: str = "x") -> str:
    """An expression building the transformed matrix in generated code (`lib` "np" or
    "torch"), one column per line with its expression as a comment; `indent` is the
    indentation of the line the expression starts on."""
    pad = " " * indent
    rows = "".join(f"{pad}        {f.code(lib, x)},  # {f.text}\n" for f in features)
    axis = "axis" if lib == "np" else "dim"
    return f"{lib}.stack(\n{pad}    [\n{rows}{pad}    ],\n{pad}    {axis}=1,\n{pad})"
