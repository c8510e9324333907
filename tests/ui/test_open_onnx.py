"""File › Open and drag-and-drop take an ONNX model: it opens as a new, unsaved scene."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

pytest.importorskip("onnx", reason="needs onnx: pip install 'bpviz[onnx]'")
pytest.importorskip("onnxruntime", reason="needs onnxruntime: pip install 'bpviz[onnx]'")

from tests.interop.onnx_models import mlp  # noqa: E402


def _write_mlp(tmp_path: Path) -> Path:
    import onnx

    path = tmp_path / "net.onnx"
    onnx.save(mlp(np.random.default_rng(0)), str(path))
    return path


def _dense_units(window) -> list[int]:  # noqa: ANN001
    doc = window.files.document
    return sorted(n.attrs["units"] for n in doc.nodes.values() if n.op == "dense")


def test_file_open_reads_an_onnx_model_as_an_unsaved_scene(window, tmp_path) -> None:  # noqa: ANN001
    window.dialogs.next_open_path = _write_mlp(tmp_path)
    window.registry["open"].trigger()
    assert window.dialogs.errors == []
    assert _dense_units(window) == [1, 4, 5]
    assert window.files.path is None  # Save asks where to write the scene


def test_dropping_an_onnx_file_opens_it(window, tmp_path) -> None:  # noqa: ANN001
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(_write_mlp(tmp_path)))])
    drop = QDropEvent(
        QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(drop)
    assert _dense_units(window) == [1, 4, 5]


def test_a_broken_onnx_file_names_itself_and_keeps_the_document(window, tmp_path) -> None:  # noqa: ANN001
    before = window.files.scene_dict()
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"not a model")
    window.dialogs.next_open_path = bad
    window.registry["open"].trigger()
    assert len(window.dialogs.errors) == 1
    assert "broken.onnx" in window.dialogs.errors[0][1]
    assert window.files.scene_dict() == before
