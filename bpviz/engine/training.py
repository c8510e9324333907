"""Training loop: batches from a dataset, forward, backward, optimizer update, history."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

from bpviz.engine.datasets import Dataset
from bpviz.engine.errors import GraphError
from bpviz.engine.executor import Executor
from bpviz.engine.optim import Optimizer, TrainingConfig

CLASSIFICATION_LOSSES = frozenset({"bce", "hinge", "cross_entropy"})


class Column:
    """One number per recorded step in a numpy buffer grown by half when full: 8 bytes a
    number (12 at worst, just after growing) instead of a Python float in a list (32), so a
    long Run stays small. Reads like a list (index, slice, iterate, compare with a list);
    `array()` is a view of the filled part for plotting."""

    __slots__ = ("_data", "_n")

    def __init__(self, dtype: type = np.float64) -> None:
        self._data = np.empty(16, dtype=dtype)
        self._n = 0

    def append(self, value: float) -> None:
        n = self._n
        if n == len(self._data):
            grown = np.empty(n + n // 2, dtype=self._data.dtype)
            grown[:n] = self._data
            self._data = grown
        self._data[n] = value
        self._n = n + 1

    def array(self) -> np.ndarray:
        view = self._data[: self._n]
        view.flags.writeable = False
        return view

    def tolist(self) -> list:
        return self._data[: self._n].tolist()

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, index: int | slice) -> Any:
        got = self._data[: self._n][index]
        return got.tolist() if isinstance(index, slice) else got.item()

    def __iter__(self) -> Iterator:
        return iter(self.tolist())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (Column, StepColumn, list, tuple)):
            return self.tolist() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.array(self._data[: self._n], dtype=dtype)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.tolist()!r})"


class StepColumn(Column):
    """Step numbers: while they go up by a fixed stride (every step, or every test
    evaluation) only the first and the stride are kept — no bytes per step at all."""

    __slots__ = ("_first", "_stride")

    def __init__(self) -> None:
        super().__init__(np.int64)
        self._data = np.empty(0, dtype=np.int64)
        self._first: int | None = None
        self._stride: int | None = None

    def append(self, value: float) -> None:
        step = int(value)
        n = self._n
        if self._first is not None and len(self._data) == 0:
            if self._stride is None and step != self._first:
                self._stride = step - self._first
            if self._stride is not None and step == self._first + n * self._stride:
                self._n = n + 1
                return
            self._data = np.empty(n + n // 2 + 1, dtype=np.int64)  # irregular: store them
            self._data[:n] = self._progression(n)
        elif self._first is None:
            self._first = step
            self._n = 1
            return
        super().append(step)

    def _progression(self, n: int) -> np.ndarray:
        return self._first + np.arange(n, dtype=np.int64) * (self._stride or 0)

    def array(self) -> np.ndarray:
        if len(self._data) == 0 and self._first is not None:
            view = self._progression(self._n)
            view.flags.writeable = False
            return view
        return super().array()

    def tolist(self) -> list:
        return self.array().tolist()

    def __getitem__(self, index: int | slice) -> Any:
        got = self.array()[index]
        return got.tolist() if isinstance(index, slice) else got.item()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.array(self.array(), dtype=dtype)


def downsample(x: np.ndarray, y: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """At most about `max_points` points that draw the same curve: the lowest and highest
    point of each of max_points / 2 runs of neighbours, in order, so spikes survive."""
    n = len(y)
    if n <= max_points or max_points < 4:
        return x, y
    k = -(-n // (max_points // 2))  # points per run
    m = n - n % k
    runs = y[:m].reshape(-1, k)
    base = np.arange(0, m, k)
    lo, hi = base + runs.argmin(axis=1), base + runs.argmax(axis=1)
    idx = np.stack([np.minimum(lo, hi), np.maximum(lo, hi)], axis=1).reshape(-1)
    if m < n:
        tail = y[m:]
        idx = np.concatenate([idx, np.sort(m + np.array([tail.argmin(), tail.argmax()]))])
    return x[idx], y[idx]


class History:
    """Per-step records. Test figures exist only for steps where they were evaluated.

    Columns are growable numpy buffers (see `Column`): about 8 bytes per step for the loss
    and 8 for the accuracy, the step numbers free while they run consecutively."""

    FIELDS = ("step", "loss", "accuracy", "test_step", "test_loss", "test_accuracy")

    def __init__(self) -> None:
        self.step = StepColumn()
        self.loss = Column()
        self.accuracy = Column()
        self.test_step = StepColumn()
        self.test_loss = Column()
        self.test_accuracy = Column()

    def __len__(self) -> int:
        return len(self.step)

    def record(self, r: StepResult) -> None:
        self.step.append(r.step)
        self.loss.append(r.loss)
        if r.accuracy is not None:
            self.accuracy.append(r.accuracy)
        if r.test_loss is not None:
            self.test_step.append(r.step)
            self.test_loss.append(r.test_loss)
            if r.test_accuracy is not None:
                self.test_accuracy.append(r.test_accuracy)

    def to_dict(self) -> dict[str, list]:
        return {k: getattr(self, k).tolist() for k in self.FIELDS}

    @property
    def nbytes(self) -> int:
        """Bytes held by the columns' buffers."""
        return sum(getattr(self, k).nbytes for k in self.FIELDS)

    def downsampled(self, name: str, max_points: int = 4000) -> tuple[np.ndarray, np.ndarray]:
        """(steps, values) of one column ("loss", "accuracy", "test_loss",
        "test_accuracy") thinned for display to about `max_points` (see `downsample`)."""
        y = getattr(self, name).array()
        x = (self.test_step if name.startswith("test_") else self.step).array()
        x = x[len(x) - len(y) :] if len(y) else x[:0]  # aligned to the end, as recorded
        return downsample(x, y, max_points)


