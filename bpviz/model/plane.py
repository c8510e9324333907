"""The input plane the model is drawn over: the padded box around the data, and the grid or
line of sample points inside it. Shared by the decision-boundary view and the neuron maps so
both show the same box."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bpviz.engine.datasets import Dataset

PAD = 0.10  # the data box grows by this share of its size on every side
CURVE_POINTS = 200  # samples of a 1-D curve


def data_box(ds: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper corners of all inputs (train and test), padded by PAD."""
    x = np.vstack([ds.x_train, ds.x_test]) if len(ds.x_test) else ds.x_train
    lo, hi = x.min(axis=0).astype(float), x.max(axis=0).astype(float)
    span = np.where(hi > lo, hi - lo, 1.0)
    return lo - PAD * span, hi + PAD * span


def cell_centres(lo: float, hi: float, n: int) -> np.ndarray:
    """Centres of n equal cells between lo and hi (an image's pixels cover the box exactly)."""
    return lo + (np.arange(n) + 0.5) * (hi - lo) / n


@dataclass(frozen=True)
class Plane:
    """Where a model is sampled: `kind` "map" (2-D data: a size × size grid, row j is
    ys[j] and column i is xs[i]), "curve" (1-D data: points along the range) or "none"."""

    kind: str
    lo: np.ndarray
    hi: np.ndarray
    xs: np.ndarray
    ys: np.ndarray
    points: np.ndarray  # (rows, features): what is fed to predict

    @classmethod
    def for_data(cls, ds: Dataset | None, size: int, curve_points: int = CURVE_POINTS) -> Plane:
        if ds is None or ds.n_features not in (1, 2):
            empty = np.empty(0)
            return cls("none", empty, empty, empty, empty, np.empty((0, 0)))
        lo, hi = data_box(ds)
        if ds.n_features == 2:
            xs, ys = cell_centres(lo[0], hi[0], size), cell_centres(lo[1], hi[1], size)
            gx, gy = np.meshgrid(xs, ys)
            return cls("map", lo, hi, xs, ys, np.column_stack([gx.ravel(), gy.ravel()]))
        xs = np.linspace(lo[0], hi[0], curve_points)
        return cls("curve", lo, hi, xs, np.empty(0), xs[:, None])

    def shape_values(self, values: np.ndarray) -> np.ndarray:
        """A node's (rows, units) values over `points` as (len(ys), len(xs), units) for a
        map, (len(xs), units) for a curve."""
        v = np.asarray(values, dtype=float)
        v = v.reshape(len(self.points), -1)
        if self.kind == "map":
            return v.reshape(len(self.ys), len(self.xs), v.shape[1])
        return v
