"""Probes: how a lesson file's probe is checked, how an answer is judged, what the CSV keeps."""

from __future__ import annotations

import csv
import json
import re
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from bpviz import load_scene
from bpviz.engine.files import FileProblem
from bpviz.model.lessons import LessonError, LessonProgress, load_lesson
from bpviz.model.probes import AnswerLog, ProbeError, one_number, parse_probe

ROOT = Path(__file__).resolve().parents[2]
IDS = {"a", "b", "L"}


def lesson_file(tmp_path: Path, probe: object, **page: object) -> Path:
    shutil.copy(ROOT / "scenes" / "chain_rule.json", tmp_path / "chain_rule.json")
    path = tmp_path / "x.lesson.json"
    pages = [{"text": "one"}, {"text": "two", "probe": probe, **page}]
    path.write_text(json.dumps({"format": "bpviz-lesson", "scene": "chain_rule.json",
                                "pages": pages}))  # fmt: skip
    return path


@pytest.mark.parametrize(
    ("probe", "message"),
    [
        ({"node": "w9", "quantity": "grad", "ask": "sign"},
         "x.lesson.json: pages[1].probe.node: no node 'w9' in the lesson's scene"),
        ({"node": "a", "quantity": "slope", "ask": "sign"},
         "x.lesson.json: pages[1].probe.quantity: expected one of value, grad, got 'slope'"),
        ({"node": "a", "quantity": "grad", "ask": "guess"},
         "x.lesson.json: pages[1].probe.ask: expected one of sign, compare, estimate, got 'guess'"),
        ({"quantity": "grad", "ask": "sign"},
         "x.lesson.json: pages[1].probe.node: required (the node whose number is asked about)"),
        ({"node": "a", "quantity": "grad", "ask": "compare"},
         "x.lesson.json: pages[1].probe.other: required with ask 'compare' (the second node)"),
        ({"node": "a", "other": "a", "quantity": "grad", "ask": "compare"},
         "x.lesson.json: pages[1].probe.other: must differ from node 'a'"),
        ({"node": "a", "other": "zz", "quantity": "grad", "ask": "compare"},
         "x.lesson.json: pages[1].probe.other: no node 'zz' in the lesson's scene"),
        ({"node": "a", "other": "b", "quantity": "grad", "ask": "sign"},
         "x.lesson.json: pages[1].probe.other: only with ask 'compare'"),
        ({"node": "a", "quantity": "grad", "ask": "estimate", "tolerance": 1},
         "x.lesson.json: pages[1].probe.range: required with ask 'estimate' "
         "([low, high] of the slider)"),
        ({"node": "a", "quantity": "value", "ask": "estimate", "range": [2, 1], "tolerance": 1},
         "x.lesson.json: pages[1].probe.range: low must be below high, got [2, 1]"),
        ({"node": "a", "quantity": "value", "ask": "estimate", "range": [0, 2], "tolerance": 0},
         "x.lesson.json: pages[1].probe.tolerance: expected a number above 0 and at most 2 "
         "(the width of range), got 0"),
        ({"node": "a", "quantity": "grad", "ask": "sign", "run": "forward"},
         "x.lesson.json: pages[1].probe.run: forward computes no gradients; use backward or step"),
        ({"node": "a", "quantity": "grad", "ask": "sign", "times": 3},
         "x.lesson.json: pages[1].probe.times: only with run 'step'"),
        ({"node": "a", "quantity": "grad", "ask": "sign", "colour": "red"},
         "x.lesson.json: pages[1].probe.colour: unknown key (keys: node, quantity, ask, other, "
         "range, tolerance, run, times, question, param, index)"),
        ("a",
         "x.lesson.json: pages[1].probe.expected an object with node, quantity and ask"),
    ],
)  # fmt: skip
def test_a_bad_probe_names_the_page_and_the_key(tmp_path: Path, probe: object, message: str):
    with pytest.raises(LessonError) as e:
        load_lesson(lesson_file(tmp_path, probe))
    assert str(e.value) == message


def test_a_probe_page_cannot_also_wait_and_why_needs_a_probe(tmp_path: Path) -> None:
    probe = {"node": "a", "quantity": "grad", "ask": "sign"}
    with pytest.raises(LessonError, match=re.escape("pages[1]: a page has a probe or a wait_for")):
        load_lesson(lesson_file(tmp_path, probe, wait_for={"action": "backward"}))
    path = lesson_file(tmp_path, probe)
    raw = json.loads(path.read_text())
    raw["pages"][0]["why"] = "no probe here"
    path.write_text(json.dumps(raw))
    with pytest.raises(LessonError, match=re.escape("pages[0].why: one sentence of text, on a")):
        load_lesson(path)


def test_bad_training_settings_on_a_page_are_named(tmp_path: Path) -> None:
    path = lesson_file(tmp_path, {"node": "a", "quantity": "grad", "ask": "sign"})
    raw = json.loads(path.read_text())
    raw["pages"][0]["training"] = {"lr": -1}
    path.write_text(json.dumps(raw))
    with pytest.raises(LessonError) as e:
        load_lesson(path)
    assert str(e.value) == "x.lesson.json: pages[0].training.lr: -1 is out of range"


