"""Export a scene's graph to code other tools run: a numpy script, a PyTorch module, ONNX.

Every target computes what bpviz computes; a node a target cannot express raises
`ExportError` naming the node and its op, before any file is written.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bpviz.engine.errors import BpvizError
from bpviz.export.common import ExportError, Snapshot, snapshot
from bpviz.export.numpy_target import write_numpy

Writer = Callable[[Snapshot, Path], list[Path]]
TARGETS: dict[str, Writer] = {"numpy": write_numpy}

__all__ = ["TARGETS", "ExportError", "export_scene"]


def export_scene(scene: Any, target: str, out: Path | str) -> list[Path]:
    """Write `scene` for `target` to `out` (plus any sidecar files); return every path written."""
    writer = TARGETS.get(target)
    if writer is None:
        raise BpvizError(f"unknown export target '{target}' (use one of: {', '.join(TARGETS)})")
    return writer(snapshot(scene), Path(out))
