"""How a node shows a number: scalars as text, arrays as a small heatmap with the numbers in a
tooltip. Values use a sequential scale; gradients a diverging one (blue +, red −)."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtGui import QColor, QImage

from bpviz.ui.theme import GRAD_NEGATIVE, GRAD_POSITIVE

MAX_CELLS = 24  # heatmaps show at most 24x24 cells; larger arrays are subsampled
_WHITE = np.array([255, 255, 255], dtype=float)
_POS = np.array(GRAD_POSITIVE.getRgb()[:3], dtype=float)
_NEG = np.array(GRAD_NEGATIVE.getRgb()[:3], dtype=float)
# a short viridis-like ramp for values (dark purple -> teal -> yellow), readable in grey too
_RAMP = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], float)


def format_number(x: float) -> str:
    if not math.isfinite(x):
        return "NaN" if math.isnan(x) else ("+Inf" if x > 0 else "−Inf")
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e4:
        return f"{x:.4g}".replace("-", "−")
    return f"{x:.2e}".replace("-", "−")


def is_scalar(a: np.ndarray) -> bool:
    return a.size == 1


def scalar_of(a: np.ndarray) -> float:
    return float(np.asarray(a, dtype=float).reshape(-1)[0])


def as_matrix(a: np.ndarray) -> np.ndarray:
    """2-D view for drawing: vectors become one row, higher ranks fold their leading axes."""
    a = np.asarray(a, dtype=float)
    if a.ndim == 0:
        a = a.reshape(1, 1)
    elif a.ndim == 1:
        a = a.reshape(1, -1)
    elif a.ndim > 2:
        a = a.reshape(-1, a.shape[-1])
    rows = np.linspace(0, a.shape[0] - 1, min(a.shape[0], MAX_CELLS)).round().astype(int)
    cols = np.linspace(0, a.shape[1] - 1, min(a.shape[1], MAX_CELLS)).round().astype(int)
    return a[np.ix_(rows, cols)]


def heatmap(a: np.ndarray, diverging: bool) -> QImage:
    """One pixel per (subsampled) entry; the item scales it up without smoothing."""
    m = as_matrix(a)
    finite = np.isfinite(m)
    rgb = np.empty(m.shape + (3,))
    if diverging:
        scale = float(np.max(np.abs(m[finite]))) if finite.any() else 1.0
        t = np.clip(np.where(finite, m, 0.0) / (scale or 1.0), -1.0, 1.0)[..., None]
        rgb = np.where(t >= 0, _WHITE + (_POS - _WHITE) * t, _WHITE + (_NEG - _WHITE) * -t)
    else:
        lo = float(m[finite].min()) if finite.any() else 0.0
        hi = float(m[finite].max()) if finite.any() else 1.0
        t = (np.where(finite, m, lo) - lo) / ((hi - lo) or 1.0) * (len(_RAMP) - 1)
        i = np.clip(np.floor(t).astype(int), 0, len(_RAMP) - 2)
        f = (t - i)[..., None]
        rgb = _RAMP[i] * (1 - f) + _RAMP[i + 1] * f
    rgb[~finite] = (255, 0, 255)  # impossible to miss: a NaN or Inf
    data = np.ascontiguousarray(rgb.astype(np.uint8))
    h, w = data.shape[:2]
    image = QImage(data.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    return image.copy()  # own the pixels: `data` is freed when this returns


def sign_colour(g: np.ndarray) -> QColor:
    total = float(np.sum(g))
    if total > 0:
        return GRAD_POSITIVE
    return GRAD_NEGATIVE if total < 0 else QColor("#80868b")


def magnitude(a: np.ndarray) -> float:
    """Size of a gradient for wire thickness: |g| for scalars, the RMS for arrays."""
    a = np.asarray(a, dtype=float)
    m = float(np.sqrt(np.mean(np.square(a)))) if a.size else 0.0
    return m if math.isfinite(m) else float("inf")


def describe(a: np.ndarray, limit: int = 6) -> str:
    """Tooltip text: the numbers (abbreviated) and the shape."""
    a = np.asarray(a)
    if a.size == 1:
        return format_number(scalar_of(a))
    body = np.array2string(a, precision=4, threshold=36, edgeitems=limit // 2, max_line_width=72)
    return f"{body}\nshape {a.shape}"
