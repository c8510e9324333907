"""A training history as CSV, written atomically: one row per optimizer step.

Columns (meanings as in `engine.training.LOSS_MEANING`): step; loss and accuracy on the whole
training set after the step's update; test_loss and test_accuracy after the update, on steps
where the test set was evaluated; batch_loss, the loss of the batch the step's gradients came
from, before the update. Empty cells mean "not measured" (no test set, or regression).
"""

from __future__ import annotations

import csv
from typing import Any

from bpviz.engine.files import PathArg, atomic_writer
from bpviz.engine.training import History

COLUMNS = ("step", "loss", "accuracy", "test_loss", "test_accuracy", "batch_loss")


def _cell(value: Any) -> Any:
    return "" if value is None else value


def write_history_csv(history: History, path: PathArg) -> None:
    """Write `history` to `path`; FileProblem (naming the file) if it cannot be written."""
    h = history.to_dict()
    tests = h["test_accuracy"] or [None] * len(h["test_step"])
    test = dict(zip(h["test_step"], zip(h["test_loss"], tests, strict=True), strict=True))
    accs = h["accuracy"] or [None] * len(h["step"])
    with atomic_writer(path, binary=False) as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(COLUMNS)
        for step, loss, acc, batch in zip(h["step"], h["loss"], accs, h["batch_loss"], strict=True):
            tl, ta = test.get(step, (None, None))
            w.writerow([step, loss, _cell(acc), _cell(tl), _cell(ta), batch])
