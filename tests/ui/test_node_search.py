"""The quick-add popup: filter as you type, arrows move, Enter picks, Escape closes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from bpviz.engine.ops import REGISTRY
from bpviz.ui.node_search import NodeSearchPopup
from tests.ui.conftest import colours_in, grab_to


@pytest.fixture
def popup(qtbot: QtBot) -> Iterator[NodeSearchPopup]:
    owner = QWidget()  # the popup's parent, as the main window is; kept alive by this frame
    qtbot.addWidget(owner)
    owner.show()
    widget = NodeSearchPopup(owner)
    widget.popup_at(owner.mapToGlobal(QPoint(20, 20)))
    qtbot.waitExposed(widget)
    yield widget


def test_popup_shows_every_op_with_focus_in_the_search(popup: NodeSearchPopup) -> None:
    assert popup.isVisible()
    assert popup.windowFlags() & Qt.WindowType.Popup
    assert sorted(popup.visible_ops()) == sorted(REGISTRY)
    assert popup.edit.text() == ""
    assert popup.focusWidget() is popup.edit


def test_type_tan_enter_chooses_tanh(qtbot: QtBot, popup: NodeSearchPopup) -> None:
    qtbot.keyClicks(popup.edit, "tan")
    assert popup.visible_ops()[0] == "tanh"
    assert "relu" not in popup.visible_ops()
    with qtbot.waitSignal(popup.op_chosen, timeout=1000) as blocker:
        qtbot.keyClick(popup.edit, Qt.Key.Key_Return)
    assert blocker.args == ["tanh"]
    assert not popup.isVisible()


def test_arrows_move_the_choice(qtbot: QtBot, popup: NodeSearchPopup) -> None:
    qtbot.keyClicks(popup.edit, "relu")
    assert popup.visible_ops()[:2] == ["relu", "leaky_relu"]
    qtbot.keyClick(popup.edit, Qt.Key.Key_Down)
    assert popup.current_op() == "leaky_relu"
    qtbot.keyClick(popup.edit, Qt.Key.Key_Up)
    qtbot.keyClick(popup.edit, Qt.Key.Key_Up)  # stays on the first row
    assert popup.current_op() == "relu"
    qtbot.keyClick(popup.edit, Qt.Key.Key_Down)
    with qtbot.waitSignal(popup.op_chosen, timeout=1000) as blocker:
        qtbot.keyClick(popup.edit, Qt.Key.Key_Enter)
    assert blocker.args == ["leaky_relu"]


def test_click_picks_an_entry(qtbot: QtBot, popup: NodeSearchPopup) -> None:
    qtbot.keyClicks(popup.edit, "ma")
    row = popup.visible_ops().index("matmul")
    rect = popup.list.visualItemRect(popup.list.item(row))
    with qtbot.waitSignal(popup.op_chosen, timeout=1000) as blocker:
        qtbot.mouseClick(popup.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == ["matmul"]


def test_escape_closes_without_choosing(qtbot: QtBot, popup: NodeSearchPopup) -> None:
    qtbot.keyClicks(popup.edit, "add")
    with qtbot.assertNotEmitted(popup.op_chosen):
        qtbot.keyClick(popup.edit, Qt.Key.Key_Escape)
    assert not popup.isVisible()


def test_no_match_chooses_nothing(qtbot: QtBot, popup: NodeSearchPopup) -> None:
    qtbot.keyClicks(popup.edit, "qqq")
    assert popup.visible_ops() == []
    with qtbot.assertNotEmitted(popup.op_chosen):
        qtbot.keyClick(popup.edit, Qt.Key.Key_Return)
    assert popup.doc.text() == "No op matches."


def test_reopening_starts_fresh(qtbot: QtBot, popup: NodeSearchPopup) -> None:
    qtbot.keyClicks(popup.edit, "tan")
    qtbot.keyClick(popup.edit, Qt.Key.Key_Escape)
    popup.popup_at(QPoint(40, 40))
    assert popup.edit.text() == "" and len(popup.visible_ops()) == len(REGISTRY)


def test_render(qtbot: QtBot, popup: NodeSearchPopup, tmp_path: Path) -> None:
    qtbot.keyClicks(popup.edit, "tanh")
    assert popup.visible_ops() == ["tanh"]
    popup.list.clearSelection()  # the selection tint would blend into the icon
    image = grab_to(popup, tmp_path / "node_search.png")
    assert (image.width(), image.height()) == (popup.width(), popup.height())
    colours = colours_in(image)
    # tanh's icon in the activations colour, and no other category's
    assert "#59a14f" in colours
    assert not {"#4e79a7", "#f28e2b", "#76b7b2", "#b07aa1", "#e15759"} & colours
