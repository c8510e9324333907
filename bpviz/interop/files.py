"""Opening any file bpviz can read as a scene dict: its own JSON, or an ONNX model.

One function for the window's File › Open, drag and drop, and `bpviz.show(path)`, so each
of them accepts the same files and reports problems the same way.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bpviz.scene import Scene, load_scene

OPEN_SUFFIXES = (".json", ".onnx")
OPEN_FILTER = "bpviz scenes and ONNX models (*.json *.onnx);;All files (*)"


def load_any(path: str | os.PathLike[str], *, runnable: bool = False) -> dict[str, Any]:
    """The scene dict of a `.json` scene or an `.onnx` model (by suffix; anything else is
    read as a scene). Errors are one `BpvizError` naming the file."""
    loaded = read_any(path, runnable=runnable)
    return loaded if isinstance(loaded, dict) else loaded.to_dict()


def read_any(
    path: str | os.PathLike[str], *, runnable: bool = False, run: bool = True
) -> Scene | dict[str, Any]:
    """As `load_any`, but a bpviz scene comes as the checked Scene, its graph built once
    (`run`: as `load_scene`'s)."""
    p = Path(path)
    if p.suffix.lower() == ".onnx":
        from bpviz.interop.onnx_import import import_onnx

        return import_onnx(p)
    return load_scene(p, runnable=runnable, run=run)
