"""Opening or creating a document starts clean: the graph fitted to the view, and nothing
left over from the previous one (timeline, loss plot, landscape, selection)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

SCENES = Path(__file__).resolve().parents[2] / "scenes"


def _graph_fits(window) -> bool:  # noqa: ANN001
    view = window.view
    shown = view.mapFromScene(view.scene().itemsBoundingRect()).boundingRect()
    return view.viewport().rect().contains(shown)


def _trained_moons(window, qtbot):  # noqa: ANN001, ANN202
    assert window.files.open_file(SCENES / "moons.json")
    c = window.training_ui.controller
    while len(c.history) < 60:
        c.run_for(0.05, max_steps=60 - len(c.history))
    window.timeline.redraw()
    window.loss_plot.redraw()
    window.canvas.select(["h1"])
    assert window.timeline.label.text().startswith("step 60 of 60")
    return c


@pytest.mark.parametrize("how", ["open", "new"])
def test_nothing_of_the_previous_document_is_left(window, qtbot, how: str) -> None:  # noqa: ANN001
    _trained_moons(window, qtbot)
    if how == "open":
        assert window.files.open_file(SCENES / "xor.json")
    else:
        qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
        assert len(window.document.nodes) == 0
    qtbot.wait(10)
    assert window.timeline.label.text() == "no history yet"
    assert len(window.training_ui.snapshots) == 0
    assert all(len(s) == 0 for s in window.loss_plot._series.values())
    assert window.landscape.controller is window.training_ui.controller
    assert window.canvas.selected_ids() == []
    assert window.inspector.node_id is None


def test_an_opened_graph_is_fitted_and_stays_fitted_until_the_view_is_moved(window, qtbot) -> None:  # noqa: ANN001
    assert window.files.open_file(SCENES / "moons.json")
    qtbot.wait(10)
    assert _graph_fits(window)
    fitted = window.view.zoom()
    window.resize(1500, 950)  # the window settles to another size: the graph follows
    qtbot.wait(10)
    assert _graph_fits(window) and window.view.zoom() > fitted
    qtbot.keyClick(window.view, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    zoomed = window.view.zoom()
    window.resize(1100, 700)  # the person chose a zoom: it is theirs now
    qtbot.wait(10)
    assert window.view.zoom() == zoomed


def test_fitting_on_resize_ends_when_the_window_has_settled(window, qtbot) -> None:  # noqa: ANN001
    from bpviz.ui.canvas.view import SETTLE_MS

    assert window.files.open_file(SCENES / "moons.json")
    assert window.view.keep_fitted
    qtbot.wait(SETTLE_MS)
    # a busy machine may run the timer late, but it does run
    qtbot.waitUntil(lambda: not window.view.keep_fitted, timeout=5000)
    zoom = window.view.zoom()
    window.resize(1500, 950)
    qtbot.wait(10)
    assert window.view.zoom() == zoom  # later resizes leave the view alone


def test_zoom_label_says_zoom(window, qtbot) -> None:  # noqa: ANN001
    assert window.files.open_file(SCENES / "xor.json")
    qtbot.keyClick(window.view, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert window.zoom_label.text() == "Zoom 100 %"
    qtbot.keyClick(window.view, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert window.zoom_label.text() == f"Zoom {window.view.zoom() * 100:.0f} %"
    assert window.view.zoom() < 1.0


def test_view_menu_has_the_theme_choices(window, qtbot) -> None:  # noqa: ANN001
    from bpviz.ui.theme import DARK, LIGHT, apply_theme, current_theme

    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    assert window.theme_menu.menuAction() in view_menu.actions()
    try:
        window.theme_menu.actions_by_choice["dark"].trigger()
        assert current_theme() is DARK and window.settings.value("theme") == "dark"
    finally:
        apply_theme("light")
    assert current_theme() is LIGHT


def test_the_window_has_the_bpviz_icon(window) -> None:  # noqa: ANN001
    from bpviz.ui.app import _application

    _application("light")
    sizes = {s.width() for s in window.windowIcon().availableSizes()}
    assert {16, 32, 48, 256} <= sizes


def test_a_closed_window_leaves_no_window_behind(qapp, tmp_path: Path) -> None:  # noqa: ANN001
    """Its menus go with it, pyqtgraph's plot menus too (made without a parent, they would
    stay behind, hidden, and be re-styled at every theme switch)."""
    from PySide6.QtCore import QCoreApplication, QEvent, QSettings
    from PySide6.QtWidgets import QApplication, QWidget
    from shiboken6 import getCppPointer

    from bpviz.ui.main_window import MainWindow
    from bpviz.ui.recovery import Recovery
    from tests.ui.conftest import FakeDialogs

    def address(widget: QWidget) -> int:  # the Qt object's: a widget no Python name holds
        return getCppPointer(widget)[0]  # gets a new wrapper (a new id) at every look-up

    before = {address(w) for w in QApplication.topLevelWidgets()}
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings, Recovery(tmp_path / "recovery"), dialogs=FakeDialogs())
    window.show()
    assert window.files.open_file(SCENES / "moons.json")
    window.close()
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    left = [w for w in QApplication.topLevelWidgets() if address(w) not in before]
    assert [(type(w).__name__, getattr(w, "title", str)()) for w in left] == []
