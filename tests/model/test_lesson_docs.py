"""docs/lessons.md is true: its worked example loads and does what its pages say, and it
names every control and every kind of request a lesson may use."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bpviz.model.document import Document
from bpviz.model.lessons import CONTROLS, WAIT_KINDS, LessonError, load_lesson
from bpviz.scene import load_scene

DOC = Path(__file__).resolve().parents[2] / "docs" / "lessons.md"


def _json_blocks() -> list[dict]:
    text = DOC.read_text(encoding="utf-8")
    return [json.loads(b) for b in re.findall(r"^```json\n(.*?)^```", text, flags=re.S | re.M)]


@pytest.fixture
def example(tmp_path: Path) -> Path:
    lesson, scene = _json_blocks()
    (tmp_path / "07_saturated.lesson.json").write_text(json.dumps(lesson), encoding="utf-8")
    (tmp_path / lesson["scene"]).write_text(json.dumps(scene), encoding="utf-8")
    return tmp_path / "07_saturated.lesson.json"


def test_the_worked_example_loads(example: Path) -> None:
    lesson = load_lesson(example)
    assert lesson.title == "7. A saturated tanh"
    assert [p.instruction() for p in lesson.pages] == [
        None,
        "press Backward",
        "change value of x in the inspector",
    ]
    doc = Document.from_scene_dict(load_scene(lesson.scene).to_dict())
    assert doc.pos("x")[0] < doc.pos("t")[0]  # no positions in the file: laid out


def test_what_the_example_says_about_the_gradient(example: Path) -> None:
    """x = 3 passes 1 − tanh(3)² ≈ 0.0099 back; x = 0.5 passes ≈ 0.79."""
    scene = load_scene(load_lesson(example).scene)
    scene.forward()
    scene.backward()
    assert float(scene.grad("x")) == pytest.approx(0.009866, abs=1e-6)


def test_every_control_and_request_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for control in CONTROLS:
        assert f"`{control}`" in text, control
    for kind in WAIT_KINDS:
        assert f"| `{kind}` |" in text, kind


def test_the_documented_error_is_the_real_one(example: Path) -> None:
    lesson = json.loads(example.read_text())
    lesson["pages"][1]["wait_for"] = {"action": "jump"}
    example.write_text(json.dumps(lesson))
    with pytest.raises(LessonError) as e:
        load_lesson(example)
    assert str(e.value).startswith(
        "07_saturated.lesson.json: pages[1].wait_for.action: one of forward, backward, "
    )
