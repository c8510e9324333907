"""A graph together with its data, parameters and training setup: what a scene file describes."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from bpviz.engine.datasets import Dataset, make_dataset
from bpviz.engine.errors import GraphError
from bpviz.engine.executor import Executor
from bpviz.engine.gradcheck import GradCheck, gradcheck
from bpviz.engine.graph import Graph
from bpviz.engine.optim import ParamTree, TrainingConfig
from bpviz.engine.training import History, StepResult, Trainer


class Session:
    """Forward, backward and training over the full training set of a scene's graph."""

    def __init__(
        self,
        graph: Graph,
        data: Mapping[str, Any] | None = None,
        training: Mapping[str, Any] | None = None,
        base_dir: str | os.PathLike | None = None,
    ) -> None:
        self.graph = graph
        self.dataset: Dataset | None = make_dataset(data, base_dir) if data else None
        self.config = TrainingConfig.from_dict(training)
        self.executor = Executor(graph, seed=self.config.seed)
        self.trainer = Trainer(self.executor, self.dataset, self.config)
        self._probe: Executor | None = None  # predict's own executor

    # ---- passes over the whole training set ---------------------------------------------
    def _use_training_set(self) -> None:
        if self.dataset is not None:
            self.executor.set_data(self.dataset.x_train, self.dataset.y_train)

    def forward(self) -> np.ndarray:
        self._use_training_set()
        return np.asarray(self.executor.forward())

    def backward(self) -> None:
        self.executor.backward()

    def value(self, node_id: str) -> np.ndarray:
        return self.executor.value(node_id)

    def grad(self, node_id: str) -> np.ndarray:
        return self.executor.grad(node_id)

    def param(self, node_id: str, name: str = "value") -> np.ndarray:
        try:
            return self.executor.params[node_id][name]
        except KeyError:
            raise GraphError(
                f"node '{node_id}' has no parameter '{name}' (run forward first)"
            ) from None

    def accuracy(self) -> float | None:
        """Training-set accuracy of the last forward pass (None unless the loss classifies)."""
        return self.trainer.current_accuracy()

    def train(self, steps: int, on_step: Callable[[StepResult], None] | None = None) -> History:
        return self.trainer.train(steps, on_step)

    def gradcheck(self, **kwargs: Any) -> list[GradCheck]:
        self._use_training_set()
        return gradcheck(self.executor, **kwargs)

    def predict(self, x: np.ndarray, node_id: str, params: ParamTree | None = None) -> np.ndarray:
        """The value of `node_id` for inputs `x` (targets zero); for decision boundaries.
        `params` (e.g. an earlier step's) replaces the current parameters for this call.

        Runs on a private executor reading a copy of the parameter dict, so it neither
        overwrites the values of the last training pass nor draws parameters into the
        session (which would then be saved)."""
        live = self.executor
        ex = self._probe
        if ex is None:
            ex = self._probe = Executor(self.graph, seed=live.seed)
        ex.seed = live.seed
        ex.use_params(dict(live.params if params is None else params))
        ex.set_data(x, np.zeros(len(x)))
        for step in ex.forward_nodes():
            if step.node_id == node_id:
                return np.array(step.value)
        raise GraphError(f"node '{node_id}' cannot be computed")

    @property
    def history(self) -> History:
        return self.trainer.history

    # ---- saved state ---------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Learned parameters and optimizer state, as plain JSON-able data."""
        return {
            "params": {
                nid: {name: a.tolist() for name, a in arrays.items()}
                for nid, arrays in self.executor.params.items()
            },
            "optimizer": self.trainer.optimizer.state_dict(self.executor.params),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        params = state.get("params") or {}
        self.executor.load_params(
            {
                nid: {k: np.array(v, dtype=np.float64) for k, v in arrays.items()}
                for nid, arrays in params.items()
            }
        )
        if state.get("optimizer"):
            self.trainer.optimizer.load_state_dict(state["optimizer"])
            self.trainer.skip_batches(self.trainer.optimizer.t)
