"""The shared look: category colours, op icons, font sizes and the gradient colours.

Palette, inspector, search popup and canvas all read these, so an op looks the same wherever
it appears. Colours come from the op registry (plain hex strings there, QColor here).
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QLabel

from bpviz.engine.ops import CATEGORY_COLOURS, REGISTRY

# ---- font sizes (points) -----------------------------------------------------------------
FONT_SMALL = 8.0
FONT_NORMAL = 9.5
FONT_TITLE = 12.0

# ---- text and state colours --------------------------------------------------------------
TEXT_COLOUR = QColor("#202124")
MUTED_TEXT_COLOUR = QColor("#5f6368")
ERROR_HEX = "#c5221f"
UNKNOWN_COLOUR = QColor("#9aa0a6")  # an op or category the registry does not know

# ---- gradients: a diverging, colour-blind-safe pair (ColorBrewer RdBu ends) ---------------
GRAD_POSITIVE = QColor("#2166ac")  # blue: the gradient is positive
GRAD_NEGATIVE = QColor("#b2182b")  # red: the gradient is negative
GRAD_ZERO = QColor("#bdbdbd")  # neutral grey: no gradient (visible on a light canvas)

ICON_SIZES = (16, 24, 32, 48, 64)

_icon_cache: dict[str, QIcon] = {}


def category_colour(category: str) -> QColor:
    """The registry's colour for `category`; grey for a category it does not know."""
    hex_colour = CATEGORY_COLOURS.get(category)
    return QColor(hex_colour) if hex_colour else QColor(UNKNOWN_COLOUR)


def op_colour(op_name: str) -> QColor:
    spec = REGISTRY.get(op_name)
    return category_colour(spec.category) if spec else QColor(UNKNOWN_COLOUR)


def _luminance(colour: QColor) -> float:
    """WCAG relative luminance, to pick readable text on a coloured background."""

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(colour.redF())
        + 0.7152 * channel(colour.greenF())
        + 0.0722 * channel(colour.blueF())
    )


def text_colour_on(background: QColor) -> QColor:
    """White or near-black, whichever contrasts more with `background` (WCAG ratio)."""
    lum = _luminance(background)
    white = 1.05 / (lum + 0.05)
    dark = (lum + 0.05) / (_luminance(TEXT_COLOUR) + 0.05)
    return QColor("#ffffff") if white >= dark else QColor(TEXT_COLOUR)


def op_initials(op_name: str) -> str:
    """'tanh' -> 'Ta', 'leaky_relu' -> 'LR': short enough for a 16 px icon."""
    words = [w for w in op_name.split("_") if w]
    if len(words) >= 2:
        return (words[0][0] + words[1][0]).upper()
    word = words[0] if words else "?"
    return word[:2].capitalize()


def _icon_pixmap(op_name: str, size: int) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    background = op_colour(op_name)
    painter = QPainter(pixmap)
    try:
        painter.setRenderHints(
            QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing
        )
        rect = QRectF(0.5, 0.5, size - 1.0, size - 1.0)
        radius = size * 0.22
        painter.setPen(background.darker(125))
        painter.setBrush(background)
        painter.drawRoundedRect(rect, radius, radius)
        letters = QFont()
        letters.setBold(True)
        letters.setPixelSize(max(7, round(size * 0.46)))
        painter.setFont(letters)
        painter.setPen(text_colour_on(background))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, op_initials(op_name))
    finally:
        painter.end()
    return pixmap


def op_icon(op_name: str) -> QIcon:
    """A rounded square in the op's category colour with its initials; painted once per op.

    Needs a QGuiApplication (pixmaps do); every size is painted separately so the letters
    stay crisp instead of being scaled.
    """
    icon = _icon_cache.get(op_name)
    if icon is None:
        icon = QIcon()
        for size in ICON_SIZES:
            icon.addPixmap(_icon_pixmap(op_name, size))
        _icon_cache[op_name] = icon
    return icon


def gradient_colour(value: float, scale: float) -> QColor:
    """Blend from neutral grey towards blue (positive) or red (negative) by |value| / scale."""
    if not scale or value != value:  # zero scale or NaN: nothing to show
        return QColor(GRAD_ZERO)
    t = max(0.0, min(1.0, abs(value) / abs(scale)))
    end = GRAD_POSITIVE if value > 0 else GRAD_NEGATIVE
    return QColor.fromRgbF(
        GRAD_ZERO.redF() + (end.redF() - GRAD_ZERO.redF()) * t,
        GRAD_ZERO.greenF() + (end.greenF() - GRAD_ZERO.greenF()) * t,
        GRAD_ZERO.blueF() + (end.blueF() - GRAD_ZERO.blueF()) * t,
    )


def ui_font(size: float = FONT_NORMAL, bold: bool = False) -> QFont:
    """The application font at `size` points, for labels that must stand out or recede."""
    f = QFont()
    f.setPointSizeF(size)
    f.setBold(bold)
    return f


def hint_label() -> QLabel:
    """The grey, centred sentence a view shows in place of a plot it cannot draw."""
    label = QLabel()
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    label.setStyleSheet("color: #80868b; background: white; padding: 12px;")
    return label
