"""The main window end to end: files, recovery, editing shortcuts, palette drops."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, QSettings, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication

from bpviz.examples import example_paths
from bpviz.ui.main_window import MainWindow
from bpviz.ui.recovery import Recovery
from tests.ui.conftest import FakeDialogs, make_window

SCENES = Path(__file__).resolve().parents[2] / "scenes"


@pytest.fixture
def xor_file(tmp_path: Path) -> Path:
    path = tmp_path / "xor.json"
    shutil.copy(SCENES / "xor.json", path)
    return path


def test_first_launch_shows_the_default_example(window: MainWindow) -> None:
    window.open_default()
    assert "o" in window.document.nodes and len(window.canvas.node_items) == len(
        window.document.nodes
    )
    assert not window.files.is_modified()


def test_examples_menu_lists_every_scene(window: MainWindow) -> None:
    names = [a.statusTip() for a in window.files.examples_menu.actions()]
    assert names == [str(p) for p in example_paths()]
    window.files.examples_menu.actions()[0].trigger()
    assert len(window.document.nodes) > 0


def test_save_then_open_in_a_new_window_gives_the_same_document(
    window: MainWindow,
    xor_file: Path,
    qtbot,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    assert window.files.open_file(xor_file)
    window.canvas.select(["hidden"])
    window.edits.delete_selected()
    assert window.files.is_modified() and window.windowTitle().startswith("xor.json[*]")
    out = tmp_path / "out" / "saved.json"
    out.parent.mkdir()
    window.dialogs.next_save_path = out
    assert window.files.save_as()
    assert not window.files.is_modified()
    saved = window.document.to_scene_dict()
    other = make_window(qtbot, tmp_path / "second")
    assert other.files.open_file(out)
    assert other.document.to_scene_dict() == saved
    assert str(out.resolve()) in window.files.recent_files()


def test_corrupt_file_shows_the_error_and_keeps_the_document(
    window: MainWindow, xor_file: Path, tmp_path: Path
) -> None:
    window.files.open_file(xor_file)
    before = window.document.to_scene_dict()
    bad = tmp_path / "bad.json"
    scene = {
        "format": "bpviz-scene",
        "version": 1,
        "output": "y",
        "nodes": [{"id": "y", "op": "nope"}],
    }
    bad.write_text(json.dumps(scene))
    assert not window.files.open_file(bad)
    assert window.dialogs.errors and "nodes[0].op" in window.dialogs.errors[0][1]
    assert window.document.to_scene_dict() == before
    assert window.files.path == xor_file


def test_unsaved_changes_are_asked_about(window: MainWindow, xor_file: Path) -> None:
    window.files.open_file(xor_file)
    window.edits.select_all()
    window.edits.delete_selected()
    window.dialogs.save_answer = "cancel"
    window.files.new_file()
    assert window.dialogs.asked == ["xor.json"]
    assert len(window.document.nodes) == 0 and window.files.path == xor_file
    window.dialogs.save_answer = "discard"
    window.files.new_file()
    assert window.files.path is None and not window.files.is_modified()


def test_close_with_changes_can_be_cancelled(window: MainWindow, xor_file: Path) -> None:
    window.files.open_file(xor_file)
    window.edits.select_all()
    window.edits.delete_selected()
    window.dialogs.save_answer = "cancel"
    assert not window.close()
    assert window.isVisible()


def test_recovery_is_offered_after_a_crash(
    window: MainWindow, xor_file: Path, qtbot, tmp_path: Path
) -> None:  # noqa: ANN001
    window.files.open_file(xor_file)
    window.canvas.select(["t"])
    window.edits.delete_selected()
    edited = window.document.to_scene_dict()
    window.files.autosave()
    assert window.files.recovery.exists()
    # simulated crash: the window is gone without closeEvent; a new one starts
    second = MainWindow(
        settings=QSettings(str(tmp_path / "s2.ini"), QSettings.Format.IniFormat),
        recovery=Recovery(tmp_path / "recovery"),
        dialogs=FakeDialogs(),
    )
    qtbot.addWidget(second)
    assert second.files.offer_recovery()
    assert second.dialogs.asked == ["restore"]
    assert second.document.to_scene_dict() == edited
    assert second.files.is_modified() and second.files.path == xor_file
    second.undo.qstack.setClean()


def test_clean_close_removes_the_recovery_copy(window: MainWindow, xor_file: Path) -> None:
    window.files.open_file(xor_file)
    window.edits.select_all()
    window.edits.delete_selected()
    window.files.autosave()
    window.dialogs.save_answer = "discard"
    assert window.close()
    assert not window.files.recovery.exists()


def test_delete_key_and_undo(window: MainWindow, xor_file: Path, qtbot) -> None:  # noqa: ANN001
    window.files.open_file(xor_file)
    before = window.document.to_scene_dict()
    window.canvas.select(["logit"])
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Delete)
    assert "logit" not in window.document.nodes
    assert window.registry["undo"].text() == "&Undo Delete logit"
    qtbot.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.document.to_scene_dict() == before


def test_copy_paste_through_the_clipboard_and_undo(window: MainWindow, xor_file: Path) -> None:
    window.files.open_file(xor_file)
    before = window.document.to_scene_dict()
    window.canvas.select(["hidden", "logit"])
    window.registry["copy"].trigger()
    assert json.loads(QGuiApplication.clipboard().text())["nodes"]
    window.registry["paste"].trigger()
    new = window.canvas.selected_ids()
    assert len(new) == 2 and set(new).isdisjoint({"hidden", "logit"})
    assert window.document.node(new[1]).inputs == {"x": new[0]}
    window.undo.undo()
    assert window.document.to_scene_dict() == before


def test_paste_of_plain_text_is_refused_politely(window: MainWindow, xor_file: Path) -> None:
    window.files.open_file(xor_file)
    QGuiApplication.clipboard().setText("hello")
    window.registry["paste"].trigger()
    assert "Nothing to paste" in window.statusBar().currentMessage()
    assert not window.files.is_modified()


def test_duplicate_and_cut(window: MainWindow, xor_file: Path) -> None:
    window.files.open_file(xor_file)
    window.canvas.select(["t"])
    window.registry["duplicate"].trigger()
    assert len(window.document.nodes) == 6
    window.registry["cut"].trigger()
    assert len(window.document.nodes) == 5


def test_auto_layout_is_one_undoable_step(window: MainWindow, xor_file: Path) -> None:
    window.files.open_file(xor_file)
    before = window.document.to_scene_dict()
    window.registry["layout"].trigger()
    for e in window.document.edges():
        assert window.document.pos(e.src)[0] < window.document.pos(e.dst)[0]
    assert window.undo.qstack.count() == 1
    window.undo.undo()
    assert window.document.to_scene_dict() == before


def test_palette_entry_dropped_on_the_canvas_adds_a_node(window: MainWindow) -> None:
    tree = window.palette.tree
    mime = tree.mimeData([window.palette.item_for("relu")])
    vp = window.view.viewport()
    target = vp.rect().center()
    args = (
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(vp, QDragEnterEvent(target, *args))
    QApplication.sendEvent(vp, QDropEvent(QPointF(target), *args))
    assert "relu1" in window.document.nodes
    item = window.canvas.node_items["relu1"]
    assert item.sceneBoundingRect().contains(window.view.mapToScene(target))


def test_tab_opens_search_and_enter_adds_the_node(window: MainWindow, qtbot) -> None:  # noqa: ANN001
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Tab)
    assert window.edits.search.isVisible()
    qtbot.keyClicks(window.edits.search.edit, "sigm")
    qtbot.keyClick(window.edits.search.edit, Qt.Key.Key_Return)
    assert "sigmoid1" in window.document.nodes


def test_inspector_follows_selection_and_edits_attrs(window: MainWindow, xor_file: Path) -> None:
    window.files.open_file(xor_file)
    window.canvas.select(["hidden"])
    assert window.inspector.node_id == "hidden"
    window.canvas.select(["hidden", "logit"])
    assert window.inspector.node_id is None


def test_dropping_a_scene_file_on_the_window_opens_it(window: MainWindow, xor_file: Path) -> None:
    from PySide6.QtCore import QMimeData, QUrl

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(xor_file))])
    args = (
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    pos = window.rect().center()
    QApplication.sendEvent(window, QDragEnterEvent(pos, *args))
    QApplication.sendEvent(window, QDropEvent(QPointF(pos), *args))
    assert window.files.path == xor_file


def test_geometry_and_recent_files_persist(
    window: MainWindow, xor_file: Path, qtbot, tmp_path: Path
) -> None:  # noqa: ANN001
    window.files.open_file(xor_file)
    window.resize(760, 560)  # the offscreen screen is 800x600: stay inside it
    qtbot.wait(20)  # let the layout settle: docks may ask for a little more room
    size = window.size()
    window.registry["snap"].setChecked(True)
    window.close()
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    again = MainWindow(settings=settings, recovery=Recovery(tmp_path / "recovery"))
    qtbot.addWidget(again)
    again.show()
    qtbot.wait(20)
    # the width comes back exactly; the height at least (at 760 px the toolbars may wrap
    # into two rows, which the restored layout needs room for)
    assert again.width() == size.width() and again.height() >= size.height()
    assert again.registry["snap"].isChecked() and again.canvas.snap
    assert [a.text() for a in again.files.recent_menu.actions()] == ["xor.json"]


def test_help_lists_the_shortcuts_in_aligned_columns(window: MainWindow) -> None:
    """Help › Keyboard Shortcuts: one table row per shortcut, so the keys line up in any font."""
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    entry = next(a for a in help_menu.actions() if a.text() == "&Keyboard Shortcuts")
    entry.trigger()
    (title, text), = window.dialogs.infos
    assert title == "Keyboard shortcuts"
    assert text.startswith("<table><tr>") and text.endswith("</tr></table>")
    assert "<tr><td>Open</td><td style='padding-left:16px'><b>Ctrl+O</b></td></tr>" in text
    assert "<td>Pan</td><td style='padding-left:16px'><b>Middle-drag or Space+drag</b></td>" in text
    assert "  " not in text  # no padding with spaces
