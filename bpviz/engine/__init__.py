"""The engine: ops, graphs, passes, training. numpy and networkx only.

`bpviz.engine.ops.REGISTRY` holds every op; `Graph` is what scene files describe, `Executor`
runs passes over one, `Trainer` takes optimizer steps, `gradcheck` compares with finite
differences."""

from bpviz.engine import ops
from bpviz.engine.errors import BpvizError
from bpviz.engine.executor import Executor
from bpviz.engine.gradcheck import GradCheck, gradcheck
from bpviz.engine.graph import Edge, Graph, Node
from bpviz.engine.ops import REGISTRY, OpSpec
from bpviz.engine.optim import OPTIMIZERS, Optimizer, TrainingConfig
from bpviz.engine.training import History, StepResult, Trainer

__all__ = [
    "OPTIMIZERS",
    "REGISTRY",
    "BpvizError",
    "Edge",
    "Executor",
    "GradCheck",
    "Graph",
    "History",
    "Node",
    "OpSpec",
    "Optimizer",
    "StepResult",
    "Trainer",
    "TrainingConfig",
    "gradcheck",
    "ops",
]
