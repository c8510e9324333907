"""Training loop: batches from a dataset, forward, backward, optimizer update, history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from bpviz.engine.datasets import Dataset
from bpviz.engine.errors import GraphError
from bpviz.engine.executor import Executor
from bpviz.engine.optim import Optimizer, TrainingConfig
from bpviz.engine.regularize import penalty, with_penalty_grads

CLASSIFICATION_LOSSES = frozenset({"bce", "hinge", "cross_entropy"})


LOSS_MEANING = (
    "loss and accuracy: the whole training set, with the parameters after the step's update;"
    " batch_loss: the batch the step's gradients came from, before the update;"
    " test figures: the test set, after the update"
)


@dataclass
class History:
    """Per-step records, with the meaning in LOSS_MEANING: `loss[k]` is the loss of the model
    as step `step[k]` left it, on the whole training set, so the last entry is the figure the
    CLI prints and the loss node shows. Test figures exist only for steps where they were
    evaluated."""

    step: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    test_step: list[int] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    batch_loss: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.step)

    def record(self, r: StepResult) -> None:
        self.step.append(r.step)
        self.loss.append(r.loss)
        self.batch_loss.append(r.loss if r.batch_loss is None else r.batch_loss)
        if r.accuracy is not None:
            self.accuracy.append(r.accuracy)
        if r.test_loss is not None:
            self.test_step.append(r.step)
            self.test_loss.append(r.test_loss)
            if r.test_accuracy is not None:
                self.test_accuracy.append(r.test_accuracy)

    def to_dict(self) -> dict[str, list]:
        return {k: list(v) for k, v in self.__dict__.items()}


class StepResult(NamedTuple):
    """What one optimizer step measured (a tuple: cheap to make at every step); the meaning
    of each figure is LOSS_MEANING."""

    step: int
    loss: float
    accuracy: float | None
    test_loss: float | None
    test_accuracy: float | None
    batch_loss: float | None = None


def accuracy(loss_op: str, pred: np.ndarray, target: np.ndarray) -> float | None:
    """Share of examples classified right, read the way each classification loss reads them."""
    if loss_op not in CLASSIFICATION_LOSSES or pred.ndim == 0:
        return None
    if loss_op == "cross_entropy":
        hits = pred.argmax(axis=-1) == target
    else:
        t = target.reshape(pred.shape)
        hits = (pred > 0) == (t > 0.5 if loss_op == "bce" else t > 0)
    return float(np.count_nonzero(hits) / max(hits.size, 1))


class Trainer:
    """Runs optimizer steps on an executor's graph whose output is a loss."""

    def __init__(self, executor: Executor, dataset: Dataset | None, config: TrainingConfig) -> None:
        self.executor = executor
        self.dataset = dataset
        self.config = config
        self.optimizer = Optimizer(config)
        self.history = History()
        self._seed = config.seed
        self._drawn = 0  # minibatches drawn so far
        self._epoch: int | None = None  # the epoch whose order `_order` holds
        self._order: np.ndarray | None = None
        self._measured: tuple[int, float] | None = None  # (step, loss) of the last _measure

    def set_config(self, config: TrainingConfig) -> None:
        """New settings from the next step on; weights, step count and history stay."""
        self.config = config
        self.optimizer.configure(config)
        self._measured = None  # measured under the old penalty: the next step measures anew

    @property
    def step_count(self) -> int:
        return self.optimizer.t

    def _loss_node(self) -> tuple[str, str | None, str | None]:
        """(loss op, prediction node id, target node id) read from the output node."""
        graph = self.executor.graph
        if graph.output is None:
            raise GraphError("the graph has no output node to minimise")
        node = graph.nodes[graph.output]
        return node.op, node.inputs.get("pred"), node.inputs.get("target")

    def _full_batch(self) -> bool:
        ds, size = self.dataset, self.config.batch_size
        return ds is None or size is None or size >= len(ds.x_train)

    def epoch_order(self, epoch: int) -> np.ndarray:
        """The shuffled order of the training set in `epoch`: a pure function of the seed and
        the epoch number, so any batch position is reached without replaying earlier epochs."""
        assert self.dataset is not None
        rng = np.random.default_rng((self._seed, epoch))
        return rng.permutation(len(self.dataset.x_train))

    def next_batch(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Full batch, or the next seeded minibatch (reshuffled every epoch; an epoch is
        n // batch_size batches, the last few points of each shuffle wait for the next)."""
        ds = self.dataset
        if ds is None:
            return None
        if self._full_batch():
            return ds.x_train, ds.y_train
        size = self.config.batch_size
        assert size is not None
        epoch, k = divmod(self._drawn, len(ds.x_train) // size)
        if self._epoch != epoch or self._order is None:
            self._order, self._epoch = self.epoch_order(epoch), epoch
        idx = self._order[k * size : (k + 1) * size]
        self._drawn += 1
        return ds.x_train[idx], ds.y_train[idx]

    def skip_batches(self, steps: int) -> None:
        """Put the minibatch sampler where it is after `steps` steps (O(1) in `steps`), so
        training resumed from a saved scene draws exactly the batches an unbroken run would."""
        self._drawn = max(0, int(steps))

    def _scalar(self, value: np.ndarray) -> float:
        """The loss as a float; a non-scalar output cannot be minimised."""
        a = np.asarray(value)
        if a.ndim != 0:
            out = self.executor.graph.output
            raise GraphError(
                f"output '{out}' has shape {a.shape}: training needs a scalar loss"
                " (end the graph in a loss node, or sum or mean)"
            )
        return float(a)

    def step(self, continuing: bool = False) -> StepResult:
        """One optimizer step, measured after its update (LOSS_MEANING).

        `continuing` promises that nothing ran on the executor since the previous `step`:
        with the full training set as the batch, that step's measuring pass is then this
        step's forward pass, and is not run again."""
        ex = self.executor
        t = self.optimizer.t + 1
        measured = self._measured
        if continuing and self._full_batch() and measured is not None and measured[0] == t - 1:
            batch_loss = measured[1]
        else:
            batch = self.next_batch()
            if batch is not None:
                ex.set_data(*batch)
            batch_loss = self._scalar(ex.forward()) + self.penalty()
        ex.backward()
        self.optimizer.step(ex.params, self._update_grads())
        return self._record(self._measure(t, batch_loss))

    def penalty(self) -> float:
        """training.l1 and l2's penalty on the current weights (0 when both are off)."""
        c = self.config
        return penalty(self.executor.graph, self.executor.params, c.l1, c.l2)

    def _update_grads(self) -> dict[str, dict[str, np.ndarray]]:
        """The graph's parameter gradients plus the weight penalty's."""
        ex, c = self.executor, self.config
        return with_penalty_grads(ex.graph, ex.params, ex.param_grads, c.l1, c.l2)

    def apply_update(self, loss: float, acc: float | None = None) -> StepResult:
        """The optimizer step after forward and backward passes run elsewhere (the window's
        Forward, Backward and Update buttons) on the batch whose loss was `loss`; recorded
        and measured like `step`. The executor is left holding the new parameters' values.
        `loss` is the graph's output: the weight penalty is added here, as in `step`."""
        ex = self.executor
        loss += self.penalty()
        grads = self._update_grads()
        t = self.optimizer.t + 1
        self.optimizer.step(ex.params, grads)
        return self._record(self._measure(t, loss))

    def _measure(self, t: int, batch_loss: float) -> StepResult:
        """Test figures, then the training set last, so the executor ends on the training
        set's values with the new parameters: the loss node shows the recorded loss."""
        test = self._test_metrics(t)
        ds = self.dataset
        if ds is None:
            loss = self._scalar(self.executor.forward()) + self.penalty()
            acc = self.current_accuracy()
        else:
            loss, acc = self.evaluate(ds.x_train, ds.y_train)
        self._measured = (t, loss)
        return StepResult(t, loss, acc, *test, batch_loss)

    def _test_metrics(self, t: int) -> tuple[float | None, float | None]:
        ds = self.dataset
        if ds is not None and len(ds.x_test) and t % self.config.eval_every == 0:
            return self.evaluate(ds.x_test, ds.y_test)
        return None, None

    def current_accuracy(self) -> float | None:
        """Accuracy of the values from the last forward pass; None for regression."""
        op, pred, target = self._loss_node()
        if pred is None or target is None or op not in CLASSIFICATION_LOSSES:
            return None
        ex = self.executor
        return accuracy(op, ex.raw_value(pred), ex.raw_value(target))

    def _record(self, r: StepResult) -> StepResult:
        self.history.record(r)
        return r

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float | None]:
        """Loss (with the weight penalty, like the training loss it is plotted against) and
        accuracy of the current parameters on other data (e.g. the test set)."""
        ex = self.executor
        ex.set_data(x, y)
        return self._scalar(ex.forward()) + self.penalty(), self.current_accuracy()

    def train(self, steps: int, on_step: Callable[[StepResult], None] | None = None) -> History:
        for i in range(steps):
            result = self.step(continuing=i > 0)
            if on_step is not None:
                on_step(result)
        return self.history

    def reset(self, seed: int | None = None) -> None:
        """Re-initialise parameters and optimizer; clear the history. A new `seed` reseeds
        both the initial weights and the minibatch order."""
        self.executor.reset_params(seed)
        self.optimizer = Optimizer(self.config)
        self.history = History()
        self._seed = self.config.seed if seed is None else seed
        self._drawn, self._epoch, self._order, self._measured = 0, None, None, None
