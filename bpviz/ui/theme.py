"""The shared look: light and dark themes, category colours, op icons, font sizes and the
gradient colours.

Palette, inspector, search popup and canvas all read these, so an op looks the same wherever
it appears. Colours come from the op registry (plain hex strings there, QColor here).

A theme is a `Theme` of colours plus a style sheet in resources/. `apply_theme` installs one
on the application (Fusion style, so the palette is honoured on every platform) and calls
`theme_changed(theme)` on every widget that has it; views that paint their own colours
(canvas, plots) read `current_theme()` and repaint there. "system" follows the desktop's
colour scheme (Qt ≥ 6.5) and keeps following it while the program runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QIcon,
    QPainter,
    QPalette,
    QPixmap,
)
from PySide6.QtWidgets import QApplication, QLabel, QWidget

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

ICON_SIZES = (16, 18, 20, 24, 32, 48, 64)  # 18: node search, 20: palette

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


# What an op's icon says: the usual notation where there is one (x, y, +, Σ, σ), else a short
# name. Initials alone made const, column and concat all "Co", and sub and sum both "Su".
ICON_LABELS: dict[str, str] = {
    "const": "c",
    "input": "x",
    "target": "y",
    "param": "w",
    "add": "+",
    "sub": "−",
    "mul": "×",
    "div": "÷",
    "neg": "−x",
    "exp": "eˣ",
    "log": "ln",
    "pow": "xⁿ",
    "matmul": "@",
    "sum": "Σ",
    "mean": "μ",
    "column": "[i]",
    "concat": "a|b",
    "tanh": "th",
    "sigmoid": "σ",
    "relu": "Re",
    "leaky_relu": "LR",
    "softmax": "Sm",
    "dense": "De",
    "mse": "MSE",
    "bce": "BCE",
    "hinge": "Hi",
    "cross_entropy": "CE",
}
ICON_TEXT_SHARE = 0.82  # of the icon's width, at most, for its label


def op_initials(op_name: str) -> str:
    """'tanh' -> 'Ta', 'leaky_relu' -> 'LR': for an op `ICON_LABELS` does not name."""
    words = [w for w in op_name.split("_") if w]
    if len(words) >= 2:
        return (words[0][0] + words[1][0]).upper()
    word = words[0] if words else "?"
    return word[:2].capitalize()


def icon_label(op_name: str) -> str:
    """The text on an op's icon."""
    return ICON_LABELS.get(op_name) or op_initials(op_name)


def icon_font(label: str, size: int) -> QFont:
    """Bold; a lone symbol (+, Σ, x) 65 % of the icon's size, longer labels 50 %, smaller
    if `label` would not fit the icon's width."""
    font = QFont()
    font.setBold(True)
    pixels = max(7, round(size * (0.65 if len(label) == 1 else 0.5)))
    font.setPixelSize(pixels)
    room = ICON_TEXT_SHARE * size
    while pixels > 6 and QFontMetricsF(font).horizontalAdvance(label) > room:
        pixels -= 1
        font.setPixelSize(pixels)
    return font


def _icon_pixmap(op_name: str, size: int) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    background = op_colour(op_name)
    label = icon_label(op_name)
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
        painter.setFont(icon_font(label, size))
        painter.setPen(text_colour_on(background))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, label)
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


def ui_font(size: float = FONT_NORMAL, bold: bool = False) -> QFont:
    """The application font at `size` points, for labels that must stand out or recede."""
    f = QFont()
    f.setPointSizeF(size)
    f.setBold(bold)
    return f


def hint_label() -> QLabel:
    """The grey, centred sentence a view shows in place of a plot it cannot draw (its colours
    come from the theme's style sheet)."""
    label = QLabel()
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    label.setProperty("role", "hint")
    return label


# ---- themes ------------------------------------------------------------------------------
THEME_CHOICES = ("system", "light", "dark")


@dataclass(frozen=True)
class Theme:
    """Colours for what bpviz paints itself; widgets get theirs from the palette built here."""

    name: str
    window: str
    base: str
    alternate_base: str
    button: str
    text: str
    muted: str
    highlight: str
    highlighted_text: str
    link: str
    # the canvas
    canvas: str
    grid_minor: str
    grid_major: str
    node_body: str
    node_outline: str
    selected: str
    divider: str  # between a node's ports and its numbers
    cell_border: str  # around a heatmap
    wire: str
    stale_veil: QColor  # over numbers from before an edit
    # gradients: blue positive, red negative; the centre of a gradient heatmap
    grad_positive: str
    grad_negative: str
    grad_zero: str
    heat_neutral: str
    # plots
    plot_background: str
    plot_foreground: str
    legend_background: QColor

    @property
    def dark(self) -> bool:
        return self.name == "dark"


LIGHT = Theme(
    name="light",
    window="#efeff1",
    base="#ffffff",
    alternate_base="#f6f7f9",
    button="#f1f3f4",
    text="#202124",
    muted="#5f6368",
    highlight="#1a73e8",
    highlighted_text="#ffffff",
    link="#1a73e8",
    canvas="#f6f7f9",
    grid_minor="#e8eaed",
    grid_major="#d5d8dc",
    node_body="#ffffff",
    node_outline="#9aa0a6",
    selected="#1a73e8",
    divider="#e0e3e7",
    cell_border="#c4c7c5",
    wire="#80868b",
    stale_veil=QColor(255, 255, 255, 150),
    grad_positive="#2166ac",
    grad_negative="#b2182b",
    grad_zero="#bdbdbd",
    heat_neutral="#e8eaed",
    plot_background="#ffffff",
    plot_foreground="#3c4043",
    legend_background=QColor(255, 255, 255, 210),
)

