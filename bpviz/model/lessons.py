"""Lessons: a scene plus a short sequence of pages, stored as data files (no code per lesson).

A page may point at a node, a wire or a control, and may wait for the learner to do something
("press Backward", "change w") before the lesson moves on; Back and Next always work.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bpviz.engine.data_options import TWO_D_KINDS, USUAL_TRANSFORMS
from bpviz.engine.datasets import DATASET_KINDS, KIND_KEYS
from bpviz.engine.errors import BpvizError
from bpviz.engine.optim import TrainingConfig
from bpviz.engine.session import Session
from bpviz.model.probes import (
    Probe,
    ProbeAnswer,
    ProbeError,
    check_shape,
    parse_probe,
    score_lines,
)
from bpviz.scene import load_scene

LESSON_FORMAT = "bpviz-lesson"
# the buttons of the window's training toolbar, which a page can light up; a page can also
# wait for Train › Check Gradients, which has no button
TOOLBAR_CONTROLS = ("forward", "backward", "update", "step", "next_node", "run", "reset")
CONTROLS = (*TOOLBAR_CONTROLS, "check")
# the Training and Data panels' controls a page can point at: "training.KEY", "data.KEY",
# "data.kind.KIND" (a dataset picture), "data.feature.EXPR" (an input-feature tick box)
TRAINING_CONTROLS = ("optimizer", "lr", "momentum", "beta1", "beta2", "eps", "batch_size",
                     "seed", "eval_every", "weight_decay", "l1", "l2", "schedule")  # fmt: skip
DATA_CONTROLS = ("n", "noise", "test_fraction", "seed", "factor", "classes", "features",
                 "transforms")  # fmt: skip
PANEL_CONTROLS = (
    *(f"training.{key}" for key in TRAINING_CONTROLS),
    *(f"data.{key}" for key in DATA_CONTROLS),
    *(f"data.kind.{kind}" for kind in DATASET_KINDS),
    *(f"data.feature.{expr}" for expr, _ in USUAL_TRANSFORMS),
)
# the window's panels (docks) a page can bring to the front and frame: {"panel": NAME}
PANELS = {
    "nodes": "Nodes (the palette)",
    "inspector": "Inspector",
    "data": "Data",
    "training": "Training",
    "output": "Model output",
    "landscape": "Loss landscape",
    "loss": "Loss (the plot and the timeline)",
}
HIGHLIGHTS = ("node", "control", "panel")
WAIT_KINDS = {
    "action": "a control: " + ", ".join(CONTROLS),
    "phase": "a training phase, e.g. backward_done",
    "attr": "[node, attribute] changed",
    "steps": "at least this many optimizer steps in the history",
    "setting": '["training" or "data", key] changed, or [section, key, value] set to a value',
}
SETTING_SECTIONS = ("training", "data")
DATA_KEYS = frozenset({"kind", "seed", "test_fraction", "transforms"}.union(*KIND_KEYS.values()))


class LessonError(BpvizError):
    """A lesson file that cannot be used; names the file and the place."""


@dataclass(frozen=True)
class Page:
    title: str
    text: str
    # {"node": id} | {"control": name} | {"panel": name}
    highlight: dict[str, Any] = field(default_factory=dict)
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
            return f"change the {name} of {node} (on the canvas or in the Inspector)"
        if "steps" in w:
            return f"train until step {w['steps']}"
        if "setting" in w:
            section, key, *value = w["setting"]
            panel = f"in the {section.title()} panel"
            if not value:
                return f"change {key} {panel}"
            if key == "transforms":
                labels = dict(USUAL_TRANSFORMS)
                if isinstance(value[0], list):
                    named = ", ".join(labels.get(e, e) for e in value[0])
                    return f"make the input features {named} {panel}"
                return f"add the input feature {labels.get(value[0], value[0])} {panel}"
            return f"set {key} to {value[0]} {panel}"
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
    parsed = tuple(_page(path.name, i, p, ids) for i, p in enumerate(pages))
    _check_probe_shapes(path.name, scene, parsed)
    return Lesson(
        path, str(raw.get("title", path.stem)), str(raw.get("summary", "")), scene, parsed
    )


def wanted(setting: list[Any], current: Any) -> bool:
    """Whether a `wait_for.setting` request [section, key, value] is met by the setting's
    `current` value: equal to value, or, for a list (the input features), holding it."""
    if len(setting) < 3:
        return False
    value = setting[2]
    if isinstance(current, list) and not isinstance(value, list):
        return value in current
    return bool(current == value)


def _settings_after(data: dict[str, Any] | None, wait: dict[str, Any]) -> dict[str, Any] | None:
    """The data once a page's `wait_for.setting` [\"data\", key, value] is met: what later
    pages' probes see (adding a feature widens a layer's weights)."""
    setting = wait.get("setting", [])
    if len(setting) < 3 or setting[0] != "data":
        return data
    key, value = setting[1], setting[2]
    new = dict(data or {})
    if key == "transforms" and not isinstance(value, list):
        current = list(new.get("transforms") or _raw_features(new))
        new["transforms"] = current if value in current else [*current, value]
    else:
        new[key] = value
    return new


def _raw_features(data: dict[str, Any]) -> list[str]:
    """The features x1…xF the input node gets when `transforms` is absent."""
    kind = data.get("kind")
    count = 2 if kind in TWO_D_KINDS else int(data.get("features", 1))
    return [f"x{i + 1}" for i in range(count)]


def _check_probe_shapes(name: str, scene: Path, pages: tuple[Page, ...]) -> None:
    """Every probe reads exactly one number: its node (or parameter) holds one, or `index`
    picks one inside its shape. Shapes come from a forward pass of the scene with the data
    as it stands on the probe's page."""
    if not any(page.probe is not None for page in pages):
        return
    stat = scene.stat()
    stamp = (str(scene), stat.st_mtime_ns, stat.st_size)
    try:
        data = _scene_data(*stamp)
    except BpvizError as e:
        raise LessonError(f"{name}: scene: {e}") from None
    for i, page in enumerate(pages):
        if page.probe is not None:
            key = json.dumps(data, sort_keys=True, default=str)
            try:
                values, params = _shapes(*stamp, key)
            except BpvizError as e:
                raise LessonError(f"{name}: scene: a forward pass to check the probes failed "
                                  f"({e})") from None  # fmt: skip
            p = page.probe
            shape = params.get((p.node, p.param)) if p.param else values.get(p.node)
            try:
                check_shape(p, shape)
                if p.other is not None:
                    check_shape(Probe(p.other, p.quantity, p.ask, p.run), values.get(p.other))
            except ProbeError as e:
                raise LessonError(f"{name}: pages[{i}].probe.{e}") from None
        data = _settings_after(data, page.wait_for)


