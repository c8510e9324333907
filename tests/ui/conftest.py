"""UI test setup: Qt runs offscreen (set before any Qt import), plus a small document."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from bpviz.model.document import Document  # noqa: E402


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
    from tests.ui.test_main_window import make_window

    w = make_window(qtbot, tmp_path)
    yield w
    w.training_ui.pause()
    w.undo.qstack.setClean()
