"""Training loop: batches from a dataset, forward, backward, optimizer update, history."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

from bpviz.engine.datasets import Dataset
from bpviz.engine.errors import GraphError
from bpviz.engine.executor import Executor, Plan
from bpviz.engine.optim import Optimizer, TrainingConfig
from bpviz.engine.regularize import penalty, with_penalty_grads

CLASSIFICATION_LOSSES = frozenset({"bce", "hinge", "cross_entropy"})

try:  # np.count_nonzero of a whole array is this, behind two Python-level calls
    from numpy._core.multiarray import count_nonzero as _count_nonzero
except ImportError:  # another numpy
    _count_nonzero = np.count_nonzero


LOSS_MEANING = (
    "loss and accuracy: the whole training set, with the parameters after the step's update;"
    " batch_loss: the batch the step's gradients came from, before the update;"
    " test figures: the test set, after the update"
)


class Column:
    """One number per recorded step, in numpy chunks of CHUNK numbers: 8 bytes a number (plus
    one part-filled chunk) instead of a Python float in a list (32), and no copying as it
    grows, so a long Run stays small. Reads like a list (index, slice, iterate, compare with
    a list); `array()` gives the numbers as one read-only array for plotting."""

    __slots__ = ("_chunks", "_dtype", "_n", "_last", "_fill")
    CHUNK = 8192

    def __init__(self, dtype: type = np.float64) -> None:
        self._chunks: list[np.ndarray] = []
        self._dtype = dtype
        self._n = 0
        self._last = np.empty(0, dtype=dtype)  # the chunk being filled
        self._fill = 0  # how much of it

    def append(self, value: float) -> None:
        i = self._fill
        if i == len(self._last):
            self._last = np.empty(self.CHUNK, dtype=self._dtype)
            self._chunks.append(self._last)
            i = 0
        self._last[i] = value
        self._fill = i + 1
        self._n += 1

    def extend(self, values: list[float]) -> None:
        """`append` each of `values`, a slice of a chunk at a time."""
        k, total = 0, len(values)
        while k < total:
            i = self._fill
            if i == len(self._last):
                self._last = np.empty(self.CHUNK, dtype=self._dtype)
                self._chunks.append(self._last)
                i = 0
            m = min(total - k, self.CHUNK - i)
            self._last[i : i + m] = values[k : k + m]
            self._fill = i + m
            self._n += m
            k += m

    def array(self) -> np.ndarray:
        if len(self._chunks) == 1:
            a = self._chunks[0][: self._n]
        else:
            a = np.concatenate(self._chunks)[: self._n] if self._chunks else np.empty(0)
        a.flags.writeable = False
        return a

    def tolist(self) -> list:
        return self.array().tolist()

    def since(self, start: int) -> np.ndarray:
        """The numbers from index `start` on, copying only the chunks that hold them: how a
        live view takes the steps recorded since it last looked."""
        start = min(max(0, start), self._n)
        k = start // self.CHUNK
        tail = self._chunks[k:]
        a = np.concatenate(tail) if len(tail) > 1 else (tail[0] if tail else np.empty(0))
        return np.array(a[start - k * self.CHUNK : self._n - k * self.CHUNK])

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes for c in self._chunks)

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return self.array()[index].tolist()
        if not -self._n <= index < self._n:
            raise IndexError("history index out of range")
        k, i = divmod(index % self._n, self.CHUNK)
        return self._chunks[k][i].item()

    def __iter__(self) -> Iterator:
        return iter(self.tolist())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (Column, list, tuple)):
            return self.tolist() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.array(self.array(), dtype=dtype)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.tolist()!r})"


class StepColumn(Column):
    """Step numbers: while they go up by a fixed stride (every step, or every test
    evaluation) only the first and the stride are kept — no bytes per step at all."""

    __slots__ = ("_first", "_stride", "_stored")

    def __init__(self) -> None:
        super().__init__(np.int64)
        self._first: int | None = None
        self._stride: int | None = None
        self._stored = False  # irregular steps: kept in chunks like any column

    def append(self, value: float) -> None:
        step = int(value)
        n = self._n
        if not self._stored:
            if self._first is None:
                self._first, self._n = step, 1
                return
            if self._stride is None and n == 1 and step != self._first:
                self._stride = step - self._first
            if self._stride is not None and step == self._first + n * self._stride:
                self._n = n + 1
                return
            regular, self._n, self._stored = self._progression(n), 0, True
            for v in regular:
                super().append(int(v))
        super().append(step)

    def extend(self, values: list[int]) -> None:
        """`append` each of `values`; a run that goes on by the stride costs one comparison."""
        n, first, stride = self._n, self._first, self._stride
        if not self._stored and first is not None and stride is not None:
            start = first + n * stride
            if values == list(range(start, start + len(values) * stride, stride)):
                self._n = n + len(values)
                return
        for v in values:
            self.append(v)

    def _progression(self, n: int) -> np.ndarray:
        return (self._first or 0) + np.arange(n, dtype=np.int64) * (self._stride or 0)

    def since(self, start: int) -> np.ndarray:
        if self._stored:
            return super().since(start)
        start = min(max(0, start), self._n)
        return (self._first or 0) + np.arange(start, self._n, dtype=np.int64) * (self._stride or 0)

    def array(self) -> np.ndarray:
        if self._stored:
            return super().array()
        a = self._progression(self._n)
        a.flags.writeable = False
        return a

    def __getitem__(self, index: int | slice) -> Any:
        if self._stored:
            return super().__getitem__(index)
        got = self.array()[index]
        return got.tolist() if isinstance(index, slice) else got.item()


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


class _Column:
    """A History column, read after the rows still pending are written into the columns."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.attr = "_" + name

    def __get__(self, history: History | None, owner: type | None = None) -> Any:
        if history is None:
            return self
        if history._rows:
            history._write_rows()
        return getattr(history, self.attr)