# Shapes are kept per (scene file as it is on disk, data): every window loads every lesson,
# and a forward pass per lesson would cost each one ~25 ms. Bounded: a few scenes and datas.
@functools.lru_cache(maxsize=64)
def _scene_data(scene: str, mtime_ns: int, size: int) -> dict[str, Any] | None:
    return load_scene(scene).data


@functools.lru_cache(maxsize=64)
def _shapes(
    scene: str, mtime_ns: int, size: int, data_json: str
) -> tuple[dict[str, tuple[int, ...]], dict[tuple[str, str], tuple[int, ...]]]:
    """Node value shapes and (node, parameter) shapes after a forward pass on the data."""
    loaded = load_scene(scene)
    session = Session(loaded.graph, json.loads(data_json), loaded.training, loaded.base_dir)
    session.forward()
    ex = session.executor
    values = {n: tuple(np.shape(ex.value(n))) for n in loaded.graph.nodes if ex.has_value(n)}
    params = {(n, k): a.shape for n, arrays in ex.params.items() for k, a in arrays.items()}
    return values, params


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
    if "setting" in wait:
        _check_setting(f"{where}.wait_for.setting", wait["setting"])
    highlight = raw.get("highlight", {"node": None})
    if not isinstance(highlight, dict) or len(highlight) != 1 or set(highlight) - {*HIGHLIGHTS}:
        raise LessonError(
            f'{where}.highlight: expected {{"node": ID}}, {{"control": NAME}} or {{"panel": NAME}}'
        )
    if "panel" in highlight and highlight["panel"] not in PANELS:
        raise LessonError(
            f"{where}.highlight.panel: no panel {highlight['panel']!r}; one of "
            f"{', '.join(PANELS)}"
        )
    if "control" in highlight and highlight["control"] not in TOOLBAR_CONTROLS + PANEL_CONTROLS:
        raise LessonError(
            f"{where}.highlight.control: no control {highlight['control']!r}; a toolbar "
            f"button ({', '.join(TOOLBAR_CONTROLS)}) or a panel control (training.KEY, "
            "data.KEY, data.kind.KIND, data.feature.EXPR; listed in docs/lessons.md)"
        )
    if highlight.get("node", "") is None:
        highlight = {}  # the page points at nothing
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


def _check_setting(where: str, setting: Any) -> None:
    """[section, key] or [section, key, value], with a key the section has."""
    if not (
        isinstance(setting, list) and len(setting) in (2, 3) and setting[0] in SETTING_SECTIONS
        and isinstance(setting[1], str) and setting[1]
    ):  # fmt: skip
        raise LessonError(f'{where}: ["training" or "data", a key] or [section, key, value]')
    section, key, *value = setting
    known = TrainingConfig.from_dict(None).to_dict() if section == "training" else DATA_KEYS
    if key not in known:
        raise LessonError(
            f"{where}: {section} has no key {key!r} (keys: {', '.join(sorted(known))})"
        )
    if value and section == "training":
        try:
            TrainingConfig.from_dict({key: value[0]})
        except BpvizError as e:
            raise LessonError(f"{where}: {e}") from None


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

    def _setting_met(self, detail: list[Any]) -> bool:
        """`detail` is [section, key, new value]; a request without a value takes any change."""
        setting = list(self.page.wait_for.get("setting", []))
        if setting[:2] != list(detail[:2]):
            return False
        return len(setting) == 2 or wanted(setting, detail[2])

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
            or (kind == "setting" and self._setting_met(detail))
        )
        self.done = bool(met)
        return self.done


def lesson_paths(directory: Path) -> list[Path]:
    return sorted((directory / "lessons").glob("*.lesson.json"))
