"""Lessons: a scene plus a short sequence of pages, stored as data files (no code per lesson).

A page may point at a node, a wire or a control, and may wait for the learner to do something
("press Backward", "change w") before the lesson moves on; Back and Next always work.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bpviz.engine.errors import BpvizError
from bpviz.engine.optim import TrainingConfig
from bpviz.model.probes import Probe, ProbeAnswer, ProbeError, parse_probe, score_lines

LESSON_FORMAT = "bpviz-lesson"
CONTROLS = ("forward", "backward", "update", "step", "next_node", "run", "reset", "check")
WAIT_KINDS = {
    "action": "a control: " + ", ".join(CONTROLS),
    "phase": "a training phase, e.g. backward_done",
    "attr": "[node, attribute] changed",
    "steps": "at least this many optimizer steps in the history",
    "setting": '["training" or "data", key] changed, e.g. in the Training panel',
}
SETTING_SECTIONS = ("training", "data")


class LessonError(BpvizError):
    """A lesson file that cannot be used; names the file and the place."""


@dataclass(frozen=True)
class Page:
    title: str
    text: str
    highlight: dict[str, Any] = field(default_factory=dict)  # {"node": id} | {"control": name}
    wait_for: dict[str, Any] = field(default_factory=dict)  # one key of WAIT_KINDS
    probe: Probe | None = None  # a question answered before its pass runs
    why: str = ""  # the reason behind the probe's answer, shown with it
    training: dict[str, Any] = field(default_factory=dict)  # settings applied on arrival

    def instruction(self) -> str | None:
        """What the learner is asked to do, as a short phrase for the panel."""
        if self.probe is not None:
            return "answer the question; then the pass runs and shows the answer"
        w = self.wait_for
        if "action" in w:
            return f"press {w['action'].replace('_', ' ').title()}"
        if "attr" in w:
            node, name = w["attr"]
            return f"change {name} of {node} in the inspector"
        if "steps" in w:
            return f"train until step {w['steps']}"
        if "setting" in w:
            section, key = w["setting"]
            return f"change {key} in the {section.title()} panel"
        if "phase" in w:
            return "finish the " + w["phase"].split("_")[0] + " pass"
        return None


@dataclass(frozen=True)
class Lesson:
    path: Path
    title: str
    summary: str
    scene: Path
    pages: tuple[Page, ...]


def load_lesson(path: str | Path) -> Lesson:
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise LessonError(f"{path.name}: cannot read lesson ({e})") from None
    if not isinstance(raw, dict) or raw.get("format") != LESSON_FORMAT:
        raise LessonError(f"{path.name}: not a bpviz lesson (format must be '{LESSON_FORMAT}')")
    scene = (path.parent / str(raw.get("scene", ""))).resolve()
    if not scene.is_file():
        raise LessonError(f"{path.name}: scene: no file '{raw.get('scene')}'")
    pages = raw.get("pages")
    if not isinstance(pages, list) or not pages:
        raise LessonError(f"{path.name}: pages: expected a non-empty list")
    ids = _node_ids(path.name, scene)
    return Lesson(
        path,
        str(raw.get("title", path.stem)),
        str(raw.get("summary", "")),
        scene,
        tuple(_page(path.name, i, p, ids) for i, p in enumerate(pages)),
    )


def _node_ids(name: str, scene: Path) -> set[str]:
    """The scene's node ids, for checking what pages and probes point at."""
    try:
        nodes = json.loads(scene.read_text(encoding="utf-8")).get("nodes", [])
        return {str(n["id"]) for n in nodes}
    except (OSError, ValueError, AttributeError, TypeError, KeyError) as e:
        raise LessonError(f"{name}: scene: cannot read its nodes ({e})") from None


