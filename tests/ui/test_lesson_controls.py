"""Lesson pages that point into the Training and Data panels and wait for the learner's
setting there, driven with the mouse as a learner would."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from bpviz.examples import examples_dir
from bpviz.model.lessons import CONTROLS, PANEL_CONTROLS, PANELS, TOOLBAR_CONTROLS, lesson_paths
from bpviz.model.settings import SetData
from bpviz.ui.main_window import MainWindow
from bpviz.ui.theme import apply_theme
from tests.ui.test_learn_panel import choose, click

LESSONS = [p.stem for p in lesson_paths(examples_dir())]
KIND_WITH = {"factor": "circles", "classes": "spiral", "features": "linear"}  # own numbers


def on_screen(widget: QWidget) -> bool:
    """Shown and not behind another tab (a tabbed-away dock's widget still says visible)."""
    return widget.isVisible() and not widget.visibleRegion().isEmpty()


def start(window: MainWindow, qtbot, stem: str, page: int) -> None:  # noqa: ANN001
    """Open a lesson and press Next (or Skip) until `page` (from 0)."""
    window.show_lessons()
    window.learn.start(LESSONS.index(stem))
    for _ in range(page):
        click(qtbot, window.learn.next_button)
    assert window.learn.progress.index == page


def test_the_toolbar_controls_are_the_training_toolbars_buttons(window: MainWindow) -> None:
    for name in CONTROLS:
        button = window.training_toolbar.widgetForAction(window.registry[name])
        assert (button is not None and button.isVisible()) == (name in TOOLBAR_CONTROLS), name


@pytest.mark.parametrize("name", PANEL_CONTROLS)
def test_every_panel_control_name_finds_its_widget(window: MainWindow, name: str) -> None:
    key = name.split(".")[1]
    kind = name.split(".")[2] if key == "kind" else KIND_WITH.get(key, "xor")
    window.undo.push(SetData({"kind": kind}))
    controls = window.learn.controls
    widget = controls.reveal(name)
    assert widget is not None
    dock = window.training_dock if name.startswith("training.") else window.data_dock
    assert dock.widget().isAncestorOf(widget)
    assert not dock.visibleRegion().isEmpty()  # its panel is in front


@pytest.mark.parametrize("name", PANELS)
def test_every_panel_name_brings_its_dock_to_the_front(window: MainWindow, name: str) -> None:
    docks = window.learn.controls.panels
    assert docks[name].windowTitle() == PANELS[name].split(" (")[0]
    for other in docks.values():  # every other panel in front first, this one closed
        window.show_dock(other)
    docks[name].close()
    assert window.learn.controls.reveal_panel(name) is docks[name]
    assert on_screen(docks[name])


def test_the_landscape_page_frames_that_panel_beside_the_page(
    window: MainWindow, qtbot  # noqa: ANN001
) -> None:
    """Lesson 8 talks about the loss landscape from its first page: that panel comes to the
    front (it starts behind Model output), its title framed, the page still on screen."""
    apply_theme("light")  # its style sheet draws the frame (the tests' usual theme)
    dock = window.landscape_dock
    assert not on_screen(dock)  # behind the Model output tab
    start(window, qtbot, "08_landscape.lesson", 0)
    assert on_screen(dock) and on_screen(window.learn.text)
    assert dock.property("role") == "highlight"
    assert window.learn.text.text().startswith("L = w1² + 10·w2²")
    # the title bar is drawn in the highlight's yellow (the light theme's #fde293)
    image = dock.grab().toImage()
    assert image.pixelColor(dock.width() // 2, 3).name() == "#fde293"
    click(qtbot, window.learn.next_button)
    assert dock.property("role") is None  # the next page points at w2
    assert window.canvas.selected_ids() == ["w2"]


def test_a_framed_panel_already_in_front_shows_its_whole_title(
    window: MainWindow, qtbot  # noqa: ANN001
) -> None:
    """Lesson 1's last page frames Model output, which is in front already: its taller,
    framed title bar gets as much room as the Loss landscape's in lesson 8, whose tab
    switch lays the dock out anew, instead of squeezing the title into the plain height."""
    apply_theme("light")
    dock = window.boundary_dock
    assert on_screen(dock)
    start(window, qtbot, "01_fitting_a_line.lesson", 7)
    assert window.learn.progress.page.highlight == {"panel": "output"}
    assert dock.property("role") == "highlight"
    qtbot.wait(10)  # the relayout is applied by a posted event, as in the running app
    framed_in_front = dock.widget().y()
    image = dock.grab().toImage()
    assert image.pixelColor(dock.width() // 2, framed_in_front - 1).name() == "#f9ab00"
    start(window, qtbot, "08_landscape.lesson", 0)  # behind a tab: brought forward, framed
    qtbot.wait(10)
    assert dock.property("role") is None
    assert framed_in_front == window.landscape_dock.widget().y()


def test_choosing_the_optimizer_turns_the_page_and_a_wrong_one_says_so(
    window: MainWindow, qtbot  # noqa: ANN001
) -> None:
    panel = window.learn
    start(window, qtbot, "08_landscape.lesson", 4)
    assert panel.progress.page.title == "Momentum"
    combo = window.training_panel.optimizer
    assert combo.property("role") == "highlight" and on_screen(combo)
    assert on_screen(panel)  # the page stays on screen beside the Training panel
    assert panel.request.text() == (
        "<b>Your turn:</b> set optimizer to momentum in the Training panel"
    )
    choose(qtbot, combo, "adam")
    assert window.document.training["optimizer"] == "adam"
    assert "Not yet: optimizer is now adam." in panel.request.text()
    assert panel.progress.index == 4 and not panel.progress.done
    choose(qtbot, combo, "momentum")
    assert panel.request.text() == "<span style='color:#188038'>✓ Well done</span>"
    qtbot.waitUntil(lambda: panel.progress.index == 5, timeout=3000)
    assert combo.property("role") is None  # the next page points at Reset instead
    click(qtbot, panel.back_button)  # already set: met, and the page stays
    assert panel.progress.done and panel.next_button.text() == "Next"
    qtbot.wait(1000)
    assert panel.progress.index == 4


def test_ticking_the_feature_turns_the_page_and_the_probe_reads_the_new_weight(
    window: MainWindow, qtbot  # noqa: ANN001
) -> None:
    panel = window.learn
    start(window, qtbot, "05_xor.lesson", 3)
    box = window.data_panel.checks["x1*x2"]
    assert box.property("role") == "highlight" and on_screen(box) and on_screen(panel)
    assert panel.request.text() == (
        "<b>Your turn:</b> make the input features x₁, x₂, x₁·x₂ in the Data panel"
    )
    square = window.data_panel.checks["x1^2"]
    click(qtbot, square)  # the wrong box: the probe's W[2, 0] would be x1²'s weight
    assert "Not yet: transforms is now x1, x2, x1^2." in panel.request.text()
    click(qtbot, box)
    assert "Not yet: transforms is now x1, x2, x1^2, x1*x2." in panel.request.text()
    assert panel.progress.index == 3
    click(qtbot, square)
    assert window.document.data["transforms"] == ["x1", "x2", "x1*x2"]
    qtbot.waitUntil(lambda: panel.progress.index == 4, timeout=3000)
    click(qtbot, panel.probe_box.buttons["positive"])
    params = window.training_ui.controller.session.executor.params["logit"]
    assert params["W"].shape == (3, 1)
    # one neuron right on all four points needs w1 + b > 0, w2 + b > 0, b < 0 and
    # w1 + w2 + w3 + b < 0, so w3 < b < 0: the weight on x1·x2 is negative
    assert panel.progress.answers[4].truth == "negative"
    assert "You said positive; it is negative." in panel.probe_box.result.text()
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    assert panel.progress.index == 5


def test_a_skipped_feature_page_leaves_the_weight_probe_unanswerable_and_says_why(
    window: MainWindow, qtbot  # noqa: ANN001
) -> None:
    panel = window.learn
    start(window, qtbot, "05_xor.lesson", 4)  # Skip passed the feature page: W stays (2, 1)
    click(qtbot, panel.probe_box.buttons["negative"])
    assert panel.probe_box.result.text() == (
        "<b>No answer to compare with:</b> logit.W[2, 0] is outside the shape (2, 1) it has "
        "now."
    )
    assert 4 not in panel.progress.answers and panel.progress.done  # not counted, not stuck


def test_pointing_at_a_node_keeps_the_whole_fitted_graph_in_view(
    window: MainWindow, qtbot  # noqa: ANN001
) -> None:
    """The chain-rule lesson points at L, the last node: scrolling it to the centre used to
    push a and b off screen while the page talks about a·b."""
    window.show_lessons()
    window.learn.start(LESSONS.index("02_chain_rule.lesson"))
    view = window.view
    seen = view.mapToScene(view.viewport().rect()).boundingRect()
    for node_id, item in window.canvas.node_items.items():
        assert seen.contains(item.sceneBoundingRect()), node_id
    assert window.canvas.selected_ids() == ["L"]
