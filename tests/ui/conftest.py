"""UI test setup: Qt runs offscreen (set before any Qt import); a small document; a main
window with fake dialogs and its own settings (`make_window` for a second one)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import QCoreApplication, QEvent, QSettings, Qt  # noqa: E402
from PySide6.QtGui import QImage  # noqa: E402
from PySide6.QtWidgets import QLineEdit, QSpinBox, QWidget  # noqa: E402
from pytestqt.qtbot import QtBot  # noqa: E402

from bpviz.model.document import Document  # noqa: E402
from bpviz.ui.inspector import InspectorWidget  # noqa: E402
from bpviz.ui.main_window import MainWindow  # noqa: E402
from bpviz.ui.recovery import Recovery  # noqa: E402

SCENES = Path(__file__).resolve().parents[2] / "scenes"


class FakeDialogs:
    """Answers the window's questions without modal dialogs, and records them."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []
        self.infos: list[tuple[str, str]] = []
        self.asked: list[str] = []
        self.save_answer = "discard"
        self.restore_answer = True
        self.next_save_path: Path | None = None
        self.next_open_path: Path | None = None
        self.next_csv_path: Path | None = None
        self.next_export_path: Path | None = None
        self.next_directory: Path | None = None

    def open_path(self, start: str = "") -> Path | None:
        return self.next_open_path

    def csv_path(self, start: str = "") -> Path | None:
        return self.next_csv_path

    def save_path(self, start: str = "") -> Path | None:
        return self.next_save_path

    def export_path(self, title: str, start: str, filter_: str) -> Path | None:
        return self.next_export_path

    def directory(self, title: str) -> Path | None:
        return self.next_directory

    def ask_save_changes(self, name: str) -> str:
        self.asked.append(name)
        return self.save_answer

    def ask_restore(self, saved_at: str) -> bool:
        self.asked.append("restore")
        return self.restore_answer

    def error(self, title: str, message: str) -> None:
        self.errors.append((title, message))

    def info(self, title: str, message: str) -> None:
        self.infos.append((title, message))


def make_window(qtbot, tmp_path: Path) -> MainWindow:  # noqa: ANN001
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(
        settings=settings, recovery=Recovery(tmp_path / "recovery"), dialogs=FakeDialogs()
    )
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    qtbot.waitExposed(window)
    return window


@pytest.fixture(autouse=True)
def _delete_closed_windows() -> None:
    """Windows that earlier tests closed are deleted before this one starts. pytest-qt asks
    for their deletion, but no event loop returns to carry it out, and every living widget
    is re-styled at each theme switch: the suite would slow down as it goes."""
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture
def document() -> Document:
    """x -> dense d1 (4 units) -> tanh t1 -> mse loss against target y; p1 a loose param."""
    doc = Document(name="ui-test")
    doc.add_node("x", "input", {"value": [[0.5, -1.0]]}, (0, 0))
    doc.add_node("y", "target", {}, (0, 120))
    doc.add_node("d1", "dense", {"units": 4, "activation": "relu"}, (160, 0))
    doc.add_node("t1", "tanh", {}, (320, 0))
    doc.add_node("loss", "mse", {}, (480, 60))
    doc.add_node("p1", "param", {"shape": [2, 3]}, (160, 160))
    doc.add_node("lr", "leaky_relu", {}, (320, 160))
    doc.connect("x", "d1", "x")
    doc.connect("d1", "t1", "x")
    doc.connect("t1", "loss", "pred")
    doc.connect("y", "loss", "target")
    doc.set_output("loss")
    return doc


@pytest.fixture
def window(qtbot, tmp_path):  # noqa: ANN001, ANN201
    """A shown main window with fake dialogs and its own settings; paused and clean after."""
    w = make_window(qtbot, tmp_path)
    yield w
    w.training_ui.pause()
    w.undo.qstack.setClean()


def retype(qtbot: QtBot, widget: QLineEdit | QSpinBox, text: str) -> None:
    """Select everything, type `text`, press Enter: as a person edits a field."""
    qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(widget, Qt.Key.Key_Delete)
    if text:
        qtbot.keyClicks(widget, text)
    qtbot.keyClick(widget, Qt.Key.Key_Return)


def attr_editor(inspector: InspectorWidget, name: str):  # noqa: ANN202
    """The editor widget of attr `name` in the inspector."""
    return inspector.fields[name].editor


def grab_to(widget: QWidget, path: Path) -> QImage:
    """Save what `widget` shows as a PNG at `path` and read it back from the file."""
    assert widget.grab().save(str(path))
    return QImage(str(path))


def colours_in(image: QImage) -> set[str]:
    """Every colour in `image`, as '#rrggbb' (alpha ignored)."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB32)
    pixels = np.frombuffer(rgb.constBits(), np.uint32, rgb.sizeInBytes() // 4)
    return {f"#{p & 0xFFFFFF:06x}" for p in np.unique(pixels)}