def _page(name: str, i: int, raw: Any, ids: set[str]) -> Page:
    where = f"{name}: pages[{i}]"
    if not isinstance(raw, dict) or not isinstance(raw.get("text"), str):
        raise LessonError(f"{where}: a page needs a 'text'")
    wait = raw.get("wait_for") or {}
    if wait and (len(wait) != 1 or next(iter(wait)) not in WAIT_KINDS):
        raise LessonError(f"{where}.wait_for: one of {', '.join(WAIT_KINDS)}")
    if "action" in wait and wait["action"] not in CONTROLS:
        raise LessonError(f"{where}.wait_for.action: one of {', '.join(CONTROLS)}")
    setting = wait.get("setting", ["training", "lr"])
    if not (
        isinstance(setting, list) and len(setting) == 2 and setting[0] in SETTING_SECTIONS
        and isinstance(setting[1], str) and setting[1]
    ):  # fmt: skip
        raise LessonError(f"{where}.wait_for.setting: [\"training\" or \"data\", a key]")
    highlight = raw.get("highlight") or {}
    if "control" in highlight and highlight["control"] not in CONTROLS:
        raise LessonError(f"{where}.highlight.control: one of {', '.join(CONTROLS)}")
    if "node" in highlight and highlight["node"] not in ids:
        raise LessonError(f"{where}.highlight.node: no node {highlight['node']!r} in the scene")
    probe = None
    if "probe" in raw:
        if wait:
            raise LessonError(f"{where}: a page has a probe or a wait_for, not both")
        try:
            probe = parse_probe(raw["probe"], ids)
        except ProbeError as e:
            raise LessonError(f"{where}.probe.{e}") from None
    why = raw.get("why", "")
    if not isinstance(why, str) or (why and probe is None):
        raise LessonError(f"{where}.why: one sentence of text, on a page with a probe")
    training = raw.get("training") or {}
    if not isinstance(training, dict):
        raise LessonError(f"{where}.training: expected an object of training settings")
    try:
        TrainingConfig.from_dict(training)
    except BpvizError as e:
        raise LessonError(f"{where}.{e}") from None
    return Page(
        str(raw.get("title", "")), raw["text"], dict(highlight), dict(wait), probe, why, training
    )


class LessonProgress:
    """Where a learner is in a lesson; `notify` events, and the page moves on when its
    request is met."""

    def __init__(self, lesson: Lesson) -> None:
        self.lesson = lesson
        self.index = 0
        self.done = False  # the current page's request has been met
        self.answers: dict[int, ProbeAnswer] = {}  # page index -> the first answer given

    def answer(self, answer: str | float, numbers: list[float]) -> ProbeAnswer:
        """Check the learner's answer to this page's probe against `numbers`, read from the
        engine after the pass; the first answer on a page is the one that counts."""
        probe = self.page.probe
        assert probe is not None
        truth = probe.truth(numbers)
        record = ProbeAnswer(
            self.lesson.path.name, self.index + 1, probe, answer, truth,
            probe.is_right(answer, truth),
        )  # fmt: skip
        self.answers.setdefault(self.index, record)
        self.done = True
        return record

    def summary(self) -> list[str]:
        """'n of m right' and a line per probe, for the end of the lesson."""
        probes = [(i, p.probe) for i, p in enumerate(self.lesson.pages) if p.probe is not None]
        return score_lines(probes, self.answers)

    @property
    def page(self) -> Page:
        return self.lesson.pages[self.index]

    @property
    def waiting(self) -> bool:
        return (bool(self.page.wait_for) or self.page.probe is not None) and not self.done

    def go(self, index: int) -> None:
        self.index = max(0, min(index, len(self.lesson.pages) - 1))
        self.done = self.index in self.answers  # an answered probe stays answered

    def next(self) -> None:
        self.go(self.index + 1)

    def back(self) -> None:
        self.go(self.index - 1)

    def notify(self, kind: str, detail: Any = None) -> bool:
        """Report what the learner did; True if it met the current page's request."""
        w = self.page.wait_for
        if not w or self.done:
            return False
        met = (
            (kind == "action" and w.get("action") == detail)
            or (kind == "phase" and w.get("phase") == detail)
            or (kind == "attr" and list(w.get("attr", [])) == list(detail))
            or (kind == "steps" and "steps" in w and detail >= w["steps"])
            or (kind == "setting" and list(w.get("setting", [])) == list(detail))
        )
        self.done = bool(met)
        return self.done


def lesson_paths(directory: Path) -> list[Path]:
    return sorted((directory / "lessons").glob("*.lesson.json"))
