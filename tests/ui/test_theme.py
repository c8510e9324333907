"""Light and dark themes: the palette, the style sheet, the views that paint their own colours,
following the desktop's scheme, and contrast enough to read in both."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPalette
from PySide6.QtWidgets import QApplication

from bpviz.ui import theme
from bpviz.ui.assets import resources_dir
from bpviz.ui.theme import DARK, LIGHT, Theme, apply_theme, current_theme


@pytest.fixture
def themed(qapp):  # noqa: ANN001, ANN201
    """Whatever a test switches to, the next test starts light again."""
    yield qapp
    apply_theme("light")


def _contrast(a: str, b: str) -> float:
    la, lb = theme._luminance(QColor(a)), theme._luminance(QColor(b))
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


@pytest.mark.parametrize("t", [LIGHT, DARK], ids=["light", "dark"])
def test_everything_painted_is_readable(t: Theme) -> None:
    """WCAG ratios: 4.5 for text, 3 for the gradient colours and muted labels; the grid is
    faint but there."""
    assert _contrast(t.text, t.node_body) >= 4.5
    assert _contrast(t.text, t.window) >= 4.5
    assert _contrast(t.muted, t.node_body) >= 3.0
    assert _contrast(t.grad_positive, t.node_body) >= 3.0
    assert _contrast(t.grad_negative, t.node_body) >= 3.0
    assert _contrast(t.plot_foreground, t.plot_background) >= 4.5
    assert 1.1 <= _contrast(t.grid_major, t.canvas) <= 1.6
    assert _contrast(t.node_outline, t.canvas) >= 2.0  # a node stands out of the canvas


def test_dark_theme_reaches_palette_style_sheet_plots_and_canvas(themed, qtbot, document) -> None:  # noqa: ANN001
    from bpviz.ui.canvas.scene import CanvasScene
    from bpviz.ui.canvas.view import CanvasView
    from bpviz.ui.plots import LossPlot
    from bpviz.ui.undo import UndoStack

    plot = LossPlot()
    qtbot.addWidget(plot)
    scene = CanvasScene(UndoStack(document).push)
    scene.set_document(document)
    view = CanvasView(scene)
    qtbot.addWidget(view)
    item = scene.node_items["d1"]
    item.set_numbers(np.zeros((1, 4)), np.zeros((1, 4)))
    assert item._images["grad"].pixelColor(0, 0).name() == LIGHT.heat_neutral

    apply_theme("dark")
    assert current_theme() is DARK
    assert themed.palette().color(QPalette.ColorRole.Window).name() == DARK.window
    assert themed.palette().color(QPalette.ColorRole.Text).name() == DARK.text
    assert themed.styleSheet() == (resources_dir() / "dark.qss").read_text(encoding="utf-8")
    assert plot.plot.backgroundBrush().color().name() == DARK.plot_background
    # existing heatmaps are rebuilt around the dark neutral; the node body is painted dark
    assert item._images["grad"].pixelColor(0, 0).name() == DARK.heat_neutral
    image = QImage(200, 120, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.translate(10, 10)
    item.paint(painter, None)
    painter.end()
    body = QPointF(10 + 100, 10 + 40)  # under the header, right of the port labels
    assert image.pixelColor(body.toPoint()).name() == DARK.node_body

    apply_theme("light")
    assert plot.plot.backgroundBrush().color().name() == LIGHT.plot_background
    assert item._images["grad"].pixelColor(0, 0).name() == LIGHT.heat_neutral


def test_accuracy_label_keeps_its_colour(themed, qtbot) -> None:  # noqa: ANN001
    from bpviz.ui.plots import ACCURACY_COLOUR, LossPlot

    plot = LossPlot()
    qtbot.addWidget(plot)
    apply_theme("dark")
    axis = plot.plot.getPlotItem().getAxis("right")
    assert axis.labelStyle["color"] == ACCURACY_COLOUR
    assert plot.plot.getPlotItem().getAxis("left").labelStyle["color"] == DARK.plot_foreground


def test_legend_labels_follow_a_theme_switch(themed, qtbot) -> None:  # noqa: ANN001
    """Labels drawn in the light theme are drawn again in the dark one (pyqtgraph alone only
    records the new colour, leaving "train loss" dark grey on the dark plot)."""
    from bpviz.engine.training import History, StepResult
    from bpviz.ui.plots import LossPlot

    apply_theme("light")
    plot = LossPlot()
    qtbot.addWidget(plot)
    history = History()
    history.record(StepResult(1, 0.5, None, 0.6, None))  # a train and a test loss
    plot.set_history(history)

    def label_colours() -> dict[str, str]:
        return {
            label.text: label.item.toHtml().split("color:")[-1].split(";")[0]
            for _, label in plot.legend.items
        }

    assert label_colours() == dict.fromkeys(["train loss", "test loss"], LIGHT.plot_foreground)
    apply_theme("dark")
    assert label_colours() == dict.fromkeys(["train loss", "test loss"], DARK.plot_foreground)
    assert plot.legend.opts["brush"].color() == DARK.legend_background


def test_system_choice_follows_the_desktop(themed, monkeypatch) -> None:  # noqa: ANN001
    dark = False
    monkeypatch.setattr(theme, "system_is_dark", lambda: dark)
    assert apply_theme("system") is LIGHT
    theme.follow_system_scheme()
    dark = True
    QApplication.instance().styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert current_theme() is DARK and theme.theme_choice() == "system"
    apply_theme("light")  # an explicit choice is not overridden by the desktop
    dark = True
    QApplication.instance().styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert current_theme() is LIGHT


def test_unknown_theme_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown theme 'blue'"):
        theme.resolve_theme("blue")


def test_theme_menu_applies_and_remembers(themed, qtbot, tmp_path) -> None:  # noqa: ANN001
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QMenuBar

    from bpviz.ui.theme_menu import ThemeMenu

    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    bar = QMenuBar()
    qtbot.addWidget(bar)
    menu = ThemeMenu(settings, bar)
    bar.addMenu(menu)
    assert [a.text() for a in menu.actions()] == ["Follow &System", "&Light", "&Dark"]
    menu.popup(bar.mapToGlobal(bar.rect().bottomLeft()))
    qtbot.waitExposed(menu)
    dark = menu.actionGeometry(menu.actions_by_choice["dark"]).center()
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=dark)
    assert current_theme() is DARK and settings.value("theme") == "dark"
    assert menu.actions_by_choice["dark"].isChecked()
    assert not menu.actions_by_choice["light"].isChecked()
    menu.actions_by_choice["light"].trigger()
    assert current_theme() is LIGHT and settings.value("theme") == "light"


def _commonest_colour(widget) -> str:  # noqa: ANN001
    from collections import Counter

    image = widget.grab().toImage()
    step = 7
    counts = Counter(
        image.pixelColor(x, y).name()
        for x in range(0, image.width(), step)
        for y in range(0, image.height(), step)
    )
    return counts.most_common(1)[0][0]


def test_the_cached_canvas_background_follows_the_theme(themed, qtbot, document) -> None:  # noqa: ANN001
    """The grid is cached between repaints; switching theme must redraw it."""
    from bpviz.ui.canvas.scene import CanvasScene
    from bpviz.ui.canvas.view import CanvasView
    from bpviz.ui.undo import UndoStack

    scene = CanvasScene(UndoStack(document).push)
    scene.set_document(document)
    view = CanvasView(scene)
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    qtbot.waitExposed(view)
    assert _commonest_colour(view.viewport()) == LIGHT.canvas
    apply_theme("dark")
    qtbot.wait(10)
    assert _commonest_colour(view.viewport()) == DARK.canvas


@pytest.mark.parametrize(("choice", "box"), [("light", "#e8f0fe"), ("dark", "#1f2a3d")])
def test_a_probe_box_takes_the_themes_colours(themed, qtbot, choice: str, box: str) -> None:  # noqa: ANN001
    """The question box and the chosen answer come from the theme's sheet, not a fixed light
    blue that left the dark theme's light text unreadable."""
    from bpviz.model.probes import parse_probe
    from bpviz.ui.probe_box import ProbeBox, verdict_colours

    apply_theme(choice)
    probe_box = ProbeBox()
    qtbot.addWidget(probe_box)
    probe_box.resize(300, 140)
    probe_box.ask(parse_probe({"node": "w", "quantity": "grad", "ask": "sign"}, {"w"}))
    probe_box.show()
    qtbot.waitExposed(probe_box)
    image = probe_box.grab().toImage()
    assert QColor(image.pixel(150, image.height() - 4)).name() == box
    probe_box.reveal("", "positive")
    assert probe_box.buttons["positive"].property("role") == "chosen"
    assert probe_box.buttons["negative"].property("role") is None
    dark = choice == "dark"
    assert verdict_colours() == (("#81c995", "#f28b82") if dark else ("#188038", "#c5221f"))
