"""The training history keeps one number per step in growable arrays: small for long runs,
read like lists, and thinned for display without losing spikes."""

from __future__ import annotations

import numpy as np
import pytest

from bpviz.engine.training import Column, History, StepColumn, StepResult, downsample


def test_columns_read_like_lists() -> None:
    c = Column()
    for v in (0.5, 0.25, 0.125):
        c.append(v)
    assert c == [0.5, 0.25, 0.125] and [0.5, 0.25, 0.125] == c  # noqa: SIM300 - both sides
    assert c[-1] == 0.125 and type(c[-1]) is float
    assert c[1:] == [0.25, 0.125] and list(c) == [0.5, 0.25, 0.125]
    assert np.asarray(c).tolist() == [0.5, 0.25, 0.125]
    with pytest.raises(ValueError):
        c.array()[0] = 9.0  # a read-only view


@pytest.mark.parametrize(
    "steps",
    [[1, 2, 3, 4], [11, 12, 13], [5, 10, 15, 20], [7], [1, 2, 4, 5, 9], [3, 3, 4], [2, 1]],
)
def test_step_numbers_come_back_exactly(steps: list[int]) -> None:
    c = StepColumn()
    for s in steps:
        c.append(s)
    assert c == steps and c[-1] == steps[-1] and len(c) == len(steps)
    assert np.asarray(c).tolist() == steps


def test_steps_cost_at_most_24_bytes_each() -> None:
    h = History()
    n = 200_000
    for t in range(1, n + 1):
        h.record(StepResult(t, 1.0 / t, 0.5, 2.0 if t % 1000 == 0 else None, None))
    assert len(h) == n and h.step[-1] == n and h.loss[-1] == 1.0 / n
    assert h.test_step[:2] == [1000, 2000] and len(h.test_loss) == n // 1000
    # three figures a step (loss, batch loss, accuracy), one part-filled chunk each at most
    assert h.nbytes <= 24 * n + 3 * 8 * Column.CHUNK and h.step.nbytes == 0
    d = h.to_dict()
    assert d["step"][:3] == [1, 2, 3] and d["test_accuracy"] == []


def test_downsample_keeps_the_extremes_of_every_run() -> None:
    x = np.arange(10_000, dtype=float)
    y = np.sin(x / 300.0)
    y[4321] = 50.0  # a spike
    y[777] = -50.0
    dx, dy = downsample(x, y, 400)
    assert len(dx) == 400
    assert dy.max() == 50.0 and dx[dy.argmax()] == 4321
    assert dy.min() == -50.0 and dx[dy.argmin()] == 777
    assert np.all(np.diff(dx) > 0)  # in order
    assert len(downsample(x[:300], y[:300], 400)[0]) == 300  # few enough: all kept


def test_history_downsampled_view() -> None:
    h = History()
    for t in range(1, 1001):
        h.record(StepResult(t, float(t % 7), None, float(t) if t % 10 == 0 else None, None))
    x, y = h.downsampled("loss", 100)
    assert len(x) == 100 and y.max() == 6.0 and y.min() == 0.0
    tx, ty = h.downsampled("test_loss", 1000)
    assert tx.tolist() == list(range(10, 1001, 10)) and ty.tolist() == tx.tolist()


@pytest.mark.parametrize("steps", [list(range(1, 20_001)), [3, 3, 4] + list(range(5, 20_000))])
def test_since_gives_the_tail_across_chunks(steps: list[int]) -> None:
    values, numbers = Column(), StepColumn()  # 20k numbers: three chunks of 8192
    for s in steps:
        values.append(s / 4)
        numbers.append(s)
    for start in (0, 1, 8191, 8192, 8193, 16_385, len(steps) - 1, len(steps), len(steps) + 5):
        assert values.since(start).tolist() == [s / 4 for s in steps[start:]], start
        assert numbers.since(start).tolist() == steps[start:], start
    assert Column().since(0).tolist() == [] and StepColumn().since(3).tolist() == []


def test_rows_read_back_exactly_whenever_the_columns_are_read() -> None:
    """Rows wait as tuples and go into the columns in batches: a read at any moment sees
    every recorded row, across chunk boundaries and irregular step numbers."""
    h = History()
    steps = [*range(1, 301), 305, 306, *range(400, 400 + 8200)]
    for k, t in enumerate(steps):
        acc = 0.5 if t % 3 else None
        h.record(StepResult(t, t / 8, acc, t / 2 if t % 7 == 0 else None, None, t / 16))
        if k in (2, 299, 1000):
            assert len(h) == k + 1 and h.loss[-1] == t / 8 and h.step[-1] == t
    assert h.step == steps
    assert h.loss == [t / 8 for t in steps]
    assert h.batch_loss == [t / 16 for t in steps]
    assert h.accuracy == [0.5 for t in steps if t % 3]
    assert h.test_step == [t for t in steps if t % 7 == 0]
    assert h.test_loss == [t / 2 for t in steps if t % 7 == 0]
    assert h.test_accuracy == []
