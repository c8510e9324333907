"""bpviz: see backpropagation happen.

Nothing is imported here eagerly: `python -m bpviz` imports this package before the command
line's interrupt guard exists, so it must take no time at all.
"""

from typing import Any

__version__ = "0.1.0"
__all__ = ["BpvizError", "load_scene", "__version__"]


def load_scene(path):  # noqa: ANN001, ANN201 - thin re-export, documented in scene.document
    """Load a scene file; see :func:`bpviz.scene.load_scene`."""
    from bpviz.scene import load_scene as _load

    return _load(path)


def __getattr__(name: str) -> Any:
    if name == "BpvizError":
        from bpviz.engine.errors import BpvizError

        return BpvizError
    raise AttributeError(f"module 'bpviz' has no attribute {name!r}")
