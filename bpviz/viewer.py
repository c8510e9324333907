"""`bpviz.show`: the window on a Value's graph, a scene dict or a file, from Python.

From a script it blocks until the window is closed, like any Qt program. In IPython or
Jupyter with Qt event-loop integration (`%gui qt`) the loop is already running, so it
returns at once with the window and the prompt stays usable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_windows: set[Any] = set()  # windows shown without blocking, kept alive until closed


def scene_of(obj: Any) -> tuple[dict[str, Any], Path | None]:
    """The scene dict to show and the file it came from (a scene file can be saved back)."""
    from bpviz.interop.files import load_any
    from bpviz.interop.trace import to_scene
    from bpviz.interop.value import Value
    from bpviz.scene import validate_scene_dict

    if isinstance(obj, Value):
        return to_scene(obj), None
    if isinstance(obj, Mapping):
        return validate_scene_dict(obj, runnable=False), None
    if isinstance(obj, (str, os.PathLike)):
        path = Path(obj)
        return load_any(path), (path if path.suffix.lower() != ".onnx" else None)
    raise TypeError(f"show wants a Value, a scene dict or a path, got {type(obj).__name__}")


def event_loop_running() -> bool:
    """True inside IPython or Jupyter whose Qt event loop integration is on."""
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    loop = getattr(shell, "active_eventloop", None) if shell is not None else None
    return isinstance(loop, str) and loop.lower().startswith("qt")


def new_window() -> Any:
    """A main window with the person's own settings and crash-recovery file."""
    from bpviz.ui.main_window import MainWindow

    return MainWindow()


def show(obj: Any) -> Any:
    """Open the window on `obj`: a `bpviz.Value` (its graph, with it as output), a scene
    dict, or a path to a scene or an ONNX model.

    Returns the window at once when an event loop is already running (IPython with
    `%gui qt`); otherwise runs the loop until the window closes and returns None."""
    scene, path = scene_of(obj)  # bad input fails here, before any window exists
    running = event_loop_running()
    from PySide6.QtCore import Qt

    from bpviz.model.document import Document
    from bpviz.ui.app import _application

    app = _application()
    window = new_window()
    window.files.show(
        Document.from_scene_dict(scene), path, base_dir=path.parent if path else None
    )
    window.show()
    window.raise_()
    if running:
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        _windows.add(window)
        window.destroyed.connect(lambda *_: _windows.discard(window))
        return window
    app.exec()
    return None