def test_defaults_and_generated_questions() -> None:
    grad = parse_probe({"node": "a", "quantity": "grad", "ask": "sign"}, IDS)
    assert (grad.run, grad.times) == ("backward", 1)
    assert grad.text() == "After Backward, will ∇a be negative, zero or positive?"
    value = parse_probe({"node": "L", "quantity": "value", "ask": "estimate", "range": [-1, 1],
                         "tolerance": 0.5, "run": "step", "times": 20}, IDS)  # fmt: skip
    assert value.text() == "After 20 presses of Step, roughly what will L be?"
    pair = parse_probe({"node": "a", "other": "b", "quantity": "grad", "ask": "compare"}, IDS)
    assert pair.text() == "After Backward, which is larger in size: ∇a or ∇b?"
    assert pair.choices() == [("node", "|∇a| larger"), ("equal", "Equal"), ("other", "|∇b| larger")]


def test_truths_and_verdicts() -> None:
    sign = parse_probe({"node": "a", "quantity": "grad", "ask": "sign"}, IDS)
    assert [sign.truth([x]) for x in (-0.001, 0.0, 1e-10, 2.0)] == [
        "negative", "zero", "zero", "positive"]  # fmt: skip
    pair = parse_probe({"node": "a", "other": "b", "quantity": "grad", "ask": "compare"}, IDS)
    assert [pair.truth(xy) for xy in ([6.0, -4.0], [-1.0, 3.0], [-2.0, 2.0])] == [
        "node", "other", "equal"]  # fmt: skip
    est = parse_probe({"node": "L", "quantity": "value", "ask": "estimate", "range": [-20, 20],
                       "tolerance": 1}, IDS)  # fmt: skip
    assert est.truth([-8.0]) == -8.0
    assert est.is_right(-7.0, -8.0) is True
    assert est.is_right(-6.9, -8.0) is False


def test_one_number_explains_what_is_missing() -> None:
    p = parse_probe({"node": "a", "quantity": "grad", "ask": "sign"}, IDS)
    assert one_number(p, "a", [[3.5]]) == 3.5
    for number, message in [
        (None, "∇a has no number after Backward"),
        ([1.0, 2.0], "∇a holds 2 numbers; a probe needs a node with one"),
        (float("nan"), "∇a is nan: the numbers overflowed"),
    ]:
        with pytest.raises(ProbeError) as e:
            one_number(p, "a", number)
        assert str(e.value) == message


def worked_example(tmp_path: Path) -> Path:
    """The lesson in docs/lessons.md, saved where its scene path resolves."""
    text = (ROOT / "docs" / "lessons.md").read_text()
    block = re.search(r"```json\n(.*?)```", text, re.S).group(1)
    folder = tmp_path / "lessons"
    folder.mkdir()
    shutil.copy(ROOT / "scenes" / "chain_rule.json", tmp_path / "chain_rule.json")
    (folder / "my.lesson.json").write_text(block)
    return folder / "my.lesson.json"


def test_the_documented_example_loads_and_scores_as_documented(tmp_path: Path) -> None:
    lesson = load_lesson(worked_example(tmp_path))
    scene = load_scene(lesson.scene)
    scene.forward()
    scene.backward()
    progress = LessonProgress(lesson)
    for answer in (8.0, "positive", "node"):
        probe = progress.page.probe
        numbers = [float(scene.value(n) if probe.quantity == "value" else scene.grad(n))
                   for n in probe.nodes()]  # fmt: skip
        progress.answer(answer, numbers)
        progress.next()
    assert progress.summary() == [
        "2 of 3 right",
        "Page 1 (L): wrong: you said 8, it was -8",
        "Page 2 (∇a): right: you said positive, it was positive",
        "Page 3 (∇a): right: you said |∇a| larger, it was |∇a| larger",
    ]


def test_the_answer_log_keeps_every_row(tmp_path: Path) -> None:
    lesson = load_lesson(worked_example(tmp_path))
    progress = LessonProgress(lesson)
    log = AnswerLog(tmp_path / "data" / "answers.csv")
    when = datetime(2026, 1, 2, 3, 4, 5)
    log.append(progress.answer(-7.5, [-8.0]), when)
    progress.next()
    log.append(progress.answer("negative", [6.0]), when)
    rows = list(csv.reader((tmp_path / "data" / "answers.csv").open()))
    assert rows == [
        ["time", "lesson", "page", "node", "quantity", "ask", "answer", "truth", "right"],
        ["2026-01-02T03:04:05", "my.lesson.json", "1", "L", "value", "estimate", "-7.5", "-8.0",
         "yes"],
        ["2026-01-02T03:04:05", "my.lesson.json", "2", "a", "grad", "sign", "negative",
         "positive", "no"],
    ]  # fmt: skip


def test_an_unreadable_log_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    path.write_bytes(b"time,lesson\n\xff\xfe\n")
    lesson = load_lesson(worked_example(tmp_path))
    with pytest.raises(FileProblem, match="not UTF-8"):
        AnswerLog(path).append(LessonProgress(lesson).answer(1.0, [-8.0]))
    assert path.read_bytes() == b"time,lesson\n\xff\xfe\n"


def test_a_bad_setting_request_is_named(tmp_path: Path) -> None:
    path = lesson_file(tmp_path, {"node": "a", "quantity": "grad", "ask": "sign"})
    raw = json.loads(path.read_text())
    raw["pages"][0]["wait_for"] = {"setting": ["optimizer", "lr"]}
    path.write_text(json.dumps(raw))
    with pytest.raises(LessonError) as e:
        load_lesson(path)
    assert str(e.value) == (
        'x.lesson.json: pages[0].wait_for.setting: ["training" or "data", a key] or '
        "[section, key, value]"
    )
