"""Predict, then reveal: a lesson page's question about a number on the graph.

The learner answers before the pass that computes the number runs; the true answer is taken
from the engine's numbers after that pass (never from the lesson file, so a lesson cannot
lie). Answers are appended to a local CSV so a learner can see their progress over time.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from bpviz.engine.errors import BpvizError
from bpviz.engine.files import FileProblem, read_regular, write_atomic

QUANTITIES = ("value", "grad")
ASKS = ("sign", "compare", "estimate")
RUNS = ("forward", "backward", "step")
SIGNS = ("negative", "zero", "positive")
COMPARES = ("node", "other", "equal")
ZERO = 1e-9  # |x| at or below this counts as zero: exact zeros, not tiny gradients
MAX_TIMES = 10_000
KEYS = {
    "node": "the node whose number is asked about",
    "quantity": "value or grad",
    "ask": "sign, compare or estimate",
    "other": "the second node",
    "range": "[low, high] of the slider",
    "tolerance": "how far from the truth still counts as right",
    "run": "the control that runs after the answer: forward, backward or step",
    "times": "how many times run is pressed (step only)",
    "question": "the question as shown (optional; generated otherwise)",
    "param": "a parameter of the node (e.g. W or b of a dense layer) instead of its output",
    "index": "[i, j, ...]: one element of the node's (or parameter's) array, counted from 0",
}
CSV_COLUMNS = ("time", "lesson", "page", "node", "quantity", "ask", "answer", "truth", "right")
MAX_LOG_BYTES = 8_000_000


class ProbeError(BpvizError):
    """A probe that cannot be used; the message names the key (the lesson adds the place)."""


@dataclass(frozen=True)
class Probe:
    node: str
    quantity: str
    ask: str
    run: str
    times: int = 1
    other: str | None = None
    low: float = 0.0
    high: float = 1.0
    tolerance: float = 0.0
    question: str = ""
    param: str | None = None  # read this parameter of `node`, not its output
    index: tuple[int, ...] | None = None  # one element of `node`'s array

    def label(self, node: str) -> str:
        """How a number is named to the learner: `∇w`, `hidden.W[0, 1]`."""
        name = node
        if node == self.node:
            name += f".{self.param}" if self.param else ""
            name += f"[{', '.join(map(str, self.index))}]" if self.index is not None else ""
        return f"∇{name}" if self.quantity == "grad" else name

    def run_phrase(self) -> str:
        name = self.run.title()
        return f"{self.times} presses of {name}" if self.times > 1 else name

    def text(self) -> str:
        """The question as the learner reads it."""
        if self.question:
            return self.question
        what = self.label(self.node)
        if self.ask == "sign":
            return f"After {self.run_phrase()}, will {what} be negative, zero or positive?"
        if self.ask == "compare":
            other = self.label(str(self.other))
            return f"After {self.run_phrase()}, which is larger in size: {what} or {other}?"
        return f"After {self.run_phrase()}, roughly what will {what} be?"

    def choices(self) -> list[tuple[str, str]]:
        """(answer, button text) for the buttons of sign and compare."""
        if self.ask == "sign":
            return [(s, s.title()) for s in SIGNS]
        if self.ask == "compare":
            a, b = self.label(self.node), self.label(str(self.other))
            return [("node", f"|{a}| larger"), ("equal", "Equal"), ("other", f"|{b}| larger")]
        return []

    def nodes(self) -> list[str]:
        return [self.node] + ([self.other] if self.other else [])

    def truth(self, numbers: list[float]) -> str | float:
        """The right answer, from the numbers of `nodes()` read after the pass."""
        a = numbers[0]
        if self.ask == "sign":
            return "zero" if abs(a) <= ZERO else ("positive" if a > 0 else "negative")
        if self.ask == "compare":
            x, y = abs(a), abs(numbers[1])
            if abs(x - y) <= ZERO * max(1.0, x, y):
                return "equal"
            return "node" if x > y else "other"
        return a

    def is_right(self, answer: str | float, truth: str | float) -> bool:
        if self.ask == "estimate":
            return abs(float(answer) - float(truth)) <= self.tolerance
        return answer == truth

    def describe(self, answer: str | float) -> str:
        """An answer (or a truth) in words, as the panel and the CSV show it."""
        if self.ask == "estimate":
            return f"{float(answer):.4g}"
        if self.ask == "compare":
            names = {"node": self.label(self.node), "other": self.label(str(self.other))}
            return "equal" if answer == "equal" else f"|{names[str(answer)]}| larger"
        return str(answer)


def parse_probe(raw: Any, node_ids: set[str]) -> Probe:
    """A probe from its JSON; ProbeError names the key, e.g. `other: no node 'w9'`."""
    if not isinstance(raw, dict):
        raise ProbeError("expected an object with node, quantity and ask")
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise ProbeError(f"{unknown[0]}: unknown key (keys: {', '.join(KEYS)})")
    for key in ("node", "quantity", "ask"):
        if key not in raw:
            raise ProbeError(f"{key}: required ({KEYS[key]})")
    node = _node(raw, "node", node_ids)
    quantity = _one_of(raw, "quantity", QUANTITIES)
    ask = _one_of(raw, "ask", ASKS)
    run = _one_of(raw, "run", RUNS) if "run" in raw else _default_run(quantity)
    if quantity == "grad" and run == "forward":
        raise ProbeError("run: forward computes no gradients; use backward or step")
    times = raw.get("times", 1)
    if "times" in raw:
        if run != "step":
            raise ProbeError("times: only with run 'step'")
        if not isinstance(times, int) or isinstance(times, bool) or not 1 <= times <= MAX_TIMES:
            raise ProbeError(f"times: expected an integer from 1 to {MAX_TIMES}, got {times!r}")
    for key, needs in (("other", "compare"), ("range", "estimate"), ("tolerance", "estimate")):
        if key in raw and ask != needs:
            raise ProbeError(f"{key}: only with ask '{needs}'")
        if key not in raw and ask == needs:
            raise ProbeError(f"{key}: required with ask '{needs}' ({KEYS[key]})")
    other = _node(raw, "other", node_ids) if ask == "compare" else None
    if other == node:
        raise ProbeError(f"other: must differ from node '{node}'")
    low, high, tolerance = 0.0, 1.0, 0.0
    if ask == "estimate":
        span = raw["range"]
        if not (isinstance(span, list) and len(span) == 2 and all(map(_is_number, span))):
            raise ProbeError(f"range: expected [low, high], two numbers, got {span!r}")
        low, high = float(span[0]), float(span[1])
        if not low < high:
            raise ProbeError(f"range: low must be below high, got [{low:g}, {high:g}]")
        tolerance = raw["tolerance"]
        if not _is_number(tolerance) or not 0 < tolerance <= high - low:
            raise ProbeError(
                f"tolerance: expected a number above 0 and at most {high - low:g} "
                f"(the width of range), got {tolerance!r}"
            )
    question = raw.get("question", "")
    if not isinstance(question, str):
        raise ProbeError("question: expected text")
    param = raw.get("param")
    if param is not None and (not isinstance(param, str) or not param):
        raise ProbeError(f"param: expected a parameter name such as 'W', got {param!r}")
    index = raw.get("index")
    if index is not None:
        if not (isinstance(index, list) and index and all(_is_count(i) for i in index)):
            raise ProbeError(f"index: expected [i, j, ...], whole numbers from 0, got {index!r}")
        index = tuple(index)
    return Probe(
        node, quantity, ask, run, times, other, low, high, float(tolerance), question,
        param, index,
    )  # fmt: skip


def check_shape(probe: Probe, shape: tuple[int, ...] | None) -> None:
    """ProbeError unless `probe` reads exactly one number from an array of `shape` (None:
    the node or parameter has no array), e.g. `index: [2, 0] is outside the shape (2, 1)`."""
    if shape is None and probe.param:
        raise ProbeError(f"param: node '{probe.node}' has no parameter {probe.param!r}")
    if shape is None:
        raise ProbeError(f"node: '{probe.node}' has no number after a forward pass")
    size = math.prod(shape)
    if probe.index is None:
        if size != 1:
            raise ProbeError(
                f"index: required: {probe.label(probe.node)} holds {size} numbers, "
                f"shape {shape}; pick one with [i, j, ...]"
            )
        return
    if len(probe.index) != len(shape) or any(
        i >= n for i, n in zip(probe.index, shape, strict=True)
    ):
        raise ProbeError(
            f"index: {list(probe.index)} is outside the shape {shape} of "
            f"{probe.label(probe.node).split('[')[0]}"
        )


def _is_count(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def _default_run(quantity: str) -> str:
    return "backward" if quantity == "grad" else "forward"


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _node(raw: dict[str, Any], key: str, node_ids: set[str]) -> str:
    node = raw[key]
    if not isinstance(node, str) or node not in node_ids:
        raise ProbeError(f"{key}: no node {node!r} in the lesson's scene")
    return node


def _one_of(raw: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    if raw[key] not in allowed:
        raise ProbeError(f"{key}: expected one of {', '.join(allowed)}, got {raw[key]!r}")
    return str(raw[key])


def one_number(probe: Probe, node: str, number: Any) -> float:
    """The single finite number a probe reads from a node (the element at `index` for the
    probe's own node); ProbeError says why there is none."""
    what = probe.label(node)
    if number is None:
        raise ProbeError(f"{what} has no number after {probe.run_phrase()}")
    array = np.asarray(number, dtype=float)
    if node == probe.node and probe.index is not None:
        if array.ndim != len(probe.index) or any(
            i >= n for i, n in zip(probe.index, array.shape, strict=True)
        ):
            raise ProbeError(f"{what} is outside the shape {array.shape} it has now")
        array = array[probe.index]
    values = array.reshape(-1)
    if len(values) != 1:
        raise ProbeError(f"{what} holds {len(values)} numbers; a probe needs a node with one")
    x = float(values[0])
    if not math.isfinite(x):
        raise ProbeError(f"{what} is {x}: the numbers overflowed")
    return x


@dataclass(frozen=True)
class ProbeAnswer:
    """One answer as kept in the CSV."""

    lesson: str
    page: int  # counting from 1, as the panel shows it
    probe: Probe
    answer: str | float
    truth: str | float
    right: bool

    def row(self, when: datetime | None = None) -> list[str]:
        when = when or datetime.now()
        p = self.probe
        return [
            when.isoformat(timespec="seconds"),
            self.lesson,
            str(self.page),
            p.label(p.node).removeprefix("∇") + (f"/{p.other}" if p.other else ""),
            p.quantity,
            p.ask,
            _cell(self.answer),
            _cell(self.truth),
            "yes" if self.right else "no",
        ]


def _cell(x: str | float) -> str:
    return repr(float(x)) if isinstance(x, float) else str(x)


class AnswerLog:
    """The learner's answers, one CSV row each, kept across sessions in their data folder.
    Each append rewrites the file atomically, so a crash never leaves half a row."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def rows(self) -> list[dict[str, str]]:
        """The rows so far (none before the first answer); FileProblem if the file is there
        but unreadable, so an append never overwrites answers it could not read."""
        if not self.path.exists():
            return []
        try:
            text = read_regular(self.path, MAX_LOG_BYTES).decode("utf-8")
        except UnicodeDecodeError:
            raise FileProblem(self.path, "read", "it is not UTF-8 text") from None
        return list(csv.DictReader(io.StringIO(text)))

    def append(self, answer: ProbeAnswer, when: datetime | None = None) -> None:
        """Add a row; FileProblem names the file when it cannot be written."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for row in self.rows():
            writer.writerow([row.get(c, "") for c in CSV_COLUMNS])
        writer.writerow(answer.row(when))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, out.getvalue())


def score_lines(probe_pages: list[tuple[int, Probe]], answers: dict[int, ProbeAnswer]) -> list[str]:
    """The end-of-lesson summary: 'n of m right', then one line per probe."""
    right = sum(1 for i, _ in probe_pages if i in answers and answers[i].right)
    lines = [f"{right} of {len(probe_pages)} right"]
    for i, probe in probe_pages:
        a = answers.get(i)
        if a is None:
            verdict = "not answered"
        else:
            said, was = probe.describe(a.answer), probe.describe(a.truth)
            verdict = f"{'right' if a.right else 'wrong'}: you said {said}, it was {was}"
        lines.append(f"Page {i + 1} ({probe.label(probe.node)}): {verdict}")
    return lines
