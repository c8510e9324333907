"""Lesson files: what a page may point at, the settings it may wait for, and probes that
read one element of a node's or a layer's array."""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from bpviz.model.document import Document
from bpviz.model.lessons import LessonError, LessonProgress, load_lesson
from bpviz.model.probes import AnswerLog, one_number
from bpviz.model.settings import SetDataValue
from bpviz.model.training import TrainingController

ROOT = Path(__file__).resolve().parents[2]
SCENE = ROOT / "scenes" / "lessons" / "xor_one_layer.scene.json"  # x -> logit (dense, 1) -> loss


def lesson(tmp_path: Path, *pages: dict) -> Path:
    """A lesson on the one-neuron XOR scene with these pages."""
    shutil.copy(SCENE, tmp_path / "xor.scene.json")
    path = tmp_path / "x.lesson.json"
    path.write_text(json.dumps({"format": "bpviz-lesson", "scene": "xor.scene.json",
                                "pages": [{"text": "intro"}, *pages]}))  # fmt: skip
    return path


def error(path: Path) -> str:
    with pytest.raises(LessonError) as e:
        load_lesson(path)
    return str(e.value)


def test_a_highlighted_control_that_does_not_exist_is_named_with_file_and_page(
    tmp_path: Path,
) -> None:
    path = lesson(tmp_path, {"text": "t", "highlight": {"control": "training.optimiser"}})
    assert error(path) == (
        "x.lesson.json: pages[1].highlight.control: no control 'training.optimiser'; a toolbar "
        "button (forward, backward, update, step, next_node, run, reset) or a panel control "
        "(training.KEY, data.KEY, data.kind.KIND, data.feature.EXPR; listed in docs/lessons.md)"
    )
    # Check Gradients is a menu entry with no button: a page can wait for it, not light it
    path = lesson(tmp_path, {"text": "t", "highlight": {"control": "check"}})
    assert error(path).startswith("x.lesson.json: pages[1].highlight.control: no control 'check'")
    path = lesson(tmp_path, {"text": "t", "highlight": {"button": "step"}})
    assert error(path) == (
        'x.lesson.json: pages[1].highlight: expected {"node": ID}, {"control": NAME} or '
        '{"panel": NAME}'
    )


def test_a_highlighted_panel_must_be_one_of_the_windows_panels(tmp_path: Path) -> None:
    path = lesson(tmp_path, {"text": "t", "highlight": {"panel": "Loss landscape"}})
    assert error(path) == (
        "x.lesson.json: pages[1].highlight.panel: no panel 'Loss landscape'; one of nodes, "
        "inspector, data, training, output, landscape, loss"
    )
    path = lesson(tmp_path, {"text": "t", "highlight": {"panel": "landscape", "node": "x"}})
    assert error(path).startswith("x.lesson.json: pages[1].highlight: expected")
    loaded = load_lesson(lesson(tmp_path, {"text": "t", "highlight": {"panel": "landscape"}}))
    assert loaded.pages[1].highlight == {"panel": "landscape"}


@pytest.mark.parametrize(
    "control", ["step", "training.optimizer", "training.lr", "data.feature.x1*x2",
                "data.kind.moons", "data.noise", "data.transforms"],
)  # fmt: skip
def test_toolbar_and_panel_controls_are_accepted(tmp_path: Path, control: str) -> None:
    page = load_lesson(lesson(tmp_path, {"text": "t", "highlight": {"control": control}}))
    assert page.pages[1].highlight == {"control": control}


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (["training", "optimiser", "adam"],
         "training has no key 'optimiser' (keys: batch_size, beta1, beta2, eps, eval_every, l1, "
         "l2, lr, momentum, optimizer, schedule, seed, weight_decay)"),
        (["training", "optimizer", "nesterov"], "training.optimizer: "),
        (["data", "colour"], "data has no key 'colour'"),
    ],
)  # fmt: skip
def test_a_setting_request_names_a_bad_key_or_value(
    tmp_path: Path, setting: list, message: str
) -> None:
    path = lesson(tmp_path, {"text": "t", "wait_for": {"setting": setting}})
    assert error(path).startswith(f"x.lesson.json: pages[1].wait_for.setting: {message}")


def test_a_setting_request_with_a_value_is_met_by_that_value_only(tmp_path: Path) -> None:
    path = lesson(
        tmp_path,
        {"text": "t", "wait_for": {"setting": ["training", "optimizer", "momentum"]}},
        {"text": "t", "wait_for": {"setting": ["data", "transforms", "x1*x2"]}},
        {"text": "t", "wait_for": {"setting": ["training", "lr"]}},
    )
    progress = LessonProgress(load_lesson(path))
    progress.go(1)
    assert progress.page.instruction() == "set optimizer to momentum in the Training panel"
    assert not progress.notify("setting", ["training", "optimizer", "adam"])
    assert not progress.notify("setting", ["training", "lr", "momentum"])
    assert progress.notify("setting", ["training", "optimizer", "momentum"])
    progress.go(2)
    assert progress.page.instruction() == "add the input feature x₁·x₂ in the Data panel"
    assert not progress.notify("setting", ["data", "transforms", ["x1", "x2", "x1^2"]])
    assert progress.notify("setting", ["data", "transforms", ["x1", "x2", "x1*x2"]])
    progress.go(3)  # no value: any change of the key
    assert progress.notify("setting", ["training", "lr", 0.5])


