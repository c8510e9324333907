"""The palette: grouped ops, filtering, drag mime data and activation."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetricsF
from pytestqt.qtbot import QtBot

from bpviz.engine.ops import CATEGORIES, REGISTRY
from bpviz.ui.palette import OP_MIME, PaletteWidget, match_rank, search_ops
from bpviz.ui.theme import ICON_TEXT_SHARE, icon_font, icon_label
from tests.ui.conftest import colours_in, grab_to


@pytest.fixture
def palette(qtbot: QtBot) -> PaletteWidget:
    widget = PaletteWidget()
    qtbot.addWidget(widget)
    widget.resize(260, 600)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _item_centre(palette: PaletteWidget, op: str):  # noqa: ANN202
    item = palette.item_for(op)
    palette.tree.scrollToItem(item)
    return palette.tree.visualItemRect(item).center()


def test_every_op_listed_under_its_category_in_order(palette: PaletteWidget) -> None:
    tree = palette.tree
    shown = [tree.topLevelItem(i).text(0).lower() for i in range(tree.topLevelItemCount())]
    assert shown == [c for c in CATEGORIES if any(s.category == c for s in REGISTRY.values())]
    assert sorted(palette.visible_ops()) == sorted(REGISTRY)
    item = palette.item_for("tanh")
    assert item.parent() is palette.category_item("activations")
    assert item.toolTip(0) == f"tanh — {REGISTRY['tanh'].doc} (inputs: x)"
    assert palette.item_for("add").toolTip(0).endswith("(inputs: a, b)")
    assert not item.icon(0).isNull()
    assert all(palette.category_item(c).isExpanded() for c in ("math", "losses"))
    assert palette.search.placeholderText() == "Search ops…"


def test_typing_filters_entries_and_hides_empty_categories(
    qtbot: QtBot, palette: PaletteWidget
) -> None:
    qtbot.keyClicks(palette.search, "TAN")
    assert palette.visible_ops() == ["tanh"]
    assert not palette.item_for("tanh").isHidden()
    assert palette.item_for("relu").isHidden()
    assert not palette.category_item("activations").isHidden()
    assert palette.category_item("math").isHidden()
    assert palette.category_item("losses").isHidden()

    palette.search.clear()
    qtbot.keyClicks(palette.search, "binary")  # a doc-only match
    assert palette.visible_ops() == ["bce"]
    palette.search.clear()
    assert sorted(palette.visible_ops()) == sorted(REGISTRY)
    assert not any(palette.category_item(c).isHidden() for c in ("math", "losses"))

    qtbot.keyClicks(palette.search, "zzz")
    assert palette.visible_ops() == []
    assert all(palette.category_item(c).isHidden() for c in ("math", "data", "layers"))


def test_matching_is_shared_and_ranks_names_first() -> None:
    assert match_rank(REGISTRY["tanh"], "tanh") == 0
    assert match_rank(REGISTRY["tanh"], "hyperbolic") is not None
    assert match_rank(REGISTRY["relu"], "tan") is None
    names = [s.name for s in search_ops("relu")]
    assert names[:2] == ["relu", "leaky_relu"]
    assert [s.name for s in search_ops("squared error")] == ["mse"]


def test_drag_mime_data_carries_the_op_name(qtbot: QtBot, palette: PaletteWidget) -> None:
    qtbot.mouseClick(
        palette.tree.viewport(), Qt.MouseButton.LeftButton, pos=_item_centre(palette, "matmul")
    )
    assert palette.tree.currentItem() is palette.item_for("matmul")
    assert palette.item_for("matmul").flags() & Qt.ItemFlag.ItemIsDragEnabled
    assert not palette.category_item("math").flags() & Qt.ItemFlag.ItemIsDragEnabled
    mime = palette.tree.mimeData(palette.tree.selectedItems())
    assert mime.hasFormat(OP_MIME)
    assert bytes(mime.data(OP_MIME)).decode() == "matmul"
    assert palette.tree.mimeTypes() == [OP_MIME]


def test_double_click_and_enter_activate(qtbot: QtBot, palette: PaletteWidget) -> None:
    pos = _item_centre(palette, "sigmoid")
    viewport = palette.tree.viewport()
    with qtbot.waitSignal(palette.op_activated, timeout=1000) as blocker:
        # a real double click is press, release, then the double-click press and release;
        # QTest's mouseDClick sends only the second half, which item views ignore
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=pos)
        qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=pos)
    assert blocker.args == ["sigmoid"]

    palette.tree.setCurrentItem(palette.item_for("mse"))
    with qtbot.waitSignal(palette.op_activated, timeout=1000) as blocker:
        qtbot.keyClick(palette.tree, Qt.Key.Key_Return)
    assert blocker.args == ["mse"]

    qtbot.keyClicks(palette.search, "dense")
    with qtbot.waitSignal(palette.op_activated, timeout=1000) as blocker:
        qtbot.keyClick(palette.search, Qt.Key.Key_Return)
    assert blocker.args == ["dense"]


def test_category_rows_do_not_activate(qtbot: QtBot, palette: PaletteWidget) -> None:
    with qtbot.assertNotEmitted(palette.op_activated):
        palette.tree.setCurrentItem(palette.category_item("math"))
        qtbot.keyClick(palette.tree, Qt.Key.Key_Return)


def test_render(qtbot: QtBot, palette: PaletteWidget, tmp_path: Path) -> None:
    image = grab_to(palette, tmp_path / "palette.png")
    assert (image.width(), image.height()) == (260, 600)
    # the first categories' icons in their colours: data, parameters, math
    assert {"#4e79a7", "#f28e2b", "#76b7b2"} <= colours_in(image)


def test_every_icon_says_something_different(palette: PaletteWidget) -> None:
    """Initials made const, column and concat all "Co": each op's icon is its own now, in
    text and in pixels (ops of one category share a colour, so only the text tells them
    apart), and the text fits the 20 px icon the palette shows."""
    ops = palette.visible_ops()
    labels = {op: icon_label(op) for op in ops}
    assert len(set(labels.values())) == len(ops) == len(REGISTRY)
    assert [labels[op] for op in ("const", "column", "concat", "sub", "sum")] == [
        "c", "[i]", "a|b", "−", "Σ"
    ]  # fmt: skip
    images = {}
    for op in ops:
        image = palette.item_for(op).icon(0).pixmap(20, 20).toImage()
        images[op] = bytes(image.constBits())
        font = icon_font(labels[op], 20)
        assert QFontMetricsF(font).horizontalAdvance(labels[op]) <= 20 * ICON_TEXT_SHARE, op
    assert len(set(images.values())) == len(ops)
    assert icon_label("made_up") == "MU"  # an op the table does not name: its initials