class History:
    """Per-step records, with the meaning in LOSS_MEANING: `loss[k]` is the loss of the model
    as step `step[k]` left it, on the whole training set, so the last entry is the figure the
    CLI prints and the loss node shows. Test figures exist only for steps where they were
    evaluated.

    Columns are growable numpy buffers (see `Column`): 8 bytes per step for each figure,
    the step numbers free while they run consecutively. A step's row waits as its tuple
    until a column is read or PENDING rows wait, then they go into the columns together (a
    step costs a list append; the columns fill a slice at a time)."""

    PENDING = 256

    step = _Column()
    loss = _Column()
    accuracy = _Column()
    test_step = _Column()
    test_loss = _Column()
    test_accuracy = _Column()
    batch_loss = _Column()

    FIELDS = (
        "step",
        "loss",
        "accuracy",
        "test_step",
        "test_loss",
        "test_accuracy",
        "batch_loss",
    )

    def __init__(self) -> None:
        self._step = StepColumn()
        self._loss = Column()
        self._accuracy = Column()
        self._test_step = StepColumn()
        self._test_loss = Column()
        self._test_accuracy = Column()
        self._batch_loss = Column()
        self._rows: list[StepResult] = []  # recorded, not yet in the columns

    def __len__(self) -> int:
        return len(self.step)

    def record(self, r: StepResult) -> None:
        rows = self._rows
        rows.append(r)
        if len(rows) >= self.PENDING:
            self._write_rows()

    def _write_rows(self) -> None:
        """The pending rows into the columns, each column's numbers in one go."""
        rows, self._rows = self._rows, []
        self._step.extend([r[0] for r in rows])
        self._loss.extend([r[1] for r in rows])
        self._batch_loss.extend([r[1] if r[5] is None else r[5] for r in rows])
        self._accuracy.extend([r[2] for r in rows if r[2] is not None])
        tested = [r for r in rows if r[3] is not None]
        if tested:
            self._test_step.extend([r[0] for r in tested])
            self._test_loss.extend([r[3] for r in tested])
            self._test_accuracy.extend([r[4] for r in tested if r[4] is not None])

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
    """What one optimizer step measured (a tuple: cheap to make at every step); the meaning
    of each figure is LOSS_MEANING."""

    step: int
    loss: float
    accuracy: float | None
    test_loss: float | None
    test_accuracy: float | None
    batch_loss: float | None = None


_new = tuple.__new__


def accuracy(loss_op: str, pred: np.ndarray, target: np.ndarray) -> float | None:
    """Share of examples classified right, read the way each classification loss reads them."""
    if loss_op not in CLASSIFICATION_LOSSES or pred.ndim == 0:
        return None
    if loss_op == "cross_entropy":
        hits = pred.argmax(axis=-1) == target
    else:
        hits = (pred > 0) == _truth(loss_op, pred, target)
    return float(np.count_nonzero(hits) / max(hits.size, 1))


