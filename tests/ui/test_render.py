"""`bpviz render`'s window: exactly the size asked for, docks arranged for it, the graph fitted,
and the history recorded as the live window records it."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QTabBar

from bpviz.ui.render import rendered_window

SCENES = Path(__file__).resolve().parents[2] / "scenes"
EVERY_DOCK = {
    "Nodes", "Inspector", "Learn", "Data", "Training", "Loss", "Model output", "Loss landscape",
}  # fmt: skip


def _graph_fits(window) -> bool:  # noqa: ANN001
    view = window.view
    shown = view.mapFromScene(view.scene().itemsBoundingRect()).boundingRect()
    return view.viewport().rect().contains(shown)


@pytest.mark.parametrize(
    ("size", "docks"),
    [
        ((1920, 1080), EVERY_DOCK),
        ((1400, 900), EVERY_DOCK),
        ((800, 600), {"Loss", "Model output", "Loss landscape"}),
        ((480, 360), {"Loss"}),
        ((320, 240), set()),
    ],
)
def test_exact_size_with_docks_for_it(qtbot, size: tuple[int, int], docks: set[str]) -> None:  # noqa: ANN001
    with rendered_window(str(SCENES / "moons.json"), size) as window:
        assert (window.width(), window.height()) == size
        assert (window.grab().width(), window.grab().height()) == size
        in_layout = {
            d.windowTitle()
            for d in window.findChildren(QDockWidget)
            if window.dockWidgetArea(d) != Qt.DockWidgetArea.NoDockWidgetArea
        }
        assert in_layout == docks
        assert _graph_fits(window)
        assert window.view.zoom() >= 0.2
        # no tab bar of a put-away dock is left over the others
        for bar in window.findChildren(QTabBar):
            tabs = {bar.tabText(i) for i in range(bar.count())}
            if bar.isVisible() and bar.parent() is window and tabs:
                assert tabs <= docks, tabs


def test_render_history_is_the_live_windows(qtbot) -> None:  # noqa: ANN001
    """Steps are announced as in Run mode: the loss plot, the timeline's snapshots and the
    controller's history all hold them."""
    with rendered_window(str(SCENES / "moons.json"), (1400, 900), steps=120) as window:
        controller = window.training_ui.controller
        assert list(controller.history.step) == list(range(1, 121))
        assert len(window.loss_plot._series["train"]) == 120
        store = window.training_ui.snapshots
        assert len(store) >= 1 and store.latest().step == 120
        assert window.timeline.label.text().startswith("step 120 of 120")


def test_a_rendered_window_is_deleted_afterwards(qtbot) -> None:  # noqa: ANN001
    """`render` may be called many times in one process (the Python API): each window goes."""
    from PySide6.QtCore import QCoreApplication, QEvent
    from shiboken6 import isValid

    with rendered_window(str(SCENES / "xor.json"), (480, 360)) as window:
        assert isValid(window)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert not isValid(window)
