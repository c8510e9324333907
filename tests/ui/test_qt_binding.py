"""Guards against a Qt binding that corrupts Python's reference counts.

PySide6 6.12.0 on Python 3.11 drops a reference to None on every call of a method that returns
nothing; after a few thousand paints the interpreter aborts ("deallocating None"). pyproject.toml
excludes that release; this test fails loudly if such a build is installed again.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QImage, QPainter


def test_void_calls_keep_none_alive() -> None:
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    colour, point = QColor("#123456"), QPointF(1, 2)
    before = sys.getrefcount(None)
    for _ in range(2000):
        painter.setPen(colour)
        point.setX(3.0)
    painter.end()
    assert sys.getrefcount(None) - before > -100
