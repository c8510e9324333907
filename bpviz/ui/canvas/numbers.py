"""How a node shows a number: scalars as text, arrays as a small heatmap with the numbers in a
tooltip. Values use a sequential scale; gradients a diverging one (blue +, red −)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np
from PySide6.QtGui import QColor, QImage

from bpviz.ui.theme import current_theme

MAX_CELLS = 24  # heatmaps show at most 24x24 cells; larger arrays are subsampled
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


def compact_number(x: float, digits: int) -> str:
    """Scientific notation with a short exponent: 0.0024736 -> '2.47e−3' (digits=3)."""
    if not math.isfinite(x) or x == 0:
        return format_number(x)
    mantissa, exponent = f"{x:.{max(digits - 1, 0)}e}".split("e")
    return f"{mantissa}e{int(exponent)}".replace("-", "−")


def full_number(x: float) -> str:
    """Every digit the float has (for tooltips; the node shows a shortened form)."""
    if not math.isfinite(x):
        return format_number(x)
    return repr(float(x)).replace("-", "−")


def fit_number(x: float, room: float, width_of: Callable[[str], float]) -> str:
    """The most precise form of `x` that is at most `room` wide: the usual 4 significant
    digits, else compact notation with 3, 2 or 1 of them (the last one in any case)."""
    candidates = [format_number(x)]
    if math.isfinite(x) and x != 0:
        candidates += [compact_number(x, d) for d in (4, 3, 2, 1)]
    for text in candidates:
        if width_of(text) <= room:
            return text
    return candidates[-1]


def is_scalar(a: np.ndarray) -> bool:
    return a.size == 1


def scalar_of(a: np.ndarray) -> float:
    return float(np.asarray(a, dtype=float).reshape(-1)[0])


def _peaks(a: np.ndarray, axis: int, cells: int = MAX_CELLS) -> np.ndarray:
    """Fold `axis` down to at most `cells` blocks, keeping each block's entry of largest
    magnitude (with its sign): a few non-zero gradients in a batch of zeros stay visible."""
    n = a.shape[axis]
    if n <= cells:
        return a
    starts = np.linspace(0, n, cells, endpoint=False).astype(int)
    hi = np.maximum.reduceat(a, starts, axis=axis)
    lo = np.minimum.reduceat(a, starts, axis=axis)
    # a NaN or Inf anywhere in a block must survive (it is drawn magenta)
    bad = np.logical_or.reduceat(~np.isfinite(a), starts, axis=axis)
    out = np.where(np.abs(lo) > np.abs(hi), lo, hi)
    return np.where(bad, np.nan, out)


def as_matrix(
    a: np.ndarray, peaks: bool = False, cells: tuple[int, int] = (MAX_CELLS, MAX_CELLS)
) -> np.ndarray:
    """2-D view for drawing: vectors become one row, higher ranks fold their leading axes.
    Beyond MAX_CELLS rows or columns, every n-th is shown, or with `peaks` (gradients, often
    zero for most of a batch) each block's entry of largest magnitude. `cells`: the most
    (rows, columns) kept, MAX_CELLS each unless fewer pixels will show them."""
    a = np.asarray(a, dtype=float)
    if a.ndim == 0:
        a = a.reshape(1, 1)
    elif a.ndim == 1:
        a = a.reshape(1, -1)
    elif a.ndim > 2:
        a = a.reshape(-1, a.shape[-1])
    if peaks:
        return _peaks(_peaks(a, 0, cells[0]), 1, cells[1])
    rows = np.linspace(0, a.shape[0] - 1, min(a.shape[0], cells[0])).round().astype(int)
    cols = np.linspace(0, a.shape[1] - 1, min(a.shape[1], cells[1])).round().astype(int)
    return a[np.ix_(rows, cols)]


def color_scale(a: np.ndarray, diverging: bool) -> tuple[float, float]:
    """The numbers the heatmap's colours run between: (−m, m) with m the largest |entry|
    for gradients, (min, max) for values; finite entries only, (0, 0) if there are none."""
    a = np.asarray(a, dtype=float)
    finite = a[np.isfinite(a)]
    if not finite.size:
        return 0.0, 0.0
    if diverging:
        m = float(np.max(np.abs(finite)))
        return -m, m
    return float(finite.min()), float(finite.max())


def scale_text(
    lo: float, hi: float, diverging: bool, digits: int = 2, compact: bool = False
) -> str:
    """The colour scale in words: '±0.013', '0' for an all-zero gradient, '0…2.4'."""

    def short(x: float) -> str:
        text = f"{x:.{digits}g}"
        if x and (compact or "e" in text):
            return compact_number(x, digits)
        return text.replace("-", "−")

    if diverging:
        return "0" if hi == 0 else f"±{short(hi)}"
    return short(lo) if lo == hi else f"{short(lo)}…{short(hi)}"


def fit_scale(
    lo: float, hi: float, diverging: bool, room: float, width_of: Callable[[str], float]
) -> str:
    """`scale_text` with two significant digits, else one, else in compact notation: the
    first that is at most `room` wide (the last in any case)."""
    for digits, compact in ((2, False), (1, False), (1, True)):
        text = scale_text(lo, hi, diverging, digits, compact)
        if width_of(text) <= room:
            break
    return text


def heatmap(
    a: np.ndarray,
    diverging: bool,
    neutral: QColor | None = None,
    cells: tuple[int, int] = (MAX_CELLS, MAX_CELLS),
) -> QImage:
    """One pixel per (folded) entry, at most `cells` (rows, columns); the item scales it up
    without smoothing, so it folds to no more cells than it has pixels (scaling down would
    drop whole rows: the few non-zero gradients of a batch). Diverging maps run from the
    theme's red through `neutral` (a zero gradient; default white) to its blue."""
    m = as_matrix(a, peaks=diverging, cells=cells)
    finite = np.isfinite(m)
    rgb = np.empty(m.shape + (3,))
    if diverging:
        theme = current_theme()
        pos, neg = (_rgb(QColor(c)) for c in (theme.grad_positive, theme.grad_negative))
        mid = np.full(3, 255.0) if neutral is None else _rgb(neutral)
        scale = float(np.max(np.abs(m[finite]))) if finite.any() else 1.0
        t = np.clip(np.where(finite, m, 0.0) / (scale or 1.0), -1.0, 1.0)[..., None]
        rgb = np.where(t >= 0, mid + (pos - mid) * t, mid + (neg - mid) * -t)
    else:
        lo = float(m[finite].min()) if finite.any() else 0.0
        hi = float(m[finite].max()) if finite.any() else 1.0
        # halves: hi − lo itself may pass 1e308 when values diverge
        t = (np.where(finite, m, lo) / 2 - lo / 2) / ((hi / 2 - lo / 2) or 1.0) * (len(_RAMP) - 1)
        i = np.clip(np.floor(t).astype(int), 0, len(_RAMP) - 2)
        f = (t - i)[..., None]
        rgb = _RAMP[i] * (1 - f) + _RAMP[i + 1] * f
    rgb[~finite] = (255, 0, 255)  # impossible to miss: a NaN or Inf
    data = np.ascontiguousarray(rgb.astype(np.uint8))
    h, w = data.shape[:2]
    image = QImage(data.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    return image.copy()  # own the pixels: `data` is freed when this returns


def _rgb(colour: QColor) -> np.ndarray:
    return np.array(colour.getRgb()[:3], dtype=float)


def gradient_sign(g: np.ndarray) -> float:
    """The sign of a gradient's sum: 1.0, -1.0, 0.0 (or NaN, which counts as zero)."""
    if g.size == 1:  # most wires of a big graph: one number, read without numpy's sum
        total = float(g.item())
    else:
        with np.errstate(over="ignore", invalid="ignore"):  # a sum past 1e308 keeps its sign
            total = float(np.sum(g))
    return 1.0 if total > 0 else -1.0 if total < 0 else 0.0


def sign_colour(g: np.ndarray) -> QColor:
    """The theme's blue for a positive (summed) gradient, red for negative, grey for zero."""
    theme = current_theme()
    sign = gradient_sign(g)
    if sign > 0:
        return QColor(theme.grad_positive)
    return QColor(theme.grad_negative if sign < 0 else theme.wire)


_SIGN_RGBA: dict[str, tuple[object, dict[float, int]]] = {}


def sign_rgba(g: np.ndarray | None) -> int:
    """`sign_colour` as an RGBA number (the plain wire's for no gradient), from colours made
    once per theme: the far view colours 8,000 wires with it."""
    theme = current_theme()
    cached = _SIGN_RGBA.get(theme.name)
    if cached is None or cached[0] is not theme:
        rgba = {s: sign_colour(np.array(s)).rgba() for s in (1.0, -1.0, 0.0)}
        cached = _SIGN_RGBA[theme.name] = theme, rgba
    return cached[1][0.0 if g is None else gradient_sign(g)]


def magnitude(a: np.ndarray) -> float:
    """Size of a gradient for wire thickness: |g| for scalars, the RMS for arrays (of the
    entries divided by the largest, so squares of diverging numbers do not overflow)."""
    a = np.abs(np.asarray(a, dtype=float))
    if not a.size:
        return 0.0
    peak = float(np.max(a))
    if not math.isfinite(peak):
        return float("inf")
    if peak == 0.0:
        return 0.0
    return peak * float(np.sqrt(np.mean(np.square(a / peak))))


def largest_magnitude(gradients: Iterable[np.ndarray]) -> float:
    """The largest finite `magnitude` among `gradients` (0.0 if none): wire widths are
    shares of it. One-number gradients are read without numpy (8,000 wires)."""
    best = 0.0
    for g in gradients:
        m = abs(float(g.item())) if g.size == 1 else magnitude(g)
        if m > best and math.isfinite(m):
            best = m
    return best


def describe(a: np.ndarray, limit: int = 6) -> str:
    """Tooltip text: the numbers (abbreviated) and the shape."""
    a = np.asarray(a)
    if a.size == 1:
        return full_number(scalar_of(a))
    body = np.array2string(a, precision=4, threshold=36, edgeitems=limit // 2, max_line_width=72)
    return f"{body}\nshape {a.shape}"
