"""bpviz.show: what it opens for each kind of argument, and when it blocks."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import sys  # noqa: E402
import types  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import shiboken6  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from bpviz import Value, save, show, to_scene, viewer  # noqa: E402
from bpviz.engine.errors import BpvizError  # noqa: E402
from bpviz.ui.main_window import MainWindow  # noqa: E402
from bpviz.ui.recovery import Recovery  # noqa: E402


@pytest.fixture
def windows(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN001, ANN201
    """Windows show() makes, with throwaway settings; exec() records instead of blocking."""
    made: list[MainWindow] = []

    def new_window() -> MainWindow:
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        w = MainWindow(settings=settings, recovery=Recovery(tmp_path / "recovery"))
        made.append(w)
        return w

    monkeypatch.setattr(viewer, "new_window", new_window)
    monkeypatch.setattr(QApplication, "exec", lambda self: made.append("exec") or 0)
    yield made
    for w in made:
        if isinstance(w, MainWindow) and shiboken6.isValid(w):
            w.close()
            w.deleteLater()


def ipython_with_loop(monkeypatch: pytest.MonkeyPatch, loop: str | None) -> None:
    shell = types.SimpleNamespace(active_eventloop=loop)
    fake = types.ModuleType("IPython")
    fake.get_ipython = lambda: shell
    monkeypatch.setitem(sys.modules, "IPython", fake)


def graph() -> Value:
    x = Value(0.5, label="x")
    y = (x * 3.0).tanh()
    y.label = "y"
    return y


def shown(w: MainWindow) -> list[tuple[str, str]]:
    doc = w.document
    return sorted((n, doc.node(n).op) for n in doc.nodes)


def test_script_blocks_until_closed(windows: list, monkeypatch: pytest.MonkeyPatch) -> None:
    ipython_with_loop(monkeypatch, None)
    assert show(graph()) is None
    w, ran = windows
    assert ran == "exec"
    assert shown(w) == [("c1", "const"), ("mul1", "mul"), ("x", "param"), ("y", "tanh")]
    assert w.document.graph.output == "y"


def test_ipython_with_qt_loop_returns_at_once(windows: list, monkeypatch, qtbot) -> None:  # noqa: ANN001
    ipython_with_loop(monkeypatch, "qt6")
    w = show(graph())
    assert windows == [w]  # no exec: the prompt's event loop drives the window
    assert w.isVisible() and w in viewer._windows
    w.close()
    qtbot.waitUntil(lambda: not viewer._windows)  # deleted on close, then forgotten


def test_ipython_without_qt_loop_blocks(windows: list, monkeypatch) -> None:  # noqa: ANN001
    ipython_with_loop(monkeypatch, "inline")
    assert show(graph()) is None
    assert windows[1] == "exec"


def test_scene_dict_and_path(windows: list, monkeypatch, tmp_path: Path) -> None:  # noqa: ANN001
    ipython_with_loop(monkeypatch, "qt")
    scene = to_scene(graph())
    from_dict = show(scene)
    assert shown(from_dict) == [("c1", "const"), ("mul1", "mul"), ("x", "param"), ("y", "tanh")]
    assert from_dict.files.path is None
    save(graph(), tmp_path / "g.json")
    from_path = show(tmp_path / "g.json")
    assert shown(from_path) == shown(from_dict)
    assert from_path.files.path == tmp_path / "g.json"  # Save writes back where it came from
    assert from_dict.view.items()  # something is drawn


def test_bad_arguments_fail_before_any_window(windows: list, tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="got int"):
        show(3)
    with pytest.raises(BpvizError, match="missing.json"):
        show(tmp_path / "missing.json")
    with pytest.raises(BpvizError, match="nodes"):
        show({"format": "bpviz-scene", "version": 1, "output": None})
    assert windows == []


def test_onnx_model_opens_as_a_new_scene(windows: list, monkeypatch, tmp_path: Path) -> None:  # noqa: ANN001
    onnx = pytest.importorskip("onnx")
    import numpy as np

    from tests.interop.onnx_models import mlp

    onnx.save(mlp(np.random.default_rng(1)), tmp_path / "mlp.onnx")
    ipython_with_loop(monkeypatch, "qt")
    w = show(tmp_path / "mlp.onnx")
    assert shown(w) == [("fc1_Gemm", "dense"), ("fc2_MatMul", "dense"), ("fc3_Gemm", "dense"),
                        ("x", "input")]
    assert w.files.path is None  # Save asks where: the model file is not a scene
