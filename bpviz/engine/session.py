"""A graph together with its data, parameters and training setup: what a scene file describes."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from bpviz.engine.datasets import Dataset, make_dataset
from bpviz.engine.errors import GraphError
from bpviz.engine.executor import Executor
from bpviz.engine.gradcheck import GradCheck, gradcheck
from bpviz.engine.graph import Graph
from bpviz.engine.optim import ParamTree, TrainingConfig
from bpviz.engine.training import History, StepResult, Trainer
from bpviz.engine.transforms import Features, apply_features, parse_transforms, transform_dataset


def load_data(
    data: Mapping[str, Any] | None, base_dir: str | os.PathLike | None = None
) -> tuple[Dataset | None, Features, Dataset | None]:
    """(raw dataset, parsed `data.transforms`, the dataset the input node feeds the network).

    Raises DatasetError naming the key (`data.transforms[2]: ...`)."""
    if not data:
        return None, (), None
    raw = make_dataset(data, base_dir)
    features = parse_transforms(data.get("transforms"), raw.n_features)
    return raw, features, transform_dataset(raw, features)


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
        self.base_dir = base_dir
        # `dataset` is the data as a person sees it (plots, the decision-boundary plane);
        # `network_data` is what the input node feeds the graph, after `data.transforms`.
        self.dataset, self.features, self.network_data = load_data(data, base_dir)
        self.config = TrainingConfig.from_dict(training)
        self.executor = Executor(graph, seed=self.config.seed)
        self.trainer = Trainer(self.executor, self.network_data, self.config)
        self._probe: Executor | None = None  # predict's own executor

    # ---- settings changed while editing ---------------------------------------------------
    def set_data(self, data: Mapping[str, Any] | None) -> None:
        """Train on other data from now on. Parameters, optimizer and history start afresh:
        weights learned on other data (or another number of features) mean nothing here.
        A spec that cannot be loaded raises DatasetError and changes nothing."""
        loaded = load_data(data, self.base_dir)
        self.dataset, self.features, self.network_data = loaded
        self.trainer.dataset = self.network_data
        self.executor.set_data(None, None)
        self.trainer.reset(self.config.seed)

    def set_training(self, training: Mapping[str, Any] | None, reset: bool = False) -> None:
        """New optimizer settings, applied from the next step; the weights, the step count and
        (for the same optimizer) its moments are kept. `reset` also starts training afresh
        from the new seed. A bad setting raises ConfigError and changes nothing."""
        config = TrainingConfig.from_dict(training)
        self.config = config
        self.trainer.set_config(config)
        if reset:
            self.trainer.reset(config.seed)

    # ---- passes over the whole training set ---------------------------------------------
    def _use_training_set(self) -> None:
        if self.network_data is not None:
            self.executor.set_data(self.network_data.x_train, self.network_data.y_train)

    def forward(self) -> np.ndarray:
        self._use_training_set()
        return np.asarray(self.executor.forward())

    def backward(self) -> None:
        self.executor.backward()

    def objective(self) -> float:
        """The training loss as the history records it: the output summed over the training
        set, plus the weight penalty of training.l1 and l2."""
        return float(np.sum(self.forward())) + self.trainer.penalty()

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

    def prediction_node(self) -> str | None:
        """The node whose value is the model's prediction: what feeds the loss's `pred` port,
        or the output itself when it is not a loss."""
        out = self.graph.output
        if out is None:
            return None
        node = self.graph.nodes[out]
        if node.spec.category == "losses":
            return node.inputs.get("pred")
        return out

    def model_inputs(self, x: Any) -> np.ndarray:
        """Raw input rows (N × F, the data's own features) as the input node receives them,
        after `data.transforms`. The one place that maps raw features to model inputs, so
        every view (decision boundary, neuron maps) agrees with training."""
        try:
            rows = np.array(x, dtype=np.float64)
        except (TypeError, ValueError):
            raise GraphError("predict: X must be numbers, one row per example") from None
        if rows.ndim == 1:
            rows = rows[:, None]
        if rows.ndim != 2:
            raise GraphError(f"predict: X must be rows × features, got shape {rows.shape}")
        if self.dataset is not None and rows.shape[1] != self.dataset.n_features:
            raise GraphError(
                f"predict: X has {rows.shape[1]} feature(s) per row, "
                f"the data has {self.dataset.n_features}"
            )
        return apply_features(self.features, rows)

    def predict(
        self, x: np.ndarray, node_id: str | None = None, params: ParamTree | None = None
    ) -> np.ndarray:
        """The value of `node_id` (default: the prediction) for raw input rows `x` with the
        current parameters (targets zero). `params` (e.g. an earlier step's) replaces the
        current parameters for this call."""
        if node_id is None:
            node_id = self.prediction_node()
            if node_id is None:
                raise GraphError("predict: the graph has no output to predict with")
        return self.predict_many(x, (node_id,), params)[node_id]

    def predict_many(
        self, x: np.ndarray, node_ids: Sequence[str], params: ParamTree | None = None
    ) -> dict[str, np.ndarray]:
        """Several nodes' values from one pass over `x` (neuron maps of every layer at once).

        Runs on a private executor reading a copy of the parameter dict, so it neither
        overwrites the values of the last training pass nor draws parameters into the
        session (which would then be saved)."""
        for node_id in node_ids:
            self.graph.node(node_id)
        rows = self.model_inputs(x)
        live = self.executor
        ex = self._probe
        if ex is None:
            ex = self._probe = Executor(self.graph, seed=live.seed)
        ex.seed = live.seed
        ex.use_params(dict(live.params if params is None else params))
        ex.set_data(rows, np.zeros(len(rows)))
        wanted, found = set(node_ids), {}
        for step in ex.forward_nodes():
            if step.node_id in wanted:
                found[step.node_id] = np.array(step.value)
                if len(found) == len(wanted):
                    return found
        missing = next(n for n in node_ids if n not in found)
        raise GraphError(f"node '{missing}' cannot be computed")

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