DARK = Theme(
    name="dark",
    window="#26272b",
    base="#1e1f22",
    alternate_base="#2b2d31",
    button="#34363b",
    text="#e8eaed",
    muted="#9aa0a6",
    highlight="#8ab4f8",
    highlighted_text="#202124",
    link="#8ab4f8",
    canvas="#1b1c1f",
    grid_minor="#26282c",
    grid_major="#33363b",
    node_body="#2b2d31",
    node_outline="#5f6368",
    selected="#8ab4f8",
    divider="#3c4043",
    cell_border="#5f6368",
    wire="#80868b",
    stale_veil=QColor(43, 45, 49, 150),
    grad_positive="#67a9cf",  # RdBu's lighter pair: readable on a dark node
    grad_negative="#ef8a62",
    grad_zero="#5f6368",
    heat_neutral="#3c4043",
    plot_background="#1e1f22",
    plot_foreground="#c4c7c5",
    legend_background=QColor(43, 45, 49, 210),
)

THEMES = {"light": LIGHT, "dark": DARK}
_current: Theme = LIGHT
_choice = "system"


def current_theme() -> Theme:
    """The theme in use (light until `apply_theme` says otherwise, e.g. in plain tests)."""
    return _current


def theme_choice() -> str:
    """What was asked for: "system", "light" or "dark"."""
    return _choice


def system_is_dark() -> bool:
    """The desktop's colour scheme; unknown (or Qt older than 6.5) counts as light."""
    app = QGuiApplication.instance()
    hints = app.styleHints() if app is not None else None
    scheme = getattr(hints, "colorScheme", None)
    return scheme is not None and scheme() == Qt.ColorScheme.Dark


def resolve_theme(choice: str) -> Theme:
    if choice not in THEME_CHOICES:
        raise ValueError(f"unknown theme {choice!r} (one of {', '.join(THEME_CHOICES)})")
    if choice == "system":
        return DARK if system_is_dark() else LIGHT
    return THEMES[choice]


def build_palette(theme: Theme) -> QPalette:
    """A complete palette, disabled colours included, so Fusion draws every widget in it."""
    c = QColor
    window, base, text = c(theme.window), c(theme.base), c(theme.text)
    pal = QPalette(c(theme.button), window)  # derives light/mid/dark/shadow from the button
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: c(theme.alternate_base),
        QPalette.ColorRole.ToolTipBase: base,
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.PlaceholderText: c(theme.muted),
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: c(theme.button),
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: c("#ff8a80" if theme.dark else "#ffffff"),
        QPalette.ColorRole.Highlight: c(theme.highlight),
        QPalette.ColorRole.HighlightedText: c(theme.highlighted_text),
        QPalette.ColorRole.Link: c(theme.link),
        QPalette.ColorRole.LinkVisited: c(theme.link),
    }
    for role, colour in roles.items():
        pal.setColor(role, colour)
    faded = c(theme.muted).darker(130) if theme.dark else c("#9aa0a6")
    for role in (
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
    ):
        pal.setColor(QPalette.ColorGroup.Disabled, role, faded)
    return pal


def style_sheet(theme: Theme) -> str:
    from bpviz.ui.assets import resource

    return resource(f"{theme.name}.qss").read_text(encoding="utf-8")


def apply_theme(choice: str = "system") -> Theme:
    """Install the theme `choice` names on the running application and tell every widget.

    Call it again with "system" when the desktop switches scheme; `follow_system_scheme`
    does that."""
    global _current, _choice
    theme = resolve_theme(choice)
    _choice = choice
    _current = theme
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return theme
    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
    app.setPalette(build_palette(theme))
    app.setStyleSheet(style_sheet(theme))
    import pyqtgraph as pg

    pg.setConfigOptions(background=theme.plot_background, foreground=theme.plot_foreground)
    for widget in app.allWidgets():
        hook = getattr(widget, "theme_changed", None)
        if callable(hook):
            hook(theme)
    return theme


def follow_system_scheme() -> None:
    """Re-apply "system" whenever the desktop's colour scheme changes (Qt ≥ 6.5)."""
    app = QGuiApplication.instance()
    signal = getattr(app.styleHints(), "colorSchemeChanged", None) if app else None
    if signal is not None:
        signal.connect(lambda *_: _choice == "system" and apply_theme("system"))


def style_legend(legend: Any, theme: Theme) -> None:
    """A pyqtgraph LegendItem in the theme's colours. Its `setLabelTextColor` only records the
    colour; each label keeps the colour it was drawn in until its text is set again, so a
    switch of theme left "train loss" dark on the dark plot."""
    import pyqtgraph as pg

    legend.setBrush(pg.mkBrush(theme.legend_background))
    legend.setLabelTextColor(theme.plot_foreground)
    for _sample, label in legend.items:
        label.setText(label.text)


def style_plot(plot: QWidget, theme: Theme) -> None:
    """A pyqtgraph PlotWidget in the theme's colours: background, axes, their labels."""
    import pyqtgraph as pg

    plot.setBackground(theme.plot_background)
    item = plot.getPlotItem()
    pen = pg.mkPen(theme.plot_foreground)
    for name in ("left", "bottom", "right", "top"):
        axis = item.getAxis(name)
        colour = axis.labelStyle.get("color")  # setTextPen overwrites a label's own colour
        axis.setPen(pen)
        axis.setTextPen(pen)
        # kept as a pixmap: a new curve or image repaints the plot area under the axes
        # several times a second while training, and redrawing their text is most of that
        axis.setCacheMode(axis.CacheMode.DeviceCoordinateCache)
        if colour not in (None, LIGHT.plot_foreground, DARK.plot_foreground):
            axis.setLabel(axis.labelText, axis.labelUnits, **{**axis.labelStyle, "color": colour})