def probe_page(**probe: object) -> dict:
    return {"text": "t", "probe": {"quantity": "value", "ask": "sign", **probe}}


def test_a_probe_on_an_array_needs_an_index_inside_its_shape(tmp_path: Path) -> None:
    assert error(lesson(tmp_path, probe_page(node="logit", param="W"))) == (
        "x.lesson.json: pages[1].probe.index: required: logit.W holds 2 numbers, shape (2, 1); "
        "pick one with [i, j, ...]"
    )
    assert error(lesson(tmp_path, probe_page(node="logit", param="W", index=[2, 0]))) == (
        "x.lesson.json: pages[1].probe.index: [2, 0] is outside the shape (2, 1) of logit.W"
    )
    assert error(lesson(tmp_path, probe_page(node="logit", param="W", index=[0]))) == (
        "x.lesson.json: pages[1].probe.index: [0] is outside the shape (2, 1) of logit.W"
    )
    assert error(lesson(tmp_path, probe_page(node="logit", param="V", index=[0, 0]))) == (
        "x.lesson.json: pages[1].probe.param: node 'logit' has no parameter 'V'"
    )
    assert error(lesson(tmp_path, probe_page(node="logit", index=[0, -1]))) == (
        "x.lesson.json: pages[1].probe.index: expected [i, j, ...], whole numbers from 0, "
        "got [0, -1]"
    )
    # the output of the layer: one row per point (four), one column per unit
    assert error(lesson(tmp_path, probe_page(node="logit"))) == (
        "x.lesson.json: pages[1].probe.index: required: logit holds 4 numbers, shape (4, 1); "
        "pick one with [i, j, ...]"
    )
    assert load_lesson(lesson(tmp_path, probe_page(node="logit", index=[3, 0])))


def test_a_probe_after_a_new_feature_sees_the_wider_layer(tmp_path: Path) -> None:
    feature = {"text": "t", "wait_for": {"setting": ["data", "transforms", "x1*x2"]}}
    page = probe_page(node="logit", param="W", index=[2, 0])
    assert load_lesson(lesson(tmp_path, feature, page)).pages[2].probe.index == (2, 0)
    assert "outside the shape (2, 1)" in error(lesson(tmp_path, page, feature))


def test_an_indexed_probe_reads_that_element_and_logs_its_name(tmp_path: Path) -> None:
    path = lesson(tmp_path, probe_page(node="logit", param="W", index=[1, 0], run="step"))
    probe = load_lesson(path).pages[1].probe
    assert probe.label("logit") == "logit.W[1, 0]"
    assert probe.text() == "After Step, will logit.W[1, 0] be negative, zero or positive?"
    w = np.array([[0.25], [-1.5]])
    assert one_number(probe, "logit", w) == -1.5
    progress = LessonProgress(load_lesson(path))
    progress.go(1)
    record = progress.answer("negative", [one_number(probe, "logit", w)])
    AnswerLog(tmp_path / "a.csv").append(record)
    row = list(csv.reader((tmp_path / "a.csv").open()))[1]
    assert row[3:] == ["logit.W[1, 0]", "value", "sign", "negative", "negative", "yes"]


def test_the_xor_feature_weight_is_negative_after_training() -> None:
    """The lesson's claim, checked on the document: with x1·x2 added in the data, one neuron
    learns XOR and the weight on x1·x2 ends negative."""
    document = Document.from_scene_dict(json.loads(SCENE.read_text()))
    controller = TrainingController(document, SCENE.parent)
    SetDataValue("transforms", ["x1", "x2", "x1*x2"]).redo(document)
    for _ in range(300):
        controller.step()
    w = controller.session.executor.params["logit"]["W"]
    assert w.shape == (3, 1) and w[2, 0] < -math.log(2)  # clearly negative, not near 0


def test_the_1986_lesson_quotes_the_trained_mirror_weights() -> None:
    """Lesson 10 says bit 1's weight on the first hidden unit is about −2.7 after its 1500
    steps; the paper's pattern makes bit 6's its mirror image."""
    path = ROOT / "scenes" / "symmetry_1986.json"
    document = Document.from_scene_dict(json.loads(path.read_text()))
    controller = TrainingController(document, path.parent)
    for _ in range(1500):
        controller.step()
    w = controller.session.executor.params["hidden"]["W"]
    assert round(float(w[0, 0]), 1) == -2.7 and round(float(w[5, 0]), 1) == 2.7
    text = (ROOT / "scenes" / "lessons" / "10_network_1986.lesson.json").read_text()
    assert "W[0, 0], about −2.7 now" in text and "About +2.7" in text


def test_the_documented_panel_pages_load_and_check_the_index(tmp_path: Path) -> None:
    """docs/lessons.md's second example (two pages) loads on the one-neuron XOR scene."""
    text = (ROOT / "docs" / "lessons.md").read_text(encoding="utf-8")
    block = re.findall(r"```json\n(.*?)```", text, re.S)[1]
    pages = json.loads(f"[{block}]")
    loaded = load_lesson(lesson(tmp_path, *pages))
    assert loaded.pages[1].highlight == {"control": "data.feature.x1*x2"}
    assert loaded.pages[2].probe.param == "W" and loaded.pages[2].probe.index == (2, 0)
