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

LESSON_FORMAT = "bpviz-lesson"
CONTROLS = ("forward", "backward", "update", "step", "next_node", "run", "reset", "check")
WAIT_KINDS = {
    "action": "a control: " + ", ".join(CONTROLS),
    "phase": "a training phase, e.g. backward_done",
    "attr": "[node, attribute] changed",
    "steps": "at least this many optimizer steps in the history",
}


class LessonError(BpvizError):
    """A lesson file that cannot be used; names the file and the place."""


@dataclass(frozen=True)
class Page:
    title: str
    text: str
    highlight: dict[str, Any] = field(default_factory=dict)  # {"node": id} | {"control": name}
    wait_for: dict[str, Any] = field(default_factory=dict)  # one key of WAIT_KINDS

    def instruction(self) -> str | None:
        """What the learner is asked to do, as a short phrase for the panel."""
        w = self.wait_for
        if "action" in w:
            return f"press {w['action'].replace('_', ' ').title()}"
        if "attr" in w:
            node, name = w["attr"]
            return f"change {name} of {node} in the inspector"
        if "steps" in w:
            return f"train until step {w['steps']}"
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
    return Lesson(
        path,
        str(raw.get("title", path.stem)),
        str(raw.get("summary", "")),
        scene,
        tuple(_page(path.name, i, p) for i, p in enumerate(pages)),
    )


def _page(name: str, i: int, raw: Any) -> Page:
    where = f"{name}: pages[{i}]"
    if not isinstance(raw, dict) or not isinstance(raw.get("text"), str):
        raise LessonError(f"{where}: a page needs a 'text'")
    wait = raw.get("wait_for") or {}
    if wait and (len(wait) != 1 or next(iter(wait)) not in WAIT_KINDS):
        raise LessonError(f"{where}.wait_for: one of {', '.join(WAIT_KINDS)}")
    if "action" in wait and wait["action"] not in CONTROLS:
        raise LessonError(f"{where}.wait_for.action: one of {', '.join(CONTROLS)}")
    highlight = raw.get("highlight") or {}
    if "control" in highlight and highlight["control"] not in CONTROLS:
        raise LessonError(f"{where}.highlight.control: one of {', '.join(CONTROLS)}")
    return Page(str(raw.get("title", "")), raw["text"], dict(highlight), dict(wait))


class LessonProgress:
    """Where a learner is in a lesson; `notify` events, and the page moves on when its
    request is met."""

    def __init__(self, lesson: Lesson) -> None:
        self.lesson = lesson
        self.index = 0
        self.done = False  # the current page's request has been met

    @property
    def page(self) -> Page:
        return self.lesson.pages[self.index]

    @property
    def waiting(self) -> bool:
        return bool(self.page.wait_for) and not self.done

    def go(self, index: int) -> None:
        self.index = max(0, min(index, len(self.lesson.pages) - 1))
        self.done = False

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
        )
        self.done = bool(met)
        return self.done


def lesson_paths(directory: Path) -> list[Path]:
    return sorted((directory / "lessons").glob("*.lesson.json"))
