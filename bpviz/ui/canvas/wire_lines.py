"""A wire's path as short straight segments, for drawing it only where it is seen (wires.py).

The segments are as fine as Qt's own flattening of the curve at the zoom they are made for,
in runs with the box each spans, so a repaint keeps or skips a run at once; a run's lines
are made when it is first drawn.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QLineF, QRectF
from PySide6.QtGui import QPainterPath

RUN = 12  # segments per run: what a repaint keeps or skips at once


def fineness(scale: float) -> float:
    """How finely wires are flattened at `scale`: a power of two at least 0.45 of it (at
    most 2: the closest zoom is 4), so a segment strays at most about half a device pixel
    from the curve, as in Qt's own flattening of a curve; the steps fall between the zooms
    people use (100 % and a wheel step either side of it are one step)."""
    return 2.0 ** min(1, max(-4, math.ceil(math.log2(max(scale, 1e-3) * 0.45))))


class WireLines:
    """A one-cubic wire as straight segments, fine enough that no point strays more than a
    quarter of a unit from the curve at `fine` (the chord error of n even steps of t is at
    most max|B''| / 8n²), in runs of RUN with the box each spans."""

    def __init__(self, path: QPainterPath, fine: float) -> None:
        self.fine = fine
        p = np.array([[path.elementAt(i).x, path.elementAt(i).y] for i in range(4)])
        bend = 6 * max(np.hypot(*(p[0] - 2 * p[1] + p[2])), np.hypot(*(p[1] - 2 * p[2] + p[3])))
        n = max(1, math.ceil(math.sqrt(bend * fine / 2)))  # bend / 8n² <= 1 / (4 fine)
        t = np.linspace(0.0, 1.0, n + 1)[:, None]
        u = 1.0 - t
        self.points = u**3 * p[0] + 3 * u * u * t * p[1] + 3 * u * t * t * p[2] + t**3 * p[3]
        starts = np.arange(0, n, RUN)
        ends = self.points[np.minimum(starts + RUN, n)]
        low = np.minimum(np.minimum.reduceat(self.points, starts), ends)
        high = np.maximum(np.maximum.reduceat(self.points, starts), ends)
        self.boxes = np.hstack((low, high)).tolist()
        self._runs: list[list[QLineF] | None] = [None] * len(self.boxes)

    def within(self, rect: QRectF) -> list[QLineF]:
        """The segments of the runs touching `rect`; a run's lines are made when it is
        first drawn (only what has been on screen is ever made)."""
        left, top, right, bottom = rect.left(), rect.top(), rect.right(), rect.bottom()
        out: list[QLineF] = []
        for k, (x0, y0, x1, y1) in enumerate(self.boxes):
            if x0 <= right and x1 >= left and y0 <= bottom and y1 >= top:
                lines = self._runs[k]
                if lines is None:
                    run = self.points[k * RUN : k * RUN + RUN + 1].tolist()
                    lines = [QLineF(*a, *b) for a, b in zip(run, run[1:], strict=False)]
                    self._runs[k] = lines
                out += lines
        return out
