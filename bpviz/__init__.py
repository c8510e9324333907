"""bpviz: see backpropagation happen.

Nothing is imported here eagerly: `python -m bpviz` imports this package before the command
line's interrupt guard exists, so it must take no time at all. The names below load on first
use, so `import bpviz` stays light: no Qt, torch or onnx until needed.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"
__all__ = [
    "BpvizError",
    "Value",
    "__version__",
    "from_torch",
    "load_scene",
    "save",
    "show",
    "to_scene",
]

_LAZY = {
    "BpvizError": "bpviz.engine.errors",
    "Value": "bpviz.interop.value",
    "to_scene": "bpviz.interop.trace",
    "save": "bpviz.interop.trace",
    "from_torch": "bpviz.interop.torch_import",
    "show": "bpviz.viewer",
}


def load_scene(path):  # noqa: ANN001, ANN201 - thin re-export, documented in scene.document
    """Load a scene file; see :func:`bpviz.scene.load_scene`."""
    from bpviz.scene import load_scene as _load

    return _load(path)


_SUBPACKAGES = {"engine", "scene", "model", "export", "interop"}  # `bpviz.engine.ops` works


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"bpviz.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'bpviz' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