def _truth(loss_op: str, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Which examples are positive, in the prediction's shape (bce: 0/1 targets, hinge: ±1)."""
    t = target.reshape(pred.shape)
    return t > 0.5 if loss_op == "bce" else t > 0


def _numpy(v: Any) -> Any:
    return np.float64(v) if isinstance(v, float) else v  # a value of the float route


class AccuracyReader:
    """`accuracy` of one plan's loss node, read every training step: where the prediction
    and the target sit is looked up once per plan, and the target's side of the comparison
    once per target array (it changes only with the data), so a step pays two comparisons
    and a count. Same figures as `accuracy`."""

    __slots__ = ("plan", "op", "pred", "target", "_target", "_truth")

    def __init__(self, plan: Plan, op: str | None, pred: int | None, target: int | None) -> None:
        self.plan = plan
        # None: nothing to read (no classification loss, or its inputs are not computed)
        known = pred is not None and target is not None
        self.op = op if op in CLASSIFICATION_LOSSES and known else None
        self.pred, self.target = pred or 0, target or 0
        self._target: Any = None  # the target array `_truth` was made from
        self._truth = np.empty(0, dtype=bool)

    def read(self, values: list[Any]) -> float | None:
        op = self.op
        if op is None:
            return None
        p, t = values[self.pred], values[self.target]
        if type(p) is not np.ndarray or type(t) is not np.ndarray or op == "cross_entropy":
            return accuracy(op, _numpy(p), _numpy(t))
        if p.ndim == 0:
            return None
        truth = self._truth
        if t is not self._target or truth.shape != p.shape:
            self._truth = truth = _truth(op, p, t)
            self._target = t
        hits = np.greater(p, 0.0) == truth
        return float(_count_nonzero(hits) / max(hits.size, 1))


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
        self._accuracy: AccuracyReader | None = None  # made for the executor's current plan

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
        if continuing and measured is not None and measured[0] == t - 1 and self._full_batch():
            batch_loss = measured[1]
        else:
            batch = self.next_batch()
            if batch is not None:
                ex.set_data(*batch)
            batch_loss = self._loss(ex.forward())
        ex.backward(params_only=True)
        self.optimizer.step(ex.params, self._update_grads())
        return self._record(self._measure(t, batch_loss))

    def _loss(self, output: np.ndarray) -> float:
        """The graph's output as a float plus the weight penalty: the loss LOSS_MEANING
        speaks of."""
        if type(output) is np.ndarray and output.ndim == 0:  # the usual loss: no call
            loss = float(output)
        else:
            loss = self._scalar(output)
        return loss + self.penalty()

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
        ds = self.dataset
        test = self._test_metrics(t)
        ex = self.executor
        if ds is not None:
            ex.set_data(ds.x_train, ds.y_train)
        loss = self._loss(ex.forward())
        acc = self.current_accuracy()
        self._measured = (t, loss)
        # tuple.__new__ is what StepResult(...) calls, behind a Python-level constructor
        return _new(StepResult, (t, loss, acc, test[0], test[1], batch_loss))

    def _test_metrics(self, t: int) -> tuple[float | None, float | None]:
        ds = self.dataset
        if ds is not None and len(ds.x_test) and t % self.config.eval_every == 0:
            return self.evaluate(ds.x_test, ds.y_test)
        return None, None

    def current_accuracy(self) -> float | None:
        """Accuracy of the values from the last forward pass; None for regression."""
        ex = self.executor
        plan = ex.plan
        reader = self._accuracy
        if reader is None or reader.plan is not plan:
            op, pred, target = self._loss_node()
            index = plan.index
            at = (index.get(pred), index.get(target)) if pred and target else (None, None)
            reader = self._accuracy = AccuracyReader(plan, op, *at)
        return reader.read(ex.held)

    def _record(self, r: StepResult) -> StepResult:
        self.history.record(r)
        return r

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float | None]:
        """Loss (with the weight penalty, like the training loss it is plotted against) and
        accuracy of the current parameters on other data (e.g. the test set)."""
        ex = self.executor
        ex.set_data(x, y)
        return self._loss(ex.forward()), self.current_accuracy()

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
