"""The engine: ops, graphs, passes, training. numpy and networkx only.

`bpviz.engine.ops.REGISTRY` holds every op; `Graph` is what scene files describe, `Executor`
runs passes over one, `Trainer` takes optimizer steps (`bpviz.engine.gradcheck.gradcheck`
compares gradients with finite differences). The names are imported on first use: the
command line imports `bpviz.engine.errors` first thing and must not wait for networkx.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Graph": "bpviz.engine.graph",
    "Node": "bpviz.engine.graph",
    "Edge": "bpviz.engine.graph",
    "Executor": "bpviz.engine.executor",
    "Trainer": "bpviz.engine.training",
    "History": "bpviz.engine.training",
    "StepResult": "bpviz.engine.training",
    "TrainingConfig": "bpviz.engine.optim",
    "Optimizer": "bpviz.engine.optim",
    "OPTIMIZERS": "bpviz.engine.optim",
    "GradCheck": "bpviz.engine.gradcheck",
    "REGISTRY": "bpviz.engine.ops",
    "OpSpec": "bpviz.engine.ops",
    "BpvizError": "bpviz.engine.errors",
}
_SUBMODULES = {
    "ops", "graph", "executor", "training", "optim", "gradcheck", "datasets", "session",
}  # fmt: skip

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS, *_SUBMODULES})
