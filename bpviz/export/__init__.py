"""Export a scene's graph as a standalone script (partial: numpy target, elementwise ops)."""

from bpviz.export.numpy_target import ExportError, export_scene

__all__ = ["ExportError", "export_scene"]
