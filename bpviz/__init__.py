"""bpviz: see backpropagation happen."""

from bpviz.engine.errors import BpvizError

__version__ = "0.1.0"
__all__ = ["BpvizError", "load_scene", "__version__"]


def load_scene(path):  # noqa: ANN001, ANN201 - thin re-export, documented in scene.document
    """Load a scene file; see :func:`bpviz.scene.load_scene`."""
    from bpviz.scene import load_scene as _load

    return _load(path)
