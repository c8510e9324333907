"""Export a scene's graph to code other tools run: a numpy script, a PyTorch module, ONNX.

Every target computes what bpviz computes; a node a target cannot express raises
`ExportError` naming the node and its op, before any file is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bpviz.engine.errors import BpvizError
from bpviz.export.common import ExportError, Snapshot, snapshot
from bpviz.export.numpy_target import write_numpy
from bpviz.export.onnx_target import write_onnx
from bpviz.export.torch_target import write_torch

Writer = Callable[[Snapshot, Path], list[Path]]


@dataclass(frozen=True)
class Target:
    """One export format: how menus and file dialogs name it, and the function that writes it."""

    name: str
    label: str  # "PyTorch script"
    suffix: str  # ".py"
    write: Writer
    tip: str


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target(
            "torch",
            "PyTorch script",
            ".py",
            write_torch,
            "An nn.Module mirroring the graph, with its weights, data and optimizer (+ .npz)",
        ),
        Target(
            "numpy",
            "NumPy script",
            ".py",
            write_numpy,
            "A script with the forward and backward pass written out node by node",
        ),
        Target(
            "onnx",
            "ONNX model",
            ".onnx",
            write_onnx,
            "The forward graph for inference, weights included: for onnxruntime or Netron",
        ),
    )
}

__all__ = ["TARGETS", "ExportError", "Target", "export_scene"]


def export_scene(scene: Any, target: str, out: Path | str) -> list[Path]:
    """Write `scene` for `target` to `out` (plus any sidecar files); return every path written."""
    spec = TARGETS.get(target)
    if spec is None:
        raise BpvizError(f"unknown export target '{target}' (use one of: {', '.join(TARGETS)})")
    return spec.write(snapshot(scene), Path(out))