class StepResult(NamedTuple):
    """What one optimizer step measured (a tuple: cheap to make at every step)."""

    step: int
    loss: float
    accuracy: float | None
    test_loss: float | None
    test_accuracy: float | None


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
        self._rng = np.random.default_rng(config.seed)
        self._order: np.ndarray | None = None
        self._cursor = 0

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

    def next_batch(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Full batch, or the next seeded minibatch (reshuffled every epoch)."""
        ds = self.dataset
        if ds is None:
            return None
        n = len(ds.x_train)
        size = self.config.batch_size
        if size is None or size >= n:
            return ds.x_train, ds.y_train
        if self._order is None or self._cursor + size > n:
            self._order = self._rng.permutation(n)
            self._cursor = 0
        idx = self._order[self._cursor : self._cursor + size]
        self._cursor += size
        return ds.x_train[idx], ds.y_train[idx]

    def skip_batches(self, steps: int) -> None:
        """Put the minibatch sampler where it is after `steps` steps, so training resumed
        from a saved scene draws exactly the batches an unbroken run would have drawn.

        The order is a pure function of the seed and the number of batches drawn, so it is
        rebuilt rather than saved: each epoch is one permutation, n // batch_size batches long.
        """
        ds, size = self.dataset, self.config.batch_size
        if ds is None or size is None or steps <= 0 or size >= len(ds.x_train):
            return
        n = len(ds.x_train)
        per_epoch = n // size
        epochs = -(-steps // per_epoch)
        for _ in range(epochs - 1):
            self._rng.permutation(n)
        self._order = self._rng.permutation(n)
        self._cursor = (steps - (epochs - 1) * per_epoch) * size

    def step(self) -> StepResult:
        """One optimizer step; its loss is measured before the update, as frameworks report."""
        ex = self.executor
        t = self.optimizer.t + 1
        test = self._test_metrics(t)
        batch = self.next_batch()
        if batch is not None:
            ex.set_data(*batch)
        loss = float(ex.forward())
        acc = self.current_accuracy()
        ex.backward(params_only=True)
        self.optimizer.step(ex.params, ex.param_grads)
        return self._record(StepResult(t, loss, acc, *test))

    def apply_update(self, loss: float, acc: float | None) -> StepResult:
        """The optimizer step after forward and backward passes run elsewhere (the window's
        Forward, Backward and Update buttons), recorded in the history like `step`."""
        ex = self.executor
        grads = ex.param_grads
        t = self.optimizer.t + 1
        test = self._test_metrics(t)  # a test-set forward pass; the gradients stay as they were
        self.optimizer.step(ex.params, grads)
        return self._record(StepResult(t, loss, acc, *test))

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
        """Loss and accuracy of the current parameters on other data (e.g. the test set)."""
        ex = self.executor
        ex.set_data(x, y)
        return float(ex.forward()), self.current_accuracy()

    def train(self, steps: int, on_step: Callable[[StepResult], None] | None = None) -> History:
        for _ in range(steps):
            result = self.step()
            if on_step is not None:
                on_step(result)
        return self.history

    def reset(self, seed: int | None = None) -> None:
        """Re-initialise parameters and optimizer; clear the history. A new `seed` reseeds
        both the initial weights and the minibatch order."""
        self.executor.reset_params(seed)
        self.optimizer = Optimizer(self.config)
        self.history = History()
        self._rng = np.random.default_rng(self.config.seed if seed is None else seed)
        self._order = None
        self._cursor = 0
